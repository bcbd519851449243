// A Realtime API backend for tests: a WebSocket server at any path speaking the documented
// GA events (session.created, session.update -> session.updated, response.create ->
// response.created, audio and transcript deltas, response.done with usage). It records
// each upgrade (URL, headers) and the events it got; `test.close` makes it close (1011).
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/** A Realtime event as a test reads it. */
export type RealtimeTestEvent = Record<string, unknown> & { type: string };
type Event = RealtimeTestEvent;

/** One response's usage as OpenAI reports it: 100 cached tokens, 20 of them audio. */
export const FAKE_REALTIME_USAGE = {
  total_tokens: 1500,
  input_tokens: 1000,
  output_tokens: 500,
  input_token_details: {
    text_tokens: 400,
    audio_tokens: 600,
    image_tokens: 0,
    cached_tokens: 100,
    cached_tokens_details: { text_tokens: 80, audio_tokens: 20, image_tokens: 0 },
  },
  output_token_details: { text_tokens: 100, audio_tokens: 400 },
};

/** A transcription's usage as OpenAI reports it for token-billed models (gpt-4o-transcribe). */
export const FAKE_TRANSCRIPTION_USAGE = {
  type: 'tokens',
  total_tokens: 230,
  input_tokens: 200,
  input_token_details: { text_tokens: 20, audio_tokens: 180 },
  output_tokens: 30,
};
/** And for whisper-1, billed by the minute. */
export const FAKE_WHISPER_USAGE = { type: 'duration', seconds: 12 };

export interface RealtimeUpgrade {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** A Realtime backend: records each upgrade and the frames it got, answers as documented. */
export class FakeRealtimeUpstream {
  readonly upgrades: RealtimeUpgrade[] = [];
  readonly received: Event[] = [];
  /** Refuse the next upgrades with this HTTP status. */
  refuseWith?: number;
  usage: Record<string, unknown> = FAKE_REALTIME_USAGE;
  /**
   * Responses run until the client cancels them (`response.cancel`), then end in a
   * `response.done` (status cancelled, with `usage`), as OpenAI's do.
   */
  holdResponses = false;
  private readonly server: Server = createServer((_, res) => res.writeHead(404).end());
  private readonly sockets = new WebSocketServer({ noServer: true });

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server.on('upgrade', (request, socket, head) => {
      this.upgrades.push({ url: request.url ?? '', headers: request.headers });
      if (this.refuseWith) {
        socket.end(`HTTP/1.1 ${this.refuseWith} Refused\r\ncontent-length: 0\r\n\r\n`);
        return;
      }
      // OpenAI and Azure's GA form name the model; Azure's dated preview form, the deployment.
      const query = new URL(request.url ?? '/', 'http://x').searchParams;
      const model = query.get('model') ?? query.get('deployment') ?? '';
      this.sockets.handleUpgrade(request, socket, head, (ws) => this.serve(ws, model));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.upgrades.length = 0;
    this.received.length = 0;
    this.refuseWith = undefined;
    this.usage = FAKE_REALTIME_USAGE;
    this.holdResponses = false;
  }

  private serve(ws: WebSocket, model: string): void {
    let session: Record<string, unknown> = { type: 'realtime', id: 'sess_1', model };
    const send = (event: Record<string, unknown>) => ws.send(JSON.stringify(event));
    send({ type: 'session.created', event_id: 'event_1', session });
    ws.on('message', (data, binary) => {
      if (binary) return send({ type: 'test.binary', bytes: (data as Buffer).length });
      let event: Event;
      try {
        event = JSON.parse((data as Buffer).toString()) as Event;
      } catch {
        return send({ type: 'error', error: { type: 'invalid_request_error', code: 'bad' } });
      }
      this.received.push(event);
      switch (event.type) {
        case 'session.update':
          session = { ...session, ...(event.session as object) };
          return send({ type: 'session.updated', event_id: 'event_2', session });
        case 'input_audio_buffer.commit': {
          send({ type: 'input_audio_buffer.committed', item_id: 'item_1' });
          // Transcribed as the session asks (GA or beta shape), with its own usage.
          const audio = session.audio as { input?: { transcription?: { model?: string } } };
          const beta = session.input_audio_transcription as { model?: string } | undefined;
          const transcriber = audio?.input?.transcription?.model ?? beta?.model;
          if (!transcriber) return undefined;
          return send({
            type: 'conversation.item.input_audio_transcription.completed',
            item_id: 'item_1',
            content_index: 0,
            transcript: 'Hello.',
            usage: transcriber === 'whisper-1' ? FAKE_WHISPER_USAGE : FAKE_TRANSCRIPTION_USAGE,
          });
        }
        case 'response.create':
          send({ type: 'response.created', response: { id: 'resp_1', status: 'in_progress' } });
          send({ type: 'response.output_audio.delta', response_id: 'resp_1', delta: 'AAAA/w==' });
          send({
            type: 'response.output_audio_transcript.delta',
            response_id: 'resp_1',
            delta: 'Hi',
          });
          if (this.holdResponses) return undefined;
          return send({
            type: 'response.done',
            event_id: 'event_9',
            response: { id: 'resp_1', status: 'completed', usage: this.usage },
          });
        case 'response.cancel':
          if (!this.holdResponses) return undefined;
          return send({
            type: 'response.done',
            event_id: 'event_10',
            response: { id: 'resp_1', status: 'cancelled', usage: this.usage },
          });
        case 'test.close':
          return ws.close(1011, 'backend went away');
        default:
          return undefined;
      }
    });
  }
}

/** A client socket with every event it got, in order. */
export interface RealtimeTestClient {
  readonly socket: WebSocket;
  readonly events: Event[];
  next(type: string): Promise<Event>;
  closed: Promise<{ code: number; reason: string }>;
}

export function connectRealtime(
  url: string,
  headers: Record<string, string>,
  protocols?: string[],
): Promise<RealtimeTestClient> {
  const socket = new WebSocket(url, protocols, { headers });
  const events: Event[] = [];
  const waiters: { type: string; resolve: (event: Event) => void }[] = [];
  let seen = 0;
  socket.on('message', (data) => {
    const event = JSON.parse((data as Buffer).toString()) as Event;
    events.push(event);
    for (const waiter of waiters.splice(0)) {
      if (waiter.type === event.type) {
        seen = events.length;
        waiter.resolve(event);
      } else waiters.push(waiter);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return new Promise((resolve, reject) => {
    socket.once('open', () =>
      resolve({
        socket,
        events,
        closed,
        next: (type) => {
          const found = events.slice(seen).find((event) => event.type === type);
          if (found) {
            seen = events.indexOf(found) + 1;
            return Promise.resolve(found);
          }
          return new Promise((done) => waiters.push({ type, resolve: (e) => done(e) }));
        },
      }),
    );
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += String(chunk)));
      response.on('end', () =>
        reject(
          Object.assign(new Error('refused'), {
            status: response.statusCode,
            body,
            headers: response.headers,
          }),
        ),
      );
    });
    socket.once('error', reject);
  });
}

/** The upgrade's refusal: its status, headers and OpenAI error body. */
export async function realtimeRefusal(
  url: string,
  headers: Record<string, string>,
): Promise<{
  status: number;
  body: { error: Record<string, unknown> };
  headers: IncomingHttpHeaders;
}> {
  try {
    const client = await connectRealtime(url, headers);
    client.socket.close();
  } catch (error) {
    const {
      status,
      body,
      headers: answered,
    } = error as {
      status: number;
      body: string;
      headers: IncomingHttpHeaders;
    };
    assert.ok(status, String(error));
    return {
      status,
      body: JSON.parse(body) as { error: Record<string, unknown> },
      headers: answered,
    };
  }
  return assert.fail('the upgrade was accepted');
}
