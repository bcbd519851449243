import { Transform, type TransformCallback } from 'node:stream';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/**
 * The longest line of a batch file the gateway reads while streaming it (64 MiB): one
 * request's answer, far above any a backend writes (a chat answer of 100k tokens is under
 * 1 MB), and what a download or a bill holds in memory at most, whatever the file's size.
 */
export const MAX_BATCH_LINE_BYTES = 64 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/** A line longer than the cap: the file is not read further. */
function lineTooLong(maxLineBytes: number): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.UpstreamBadResponse,
    `A line of the batch file is longer than ${maxLineBytes} bytes, the most the gateway reads as one line`,
  );
}

/**
 * Cuts a byte stream into lines at `\n`. It splits bytes, not text, so a UTF-8 character
 * cut between chunks is whole again in its line (no byte of one is `\n`). Each line comes
 * with its own ending (`\n`, `\r\n`, or none for a last line without one), so the file can
 * be written back byte for byte; only the unfinished line is held between chunks.
 */
export class LineSplitter {
  private pieces: Buffer[] = [];
  private held = 0;
  /** The line being read is longer than the cap: only its last bytes are kept. */
  private cut = false;

  constructor(
    private readonly maxLineBytes = MAX_BATCH_LINE_BYTES,
    /** The failure for a longer line (a backend's file is a 502; a client's upload, a 400). */
    private readonly tooLong: (maxLineBytes: number) => Error = lineTooLong,
    /** Given, a longer line is no failure: its last `tailBytes` go to `each` instead. */
    private readonly overLong?: OverLongLines,
  ) {}

  push(chunk: Uint8Array, each: (content: Buffer, ending: string) => void): void {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, start)) {
      const tail = bytes.subarray(start, at);
      start = at + 1;
      if (this.cut || this.held + tail.length > this.maxLineBytes) {
        this.keepTail(tail);
        this.endCutLine();
        continue;
      }
      const line = this.held === 0 ? tail : Buffer.concat([...this.pieces, tail]);
      this.pieces = [];
      this.held = 0;
      if (line.length > 0 && line[line.length - 1] === CR) each(line.subarray(0, -1), '\r\n');
      else each(line, '\n');
    }
    if (start < bytes.length) {
      const rest = bytes.subarray(start);
      if (this.cut || this.held + rest.length > this.maxLineBytes) {
        this.keepTail(rest);
        return;
      }
      this.pieces.push(rest);
      this.held += rest.length;
    }
  }

  /** More of a line past the cap: a failure, or only its last `tailBytes` kept. */
  private keepTail(piece: Buffer): void {
    if (!this.overLong) throw this.tooLong(this.maxLineBytes);
    this.cut = true;
    this.pieces.push(piece);
    this.held += piece.length;
    while (this.pieces.length > 1 && this.held - this.pieces[0].length >= this.overLong.tailBytes) {
      this.held -= this.pieces.shift()!.length;
    }
  }

  private endCutLine(): void {
    const line = Buffer.concat(this.pieces);
    this.pieces = [];
    this.held = 0;
    this.cut = false;
    this.overLong!.each(line.subarray(Math.max(0, line.length - this.overLong!.tailBytes)));
  }

  /** The last line, when the file does not end with a newline. */
  end(each: (content: Buffer, ending: string) => void): void {
    if (this.cut) return this.endCutLine();
    if (this.held === 0) return;
    const line = Buffer.concat(this.pieces);
    this.pieces = [];
    this.held = 0;
    if (line[line.length - 1] === CR) each(line.subarray(0, -1), '\r');
    else each(line, '');
  }
}

/** What becomes of a line longer than the cap when it is no failure: its last bytes are read. */
export interface OverLongLines {
  readonly tailBytes: number;
  readonly each: (tail: Buffer) => void;
}

/**
 * What to do with one line's text (without its ending): a new text for it, or undefined
 * to pass its bytes on as they came. Blank lines never reach it. Throwing fails the stream.
 */
export type LineMap = (line: string) => string | undefined;

/** A line `String.trim` empties (as the whole-text reading skips them); decoded only when no byte says otherwise. */
export function isBlankLine(content: Buffer): boolean {
  for (const byte of content) if (byte > 0x20 && byte < 0x7f) return false;
  return content.toString('utf8').trim() === '';
}

/**
 * A JSONL file's bytes in, each line mapped by `each` out: one line in memory at a time
 * (at most `maxLineBytes`, else the stream fails), and a Transform's backpressure, so a
 * slow reader slows the read of the source. `onEnd` runs once every line has been seen
 * (never when the stream fails or is destroyed before its end).
 */
export class JsonlLineTransform extends Transform {
  private readonly splitter: LineSplitter;
  private started = false;
  private bytesIn = 0;
  private readonly start: Promise<void>;
  private settleStart!: (error?: Error) => void;

  constructor(
    private readonly each: LineMap,
    private readonly options: { maxLineBytes?: number; onEnd?: () => void } = {},
  ) {
    super();
    this.splitter = new LineSplitter(options.maxLineBytes);
    this.start = new Promise<void>((resolve, reject) => {
      this.settleStart = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Read by `firstOutput` only: never an unhandled rejection when no one waits.
    this.start.catch(() => undefined);
  }

  /**
   * Settles once the first bytes are out or the input ended empty (resolves), or the
   * stream failed first (rejects): the moment a download can still answer with an error.
   */
  firstOutput(): Promise<void> {
    return this.start;
  }

  /** The bytes that came in so far. */
  get bytesRead(): number {
    return this.bytesIn;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const out: Buffer[] = [];
    this.bytesIn += chunk.length;
    try {
      this.splitter.push(chunk, (content, ending) => this.mapLine(content, ending, out));
    } catch (error) {
      done(error as Error);
      return;
    }
    this.emitOut(out);
    done();
  }

  override _flush(done: TransformCallback): void {
    const out: Buffer[] = [];
    try {
      this.splitter.end((content, ending) => this.mapLine(content, ending, out));
    } catch (error) {
      done(error as Error);
      return;
    }
    this.emitOut(out);
    this.options.onEnd?.();
    this.markStarted();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (!this.started) this.settleStart(error ?? new Error('the batch file stream was closed'));
    this.started = true;
    done(error);
  }

  private mapLine(content: Buffer, ending: string, out: Buffer[]): void {
    const mapped = isBlankLine(content) ? undefined : this.each(content.toString('utf8'));
    out.push(mapped === undefined ? content : Buffer.from(mapped, 'utf8'));
    if (ending !== '') out.push(Buffer.from(ending, 'latin1'));
  }

  private emitOut(out: Buffer[]): void {
    if (out.length === 0) return;
    this.push(out.length === 1 ? out[0] : Buffer.concat(out));
    this.markStarted();
  }

  private markStarted(): void {
    if (this.started) return;
    this.started = true;
    this.settleStart();
  }
}

/** Calls `each` on every non-blank line of a byte stream, one line in memory at a time. */
export async function forEachLine(
  source: AsyncIterable<Uint8Array>,
  each: (line: string) => void,
  maxLineBytes = MAX_BATCH_LINE_BYTES,
  overLong?: OverLongLines,
): Promise<void> {
  const splitter = new LineSplitter(maxLineBytes, undefined, overLong);
  const seen = (content: Buffer) => {
    if (!isBlankLine(content)) each(content.toString('utf8'));
  };
  for await (const chunk of source) splitter.push(chunk, seen);
  splitter.end(seen);
}
