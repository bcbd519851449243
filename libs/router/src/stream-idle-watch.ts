/** The longest a Node timer waits (2^31 - 1 ms); one set longer fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Bounds the wait for each event of a stream that has started (`streamIdleTimeout`).
 * Only the time spent waiting on the upstream counts: while the client is slow to read, the
 * stream is paused at our end, which is no stall of the backend's.
 *
 * Cheap on purpose: one timer per stream, re-armed only when it fires (at most once per
 * idle period, for the time left of the wait under way); an event costs reading the clock
 * and one promise, settled by handlers made once per stream (waits come one at a time).
 * A timer that finds no wait under way lets go (a slow reader, or a consumer that dropped
 * the stream without ending it, which must not keep it alive); the next wait arms another.
 */
export class StreamIdleWatch<T> {
  /** When the wait under way began (performance.now()); undefined between waits. */
  #waitingSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Settle the wait under way (or, between waits, the last one: settling it again is a no-op). */
  #resolve: ((result: IteratorResult<T>) => void) | undefined;
  #reject: ((error: Error) => void) | undefined;
  #stalled: Error | undefined;

  /**
   * @param stalled the error the wait is rejected with once it lasted `idleMs`; it is also
   * given to `onStall` first, which should cancel the upstream call.
   */
  constructor(
    private readonly events: AsyncIterator<T>,
    private readonly idleMs: number,
    private readonly stalled: () => Error,
    private readonly onStall: (error: Error) => void,
  ) {}

  /** Whether the stream was given up for stalling (its iterator may still be waiting). */
  get hasStalled(): boolean {
    return this.#stalled !== undefined;
  }

  /** The next event, or the stall error once the upstream was silent for `idleMs`. */
  next(): Promise<IteratorResult<T>> {
    if (this.#stalled) return Promise.reject(this.#stalled);
    this.#waitingSince = performance.now();
    this.#timer ??= this.#arm(this.idleMs);
    const wait = new Promise<IteratorResult<T>>(this.#hold);
    this.events.next().then(this.#came, this.#failed);
    return wait;
  }

  readonly #hold = (
    resolve: (result: IteratorResult<T>) => void,
    reject: (error: Error) => void,
  ): void => {
    this.#resolve = resolve;
    this.#reject = reject;
  };

  readonly #came = (result: IteratorResult<T>): void => {
    this.#waitingSince = undefined;
    this.#resolve?.(result);
  };

  /** An adapter's stream fails with a DataPlaneError (or its signal's reason). */
  readonly #failed = (error: Error): void => {
    this.#waitingSince = undefined;
    this.#reject?.(error);
  };

  /** The stream is over: the timer goes. */
  stop(): void {
    clearTimeout(this.#timer);
  }

  #arm(ms: number): NodeJS.Timeout {
    // A longer wait (an image stream's is its request timeout, which may be days) is
    // checked again when this one fires.
    const timer = setTimeout(this.#check, Math.min(ms, MAX_TIMER_MS));
    timer.unref(); // a stream left waiting must not hold the process open
    return timer;
  }

  readonly #check = (): void => {
    const since = this.#waitingSince;
    if (since === undefined) {
      this.#timer = undefined;
      return;
    }
    const waited = performance.now() - since;
    if (waited < this.idleMs) {
      // Waiting for less than the limit: the time left.
      this.#timer = this.#arm(this.idleMs - waited);
      return;
    }
    const error = this.stalled();
    this.#stalled = error;
    this.onStall(error);
    this.#reject?.(error);
  };
}
