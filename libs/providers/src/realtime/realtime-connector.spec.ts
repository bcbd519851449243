import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import {
  MAX_REALTIME_FRAME_BYTES,
  type GatewayRequest,
  type RealtimeListener,
} from '@aigw/contracts/data-plane';
import { MAX_BACKEND_BACKLOG_BYTES, RealtimeConnector } from './realtime-connector';

describe('RealtimeConnector', () => {
  const server: Server = createServer((_, res) => res.end());
  const sockets = new WebSocketServer({ noServer: true });
  let port = 0;

  before(async () => {
    // A backend that accepts the session and then never reads a byte of it.
    server.on('upgrade', (request, socket, head) =>
      sockets.handleUpgrade(request, socket, head, () => socket.pause()),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const client of sockets.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('ends a session whose backend stops reading before the client’s frames pile up without bound', async () => {
    const closed: number[] = [];
    const listener: RealtimeListener = {
      frame: () => undefined,
      closed: (code) => closed.push(code),
    };
    const connection = await new RealtimeConnector().connectRealtime({
      request: {} as GatewayRequest,
      target: {
        backendName: 'stalled',
        provider: 'openai',
        model: 'gpt-realtime',
        baseUrl: `http://127.0.0.1:${port}/v1`,
        requestTimeoutMs: 5_000,
        firstByteTimeoutMs: 5_000,
      },
      listener,
      signal: new AbortController().signal,
    });
    const chunk = 'a'.repeat(1024 * 1024);
    const frames = (MAX_BACKEND_BACKLOG_BYTES / chunk.length) * 3;
    for (let i = 0; i < frames; i++) connection.send(chunk);
    for (let i = 0; i < 100 && closed.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(
      closed,
      [1008],
      'the session ends (policy) once the backend is that far behind',
    );
  });
});

describe('RealtimeConnector: a backend frame past the bound', () => {
  const server: Server = createServer((_, res) => res.end());
  const sockets = new WebSocketServer({ noServer: true });
  let port = 0;

  before(async () => {
    // A backend that answers the session with one frame a byte too big.
    server.on('upgrade', (request, socket, head) =>
      sockets.handleUpgrade(request, socket, head, (ws) =>
        ws.send(Buffer.alloc(MAX_REALTIME_FRAME_BYTES + 1)),
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const client of sockets.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('closes the session with 1009 rather than take it', async () => {
    const frames: number[] = [];
    const closed = new Promise<number>((resolve) => {
      void new RealtimeConnector().connectRealtime({
        request: {} as GatewayRequest,
        target: {
          backendName: 'huge',
          provider: 'openai',
          model: 'gpt-realtime',
          baseUrl: `http://127.0.0.1:${port}/v1`,
          requestTimeoutMs: 5_000,
          firstByteTimeoutMs: 5_000,
        },
        listener: {
          frame: (frame) => void frames.push(frame.length),
          closed: (code) => resolve(code),
        },
        signal: new AbortController().signal,
      });
    });
    assert.equal(await closed, 1009);
    assert.deepEqual(frames, [], 'the frame is not relayed');
  });
});

describe('RealtimeConnector: a backend that went silent', () => {
  const server: Server = createServer((_, res) => res.end());
  // `?model=silent`: a backend whose route dropped (no FIN): it answers no ping, sends nothing.
  const silent = new WebSocketServer({ noServer: true, autoPong: false });
  const alive = new WebSocketServer({ noServer: true });
  let port = 0;

  before(async () => {
    server.on('upgrade', (request, socket, head) => {
      const sockets = request.url?.includes('silent') ? silent : alive;
      sockets.handleUpgrade(request, socket, head, () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const client of [...silent.clients, ...alive.clients]) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function open(model: string, closed: number[]) {
    return new RealtimeConnector(50).connectRealtime({
      request: {} as GatewayRequest,
      target: {
        backendName: model,
        provider: 'openai',
        model,
        baseUrl: `http://127.0.0.1:${port}/v1`,
        requestTimeoutMs: 5_000,
        firstByteTimeoutMs: 5_000,
      },
      listener: { frame: () => undefined, closed: (code) => void closed.push(code) },
      signal: new AbortController().signal,
    });
  }

  it('ends the session once a ping went unanswered, and keeps one that answers', async () => {
    const gone: number[] = [];
    const kept: number[] = [];
    await open('silent', gone);
    const connection = await open('alive', kept);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(gone, [1006], 'the silent backend’s session ended');
    assert.deepEqual(kept, [], 'a backend answering pings stays open');
    connection.close(1000);
  });
});
