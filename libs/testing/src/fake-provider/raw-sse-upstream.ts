import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RawSseUpstreamOptions {
  /** Prepended to every path the adapter calls (`/v1beta` for Gemini). */
  readonly basePath?: string;
  /** Name each event by its `type` field (`event: <type>`), as Cohere and Anthropic do. */
  readonly nameEventsByType?: boolean;
}

/**
 * A backend that answers every request with the next queued server-sent events exactly as
 * given, for the streams no documented fake would send: events that are not objects, out
 * of order, or a connection dropped midway.
 */
export class RawSseUpstream {
  private readonly answers: { text: string; drop: boolean; stall: boolean }[] = [];
  /** Stalled answers whose connection the caller closed (it gave up waiting). */
  stallsClosed = 0;
  private readonly server = createServer((request, response) => {
    request.resume();
    request.on('end', () => this.answer(response));
  });

  constructor(private readonly options: RawSseUpstreamOptions = {}) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get baseUrl(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${this.options.basePath ?? ''}`;
  }

  /**
   * Queues one answer, one event per item (a string is sent as it is, anything else as
   * JSON); `drop` cuts the connection after them instead of ending the response, `stall`
   * keeps it open and silent until the caller closes it.
   */
  next(events: readonly unknown[], options: { drop?: boolean; stall?: boolean } = {}): this {
    this.answers.push({
      text: events.map((e) => this.eventText(e)).join(''),
      drop: !!options.drop,
      stall: !!options.stall,
    });
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private eventText(event: unknown): string {
    if (typeof event === 'string') return `data: ${event}\n\n`;
    const type = (event as { type?: unknown } | null)?.type;
    const name =
      this.options.nameEventsByType && typeof type === 'string' ? `event: ${type}\n` : '';
    return `${name}data: ${JSON.stringify(event)}\n\n`;
  }

  private answer(response: ServerResponse): void {
    const next = this.answers.shift() ?? { text: '', drop: false, stall: false };
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(next.text);
    if (next.drop) setTimeout(() => response.destroy(), 20);
    else if (next.stall) response.once('close', () => this.stallsClosed++);
    else response.end();
  }
}
