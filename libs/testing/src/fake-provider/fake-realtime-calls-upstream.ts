// OpenAI's Realtime over WebRTC for tests: `POST /v1/realtime/calls` (a server's form with
// `sdp` and `session`, or a bare `application/sdp`) answered 201 with a fixed SDP and
// `Location: /v1/realtime/calls/rtc_…`; the call's sideband WebSocket
// (`/v1/realtime?call_id=`) sends `session.created` and, as each test asks, `response.done`
// with usage; `POST /v1/realtime/calls/{id}/hangup` ends the call (its sideband sends the
// responses a test asks for, then closes 1000). It records every call, upgrade and hang-up,
// headers included.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { FAKE_REALTIME_USAGE } from './fake-realtime-upstream';

/** The backend's SDP answer, as every call gets it. */
export const FAKE_SDP_ANSWER =
  'v=0\r\no=- 4227147428 1719357865 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
  'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=setup:active\r\n';

/** A browser's offer, as small as a test needs. */
export const FAKE_SDP_OFFER =
  'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
  'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=setup:actpass\r\n';

export interface FakeRealtimeCall {
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  readonly sdp: string;
  /** The form's `session`, parsed (undefined for a bare SDP). */
  readonly session?: Record<string, unknown>;
}

export interface FakeSidebandUpgrade {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

function read(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export class FakeRealtimeCallsUpstream {
  readonly calls: FakeRealtimeCall[] = [];
  readonly upgrades: FakeSidebandUpgrade[] = [];
  readonly hangups: { id: string; headers: IncomingHttpHeaders }[] = [];
  /** Refuse the next calls with this HTTP status. */
  refuseWith?: number;
  /** Refuse the next sidebands with this HTTP status (their calls are created). */
  refuseSidebandWith?: number;
  /** `response.done` events each sideband sends as it opens, after `session.created`. */
  responsesOnJoin = 1;
  /** `response.done` events a sideband sends as its call is hung up, before it closes. */
  responsesOnHangup = 0;
  usage: Record<string, unknown> = FAKE_REALTIME_USAGE;
  private readonly sidebands = new Map<string, WebSocket>();
  private readonly sockets = new WebSocketServer({ noServer: true });
  private readonly server: Server = createServer((request, response) => {
    void this.answer(request).then(
      ({ status, headers, body }) => response.writeHead(status, headers).end(body),
      () => response.writeHead(500).end(),
    );
  });
  private next = 0;

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server.on('upgrade', (request, socket, head) => {
      this.upgrades.push({ url: request.url ?? '', headers: request.headers });
      const url = new URL(request.url ?? '/', 'http://x');
      const call = this.calls.find((one) => one.id === url.searchParams.get('call_id'));
      if (url.pathname !== '/v1/realtime' || !call) {
        socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      if (this.refuseSidebandWith) {
        socket.end(`HTTP/1.1 ${this.refuseSidebandWith} Refused\r\ncontent-length: 0\r\n\r\n`);
        return;
      }
      this.sockets.handleUpgrade(request, socket, head, (ws) => this.join(ws, call));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.calls.length = 0;
    this.upgrades.length = 0;
    this.hangups.length = 0;
    this.refuseWith = undefined;
    this.refuseSidebandWith = undefined;
    this.responsesOnJoin = 1;
    this.responsesOnHangup = 0;
    this.usage = FAKE_REALTIME_USAGE;
  }

  /** The browser hangs up: the call's sideband closes (1000). */
  endCall(id: string): void {
    this.sidebands.get(id)?.close(1000, 'call ended');
  }

  /** One more response of the call, with the usage set now. */
  respond(id: string): void {
    this.sidebands.get(id)?.send(JSON.stringify(this.responseDone()));
  }

  /**
   * The hang-ups once `count` came, or those there are after `timeoutMs`: the gateway
   * sends one after it decided to end a call (and counted it ended), not before.
   */
  async hungUp(count: number, timeoutMs = 5_000): Promise<FakeRealtimeCallsUpstream['hangups']> {
    const deadline = Date.now() + timeoutMs;
    while (this.hangups.length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.hangups;
  }

  /** Whether the call's sideband is open. */
  watched(id: string): boolean {
    return this.sidebands.get(id)?.readyState === WebSocket.OPEN;
  }

  private responseDone(): Record<string, unknown> {
    return {
      type: 'response.done',
      event_id: `event_${this.next++}`,
      response: { id: `resp_${this.next}`, status: 'completed', usage: this.usage },
    };
  }

  private join(ws: WebSocket, call: FakeRealtimeCall): void {
    this.sidebands.set(call.id, ws);
    ws.once('close', () => this.sidebands.delete(call.id));
    const model = (call.session?.model as string | undefined) ?? '';
    ws.send(
      JSON.stringify({
        type: 'session.created',
        event_id: 'event_1',
        session: { ...call.session, type: 'realtime', id: 'sess_1', model },
      }),
    );
    for (let i = 0; i < this.responsesOnJoin; i++) ws.send(JSON.stringify(this.responseDone()));
  }

  private async answer(
    request: IncomingMessage,
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const json = { 'content-type': 'application/json' };
    const error = (status: number, message: string) => ({
      status,
      headers: json,
      body: JSON.stringify({ error: { message, type: 'invalid_request_error', code: null } }),
    });
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const body = await read(request);
    const hangup = /^\/v1\/realtime\/calls\/([^/]+)\/hangup$/.exec(path);
    if (request.method === 'POST' && hangup) {
      this.hangups.push({ id: hangup[1], headers: request.headers });
      const sideband = this.sidebands.get(hangup[1]);
      for (let i = 0; i < this.responsesOnHangup; i++) {
        sideband?.send(JSON.stringify(this.responseDone()));
      }
      sideband?.close(1000, 'hung up');
      return { status: 200, headers: json, body: '{}' };
    }
    if (request.method !== 'POST' || path !== '/v1/realtime/calls') return error(404, 'not found');
    if (this.refuseWith) return error(this.refuseWith, 'refused by the test');
    const contentType = request.headers['content-type'] ?? '';
    let sdp: string;
    let session: Record<string, unknown> | undefined;
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Response(body, {
        headers: { 'content-type': contentType },
      }).formData();
      const offer = form.get('sdp');
      sdp = typeof offer === 'string' ? offer : '';
      const text = form.get('session');
      session =
        typeof text === 'string' ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } else sdp = body.toString('utf8');
    if (!sdp.startsWith('v=0')) return error(400, 'Invalid SDP offer');
    const id = `rtc_test_${this.calls.length + 1}_${Date.now().toString(36)}`;
    this.calls.push({ id, headers: request.headers, sdp, ...(session ? { session } : {}) });
    return {
      status: 201,
      headers: { 'content-type': 'application/sdp', location: `/v1/realtime/calls/${id}` },
      body: FAKE_SDP_ANSWER,
    };
  }
}
