import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type RealtimeConnection,
  type RealtimeListener,
  type RealtimeRouter,
} from '@aigw/contracts/data-plane';
import { NOOP_INGRESS_OBSERVER, type RequestFailure } from '../ingress-observer';
import { NOOP_REALTIME_OBSERVER } from './realtime-telemetry';
import type { IngressPipeline } from '../ingress-pipeline';
import { RealtimeEdge } from './realtime-edge';
import { until } from '@aigw/testing';

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
  checksAnswers: () => false,
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

  it('refuses an upgrade whose target is no URL (a broken absolute-form host) with a 400, and stays up', async () => {
    router.opened.length = 0;
    const [, ...headers] = HANDSHAKE;
    const answer = await raw(port, [
      'GET http://[/v1/realtime?model=voice HTTP/1.1',
      ...headers,
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
    ]);
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /"type":"invalid_request_error"/);
    assert.deepEqual(router.opened, [], 'no backend session for it');
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

describe('RealtimeEdge: a client hanging up mid-handshake', () => {
  /** A backend slow to accept: the open fails once the client's abort comes, as the connector's does. */
  const slow: RealtimeRouter = {
    connectRealtime: (_request, _listener, signal) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () =>
          reject(new DataPlaneError(DataPlaneErrorCode.Internal, 'the client disconnected')),
        ),
      ),
  };
  const outcomes: string[] = [];
  const failures: RequestFailure[] = [];
  const edge = new RealtimeEdge(
    pipeline,
    {
      router: slow,
      observer: {
        ...NOOP_REALTIME_OBSERVER,
        refused: (_error, upstream) =>
          void outcomes.push(upstream ? 'upstream_refused' : 'refused'),
        abandoned: () => void outcomes.push('client_gone_before_open'),
      },
    },
    undefined,
    { ...NOOP_INGRESS_OBSERVER, failed: (failure) => void failures.push(failure) },
  );
  const server: Server = createServer((_, res) => res.end());
  let port = 0;

  before(async () => {
    // The client's socket closing while the backend is being opened (as a reset shows it).
    server.on('upgrade', (request, socket, head) => {
      edge.upgrade(request, socket, head);
      setTimeout(() => socket.destroy(), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is counted as client_gone_before_open and a client-cancelled request, not a refusal', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      [...HANDSHAKE, 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']
        .join('\r\n')
        .concat('\r\n\r\n'),
    );
    await until('the outcome is counted', () => outcomes.length > 0, { everyMs: 10 });
    assert.deepEqual(outcomes, ['client_gone_before_open']);
    assert.equal(failures.length, 1);
    assert.equal(failures[0].clientGone, true);
    socket.destroy();
  });
});
