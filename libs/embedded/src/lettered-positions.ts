/**
 * Per stream (a consumer group's read of the log, a Kafka partition), the positions whose
 * events went to the dead-letter topic while their range is not committed yet: a
 * redelivery of the range reads them again and must neither hand them over nor letter
 * them again. Forgotten once the committed position passes them.
 */
export class LetteredPositions<Stream, Position> {
  readonly #byStream = new Map<Stream, Set<Position>>();

  /** Streams with a letter not yet passed: none lets a caller skip building a key. */
  get size(): number {
    return this.#byStream.size;
  }

  add(stream: Stream, position: Position): void {
    let lettered = this.#byStream.get(stream);
    if (!lettered) this.#byStream.set(stream, (lettered = new Set()));
    lettered.add(position);
  }

  /** The stream's lettered positions, undefined when it has none. */
  of(stream: Stream): ReadonlySet<Position> | undefined {
    return this.#byStream.get(stream);
  }

  /** The stream's position moved: the letters it `passed` are never read again. */
  forgetPassed(stream: Stream, passed: (position: Position) => boolean): void {
    const lettered = this.#byStream.get(stream);
    if (!lettered) return;
    for (const position of lettered) if (passed(position)) lettered.delete(position);
    if (lettered.size === 0) this.#byStream.delete(stream);
  }
}
