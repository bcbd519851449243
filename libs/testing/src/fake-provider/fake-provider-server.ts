import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeBehaviour } from './fake-openai-upstream';

/** One request a provider fake received, as sent (raw body kept for signature checks). */
export interface ProviderFakeCall {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: IncomingMessage['headers'];
  readonly rawBody: Buffer;
  readonly body: Record<string, unknown>;
}

/**
 * What a provider fake does for one request: the OpenAI fake's behaviours, plus an
 * error event in the provider's own stream format after a few chunks.
 */
export type ProviderFakeBehaviour =
  | FakeBehaviour
  | { kind: 'stream-error'; afterChunks: number }
  /** Answers exactly this JSON with status 200 (a fixture from the provider's reference). */
  | { kind: 'json'; body: unknown };

/** The normal answer modes a provider fake implements in its own wire format. */
export type AnswerMode =
  | { kind: 'ok' }
  | { kind: 'break-stream'; afterChunks: number }
  | { kind: 'stream-error'; afterChunks: number };

/**
 * The HTTP side every provider fake shares: records calls, plays queued behaviours
 * (status codes with headers, hangs, garbage), and leaves real answers to the subclass.
 */
export abstract class FakeProviderServer {
  readonly calls: ProviderFakeCall[] = [];
  private readonly server: Server;
  private readonly queue: ProviderFakeBehaviour[] = [];
  private fallbackBehaviour: ProviderFakeBehaviour = { kind: 'ok' };
  private port = 0;

  constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 60_000;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The origin, e.g. http://127.0.0.1:PORT (subclasses add their API's path). */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  next(...behaviours: ProviderFakeBehaviour[]): this {
    this.queue.push(...behaviours);
    return this;
  }

  always(behaviour: ProviderFakeBehaviour): this {
    this.fallbackBehaviour = behaviour;
    return this;
  }

  reset(): void {
    this.calls.length = 0;
    this.queue.length = 0;
    this.fallbackBehaviour = { kind: 'ok' };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers a request in the provider's format; `mode` says whether to break or fail. */
  protected abstract answer(
    call: ProviderFakeCall,
    response: ServerResponse,
    mode: AnswerMode,
  ): void | Promise<void>;

  /** The provider's error body for a status the test asked for. */
  protected errorBody(status: number): unknown {
    return { error: { message: `fake ${status}`, type: 'fake_error' } };
  }

  /** A check on every request before it is answered (e.g. a signature); a status rejects it. */
  protected reject(_call: ProviderFakeCall): number | undefined {
    return undefined;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(rawBody.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      // recorded as empty; the test asserts on what it sent
    }
    const url = new URL(request.url ?? '/', 'http://fake');
    const call: ProviderFakeCall = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      rawBody,
      body,
    };
    this.calls.push(call);
    const rejected = this.reject(call);
    if (rejected !== undefined) return sendJson(response, this.errorBody(rejected), rejected);
    const behaviour = this.queue.shift() ?? this.fallbackBehaviour;

    switch (behaviour.kind) {
      case 'hang':
        return; // never answers; the gateway's timeout must fire
      case 'status':
        return sendJson(
          response,
          behaviour.body ?? this.errorBody(behaviour.status),
          behaviour.status,
          behaviour.headers,
        );
      case 'garbage':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('<html>not json</html>');
        return;
      case 'json':
        return sendJson(response, behaviour.body);
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, behaviour.ms));
        return this.answer(call, response, { kind: 'ok' });
      case 'ok':
      case 'break-stream':
      case 'stream-error':
        return this.answer(call, response, behaviour);
    }
  }
}

export function sendJson(
  response: ServerResponse,
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * Writes server-sent events, stopping per `mode`: after `afterChunks` events it drops the
 * connection (break-stream) or lets the subclass send its error event (stream-error).
 * Returns false when the stream was cut and the caller must stop.
 */
export class SseWriter {
  private sent = 0;

  constructor(
    private readonly response: ServerResponse,
    private readonly mode: AnswerMode,
    private readonly errorEvent?: { event?: string; data: unknown },
  ) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  }

  /** Sends one event, or cuts the stream if the behaviour says so; false once cut. */
  send(data: unknown, event?: string): boolean {
    if (this.mode.kind !== 'ok' && this.sent >= this.mode.afterChunks) {
      if (this.mode.kind === 'stream-error' && this.errorEvent) {
        this.write(this.errorEvent.data, this.errorEvent.event);
        this.response.end();
      } else {
        // Let the client see the first events, then drop the connection mid-answer.
        setTimeout(() => this.response.destroy(), 20);
      }
      return false;
    }
    this.sent += 1;
    this.write(data, event);
    return true;
  }

  end(trailer?: string): void {
    this.response.end(trailer);
  }

  private write(data: unknown, event?: string): void {
    const line = typeof data === 'string' ? data : JSON.stringify(data);
    this.response.write(`${event ? `event: ${event}\n` : ''}data: ${line}\n\n`);
  }
}
