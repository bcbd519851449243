import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type {
  GatewayRequest,
  RealtimeConnection,
  RealtimeListener,
  RealtimeRouter,
} from '@aigw/contracts/data-plane';
import type { IngressPipeline } from '../ingress-pipeline';
import { RealtimeEdge } from './realtime-edge';

/** A router whose sessions say whether they were closed. */
class FakeRouter implements RealtimeRouter {
  readonly opened: { closed: boolean }[] = [];
  connectRealtime(
    _request: GatewayRequest,
    listener: RealtimeListener,
  ): Promise<RealtimeConnection> {
    const state = { closed: false };
    this.opened.push(state);
    listener.frame('{"type":"session.created"}');
    return Promise.resolve({
      servedBy: { backend: 'b', provider: 'openai', model: 'm' },
      send: () => undefined,
      close: () => {
        state.closed = true;
      },
    });
  }
}

const pipeline = {
  prepare: (_operation: string, body: { model: string }, _headers: unknown, requestId: string) =>
    ({
      requestId,
      operation: 'realtime',
      requestedModel: body.model,
      caller: { userKey: 'u' },
      allowedModels: [],
      forwardHeaders: {},
    }) as unknown as GatewayRequest,
} as unknown as IngressPipeline;

const HANDSHAKE = [
  'GET /v1/realtime?model=voice HTTP/1.1',
  'Host: gateway',
  'Upgrade: websocket',
  'Connection: Upgrade',
];

/** Sends a raw upgrade request; resolves with what came back once the server closed. */
function raw(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    setTimeout(() => socket.destroy(), 500);
  });
}

describe('RealtimeEdge', () => {
  const router = new FakeRouter();
  const edge = new RealtimeEdge(pipeline, { router });
  const server: Server = createServer((_, res) => res.end());
  let port = 0;

  before(async () => {
    server.on('upgrade', (request, socket, head) => edge.upgrade(request, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses a malformed handshake before any backend is opened', async () => {
    router.opened.length = 0;
    const badKey = await raw(port, [
      ...HANDSHAKE,
      'Sec-WebSocket-Key: x',
      'Sec-WebSocket-Version: 13',
    ]);
    const noVersion = await raw(port, [
      ...HANDSHAKE,
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ]);
    assert.match(badKey, /^HTTP\/1\.1 400 /);
    assert.match(badKey, /Sec-WebSocket-Key/);
    assert.match(noVersion, /^HTTP\/1\.1 400 /);
    assert.deepEqual(router.opened, [], 'no backend session for a handshake ws would refuse');
  });

  it('closes the backend when ws refuses the upgrade after it was opened (a bad subprotocol list)', async () => {
    router.opened.length = 0;
    const answer = await raw(port, [
      ...HANDSHAKE,
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Protocol: realtime, realtime',
    ]);
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.equal(router.opened.length, 1);
    assert.ok(
      router.opened.every((s) => s.closed),
      'a session the upgrade never reached is closed',
    );
  });
});
