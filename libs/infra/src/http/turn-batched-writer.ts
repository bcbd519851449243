import type { ServerResponse } from 'node:http';
import { untilWritableWithin } from './until-writable';

/** Held past this size (characters of text, bytes of buffers), a turn's writes go out at once. */
const MAX_HELD_SIZE = 64 * 1024;

/**
 * How long a write may wait for the client to take more before the connection is dropped:
 * a client that reads nothing for this long has stopped reading (nginx's send_timeout,
 * 60 s). A slow reader drains far more often, and each wait is timed on its own.
 */
export const CLIENT_SEND_TIMEOUT_MS = 60_000;

/**
 * Writes a streamed HTTP response so that what is written within one turn of the event
 * loop leaves in one socket write: writes are held and sent together when the turn's I/O
 * callbacks are done (`setImmediate`), or with the end.
 *
 * Why: Node coalesces the writes of one tick only, and a stream's end comes a tick after
 * its last events (the upstream body's 'end'), so a stream whose events arrived together
 * went out as three socket writes (the headers, the events, the end); on loopback each is
 * a syscall that wakes the reader. Events that arrive apart in time still leave one by
 * one, each by the end of the turn it arrived in. Node's `cork()` cannot do this: `end()`
 * uncorks fully and sends the end's own pieces one write each.
 */
export class TurnBatchedWriter {
  private held: (string | Uint8Array)[] = [];
  private heldSize = 0;
  private headersOut = false;
  private full = false;
  private flush: NodeJS.Immediate | undefined;

  constructor(
    private readonly response: ServerResponse,
    private readonly sendTimeoutMs = CLIENT_SEND_TIMEOUT_MS,
  ) {}

  /** Sets the status and headers; they leave with this turn's first bytes, or alone at its end. */
  writeHead(status: number, headers: Record<string, string>): void {
    this.response.writeHead(status, headers);
    this.schedule();
  }

  /**
   * Writes, resolving once the response can take more (see `untilWritable`), or once it is
   * dropped for a client that took nothing for the send timeout.
   */
  async write(data: string | Uint8Array): Promise<void> {
    this.held.push(data);
    this.heldSize += data.length;
    if (this.heldSize >= MAX_HELD_SIZE) this.send();
    else this.schedule();
    if (this.full) {
      await untilWritableWithin(this.response, this.sendTimeoutMs);
      this.full = this.response.writableNeedDrain;
    }
  }

  /** Ends the response with its last bytes, sending what is held with them. */
  end(data: string | Uint8Array): void {
    this.cancel();
    if (this.response.writableEnded) return;
    const held = this.take();
    // One piece and the end in one tick: Node sends them in one socket write.
    if (held !== undefined) this.response.write(held);
    this.response.end(data);
  }

  private schedule(): void {
    this.flush ??= setImmediate(this.send);
  }

  private cancel(): void {
    if (this.flush) clearImmediate(this.flush);
    this.flush = undefined;
  }

  private readonly send = (): void => {
    this.cancel();
    if (this.response.writableEnded) return;
    const held = this.take();
    if (held !== undefined) this.full = !this.response.write(held);
    else if (!this.headersOut) this.response.flushHeaders();
    this.headersOut = true;
  };

  /**
   * What is held, as one piece: a chunked response frames each write (size, data, CRLF),
   * so a hundred events written one by one were three hundred pieces for the kernel.
   */
  private take(): string | Uint8Array | undefined {
    const pieces = this.held;
    if (pieces.length === 0) return undefined;
    this.held = [];
    this.heldSize = 0;
    if (pieces.length === 1) return pieces[0];
    if (pieces.every((piece) => typeof piece === 'string')) return pieces.join('');
    return Buffer.concat(
      pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)),
    );
  }
}
