import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import WebSocket from 'ws';
import {
  DataPlaneErrorCode,
  encodeRouteRequest,
  MAX_REALTIME_FRAME_BYTES,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import {
  PROVIDER_HOP_GRACE_MS,
  REALTIME_WIRE_PATH,
  RealtimeProviderClient,
  serveRealtimeWire,
} from './realtime-wire';
import { until } from '@aigw/testing';

describe('serveRealtimeWire', () => {
  const server: Server = createServer((_, res) => res.end());
  const behind: (number | undefined)[] = [];
  let hops: { close(): void };
  let port = 0;

  before(async () => {
    hops = serveRealtimeWire(server, () =>
      Promise.resolve({
        servedBy: { backend: 'b', provider: 'openai', model: 'm' },
        send: () => undefined,
        close: (code?: number) => void behind.push(code),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.closeAllConnections());

  it(
    'ends its sessions with 1001 when the service stops, so the server can close',
    { timeout: 5_000 },
    async () => {
      const request = { requestedModel: 'voice', operation: 'realtime' } as GatewayRequest;
      const socket = new WebSocket(`ws://127.0.0.1:${port}${REALTIME_WIRE_PATH}`, {
        headers: {
          [WIRE_VERSION_HEADER]: WIRE_VERSION,
          'x-aigw-wire-message': Buffer.from(encodeRouteRequest(request)).toString('base64url'),
        },
      });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      hops.close();
      assert.equal(await closed, 1001);
      assert.deepEqual(behind, [1001], 'the session behind the hop is closed too');
      await serverClosed;
    },
  );
});

describe('a realtime hop asked to upgrade a target that is no URL', () => {
  const server: Server = createServer((_, res) => res.end());
  let port = 0;

  before(async () => {
    serveRealtimeWire(server, () => Promise.reject(new Error('never opened')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it(
    'is refused with a 400 (a throw in the listener ended the process)',
    { timeout: 10_000 },
    async () => {
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        setTimeout(() => socket.destroy(), 5_000).unref();
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(received));
        socket.write(
          `GET http://[${REALTIME_WIRE_PATH} HTTP/1.1\r\nHost: router\r\nUpgrade: websocket\r\n` +
            'Connection: Upgrade\r\n\r\n',
        );
      });
      assert.match(answer, /^HTTP\/1\.1 400 /);
    },
  );
});

describe('a realtime hop whose peer never answers the handshake', () => {
  it(
    'fails as an unreachable peer once the backend’s firstByteTimeout and the grace passed',
    { timeout: 10_000 },
    async () => {
      const held: Socket[] = [];
      // Takes the connection and the upgrade request, and never answers (a hung adapter).
      const hung = createTcpServer((socket) => void held.push(socket.on('error', () => undefined)));
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      const port = (hung.address() as AddressInfo).port;
      try {
        const client = new RealtimeProviderClient(new URL(`http://127.0.0.1:${port}`));
        const startedAt = Date.now();
        const failure = await client
          .connectRealtime({
            request: { requestedModel: 'voice', operation: 'realtime' } as GatewayRequest,
            target: {
              backendName: 'east',
              provider: 'openai',
              model: 'gpt-realtime',
              requestTimeoutMs: 1_000,
              firstByteTimeoutMs: 100,
            },
            listener: { frame: () => undefined, closed: () => undefined },
            signal: new AbortController().signal,
          })
          .then(
            () => assert.fail('a hop nobody answered opened'),
            (error: { code: string; message: string }) => error,
          );
        assert.equal(failure.code, DataPlaneErrorCode.UpstreamError);
        assert.match(failure.message, /provider-adapter could not be reached .* in 2100 ms/);
        assert.ok(Date.now() - startedAt >= 100 + PROVIDER_HOP_GRACE_MS - 50);
      } finally {
        for (const socket of held) socket.destroy();
        hung.close();
      }
    },
  );
});

describe('a realtime hop’s frames are bounded both ways', () => {
  const server: Server = createServer((_, res) => res.end());
  const behind: (number | undefined)[] = [];
  let port = 0;

  before(async () => {
    // An adapter whose backend sends one frame a byte past the bound.
    serveRealtimeWire(server, (_message, listener) => {
      setImmediate(() => listener.frame(Buffer.alloc(MAX_REALTIME_FRAME_BYTES + 1)));
      return Promise.resolve({
        servedBy: { backend: 'b', provider: 'openai', model: 'm' },
        send: () => undefined,
        close: (code?: number) => void behind.push(code),
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('the caller’s side closes with 1009 on a frame too big, and the session behind is closed', async () => {
    const client = new RealtimeProviderClient(new URL(`http://127.0.0.1:${port}`));
    const frames: number[] = [];
    let closed!: (code: number) => void;
    const code = new Promise<number>((resolve) => (closed = resolve));
    await client.connectRealtime({
      request: { requestedModel: 'voice', operation: 'realtime' } as GatewayRequest,
      target: {
        backendName: 'b',
        provider: 'openai',
        model: 'm',
        requestTimeoutMs: 5_000,
        firstByteTimeoutMs: 5_000,
      },
      listener: { frame: (frame) => void frames.push(frame.length), closed: (c) => closed(c) },
      signal: new AbortController().signal,
    });
    assert.equal(await code, 1009);
    assert.deepEqual(frames, []);
    await until('the session behind is closed', () => behind.length > 0, { everyMs: 10 });
    assert.deepEqual(behind, [1009], 'the adapter’s side closes its backend with the same code');
  });

  it('the serving side closes a caller’s frame too big with 1009', async () => {
    behind.length = 0;
    const request = { requestedModel: 'voice', operation: 'realtime' } as GatewayRequest;
    const socket = new WebSocket(`ws://127.0.0.1:${port}${REALTIME_WIRE_PATH}`, {
      headers: {
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        'x-aigw-wire-message': Buffer.from(encodeRouteRequest(request)).toString('base64url'),
      },
    });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send(Buffer.alloc(MAX_REALTIME_FRAME_BYTES + 1));
    assert.equal(await closed, 1009);
    await until('the session behind is closed', () => behind.length > 0, { everyMs: 10 });
    assert.deepEqual(behind, [1009], 'the session behind hears why');
  });
});
