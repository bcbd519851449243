import type { DataPlaneError } from '@aigw/contracts/data-plane';

const CRLF = Buffer.from('\r\n');

/** The errors a multipart body's read ends with: each reader words its own. */
export interface MultipartScanErrors {
  /** The body passed its limit (a 413). */
  readonly tooLarge: () => DataPlaneError;
  /** The body ended before the delimiter it was read up to (a 400). */
  readonly endsEarly: () => DataPlaneError;
}

/**
 * The part of reading a multipart body both its readers share (the Files API's form, the
 * Gemini simple upload): the body's chunks taken as they arrive and counted against a
 * limit, and a part's bytes given out up to the next delimiter, only the tail that may
 * hold that delimiter kept back. Its readers read the part headers their own way.
 */
export class MultipartScan {
  protected readonly source: AsyncIterator<unknown>;
  /** The bytes read and not yet given out; the first delimiter is found after a CRLF too. */
  protected held: Buffer = CRLF;
  private readonly delimiter: Buffer;
  protected state: 'preamble' | 'head' | 'content' | 'done' = 'preamble';
  protected received = 0;

  constructor(
    body: AsyncIterable<unknown>,
    boundary: string,
    /** The whole body's limit: past it, `errors.tooLarge`. */
    private readonly maxBytes: number,
    protected readonly errors: MultipartScanErrors,
  ) {
    this.source = body[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  /** The current part's (or the preamble's) bytes as they arrive, up to the next delimiter. */
  protected async *untilDelimiter(endsEarly = this.errors.endsEarly): AsyncGenerator<Buffer> {
    if (this.state !== 'content' && this.state !== 'preamble') return;
    for (;;) {
      const at = this.held.indexOf(this.delimiter);
      if (at !== -1) {
        const before = this.held.subarray(0, at);
        this.held = this.held.subarray(at + this.delimiter.length);
        this.state = 'head';
        if (before.length > 0) yield before;
        return;
      }
      // All but a tail that may be the start of the delimiter can go.
      const kept = this.delimiterStart();
      if (kept > 0) {
        const out = this.held.subarray(0, kept);
        this.held = this.held.subarray(kept);
        yield out;
      }
      if (!(await this.more())) throw endsEarly();
    }
  }

  /** The current part whole, at most `max` bytes (`tooLong` past it). */
  protected async whole(max: number, tooLong: () => DataPlaneError): Promise<string> {
    const pieces: Buffer[] = [];
    let size = 0;
    for await (const piece of this.untilDelimiter()) {
      size += piece.length;
      if (size > max) throw tooLong();
      pieces.push(piece);
    }
    return Buffer.concat(pieces).toString('utf8');
  }

  /**
   * Where in `held` (which holds no whole delimiter) a delimiter may begin, cut by the end
   * of what came so far: its length when nowhere. Usually nowhere, so the next chunk is
   * read on its own rather than copied onto a kept tail.
   */
  private delimiterStart(): number {
    const { held, delimiter } = this;
    for (let at = Math.max(0, held.length - delimiter.length + 1); at < held.length; at++) {
      at = held.indexOf(0x0d, at);
      if (at === -1) break;
      if (delimiter.subarray(0, held.length - at).equals(held.subarray(at))) return at;
    }
    return held.length;
  }

  protected async atLeast(bytes: number): Promise<void> {
    while (this.held.length < bytes) {
      if (!(await this.more())) throw this.errors.endsEarly();
    }
  }

  /** Reads the next chunk of the body onto `held`; false at its end. */
  protected async more(): Promise<boolean> {
    const next = await this.source.next();
    if (next.done) return false;
    const value = next.value as Uint8Array | string;
    const chunk =
      typeof value === 'string'
        ? Buffer.from(value)
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    this.received += chunk.length;
    if (this.received > this.maxBytes) throw this.errors.tooLarge();
    this.held = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    return true;
  }
}
