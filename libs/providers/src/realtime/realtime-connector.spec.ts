import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { until } from '@aigw/testing';
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
    await until('the session is closed', () => closed.length > 0, { everyMs: 10 });
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
    // At least 400 ms (8 pings): a loaded machine may not have heard the end by then.
    await until('the silent backend’s session ended', () => gone.length > 0, { everyMs: 10 });
    assert.deepEqual(gone, [1006]);
    assert.deepEqual(kept, [], 'a backend answering pings stays open');
    connection.close(1000);
  });
});

describe('RealtimeConnector: closed while a response is being generated', () => {
  const server: Server = createServer((_, res) => res.end());
  const sockets = new WebSocketServer({ noServer: true });
  /** What the backend got, in order. */
  const received: string[] = [];
  let port = 0;

  before(async () => {
    // `?model=answers`: a response runs until cancelled, then ends in a response.done
    // (cancelled, with the usage so far), as OpenAI documents response.cancel.
    // `?model=mute`: a response runs and nothing ever ends it.
    server.on('upgrade', (request, socket, head) => {
      const answers = request.url?.includes('answers') ?? false;
      sockets.handleUpgrade(request, socket, head, (ws) => {
        ws.on('message', (data) => {
          const text = (data as Buffer).toString('utf8');
          const event = JSON.parse(text) as { type: string; response_id?: string };
          received.push(text);
          if (event.type === 'response.create') {
            ws.send(JSON.stringify({ type: 'response.created', response: { id: 'resp_7' } }));
          }
          if (event.type === 'response.cancel' && answers) {
            ws.send(
              JSON.stringify({
                type: 'response.done',
                response: {
                  id: event.response_id,
                  status: 'cancelled',
                  usage: { input_tokens: 900, output_tokens: 40 },
                },
              }),
            );
          }
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const client of sockets.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function responding(model: string, cancelWaitMs: number) {
    const frames: string[] = [];
    let closedWith: (code: number) => void = () => undefined;
    const closed = new Promise<number>((resolve) => (closedWith = resolve));
    let created: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (created = resolve));
    const connection = await new RealtimeConnector(30_000, cancelWaitMs).connectRealtime({
      request: {} as GatewayRequest,
      target: {
        backendName: model,
        provider: 'openai',
        model,
        baseUrl: `http://127.0.0.1:${port}/v1`,
        requestTimeoutMs: 5_000,
        firstByteTimeoutMs: 5_000,
      },
      listener: {
        frame: (frame) => {
          frames.push(String(frame));
          if (String(frame).includes('response.created')) created();
        },
        closed: (code) => closedWith(code),
      },
      signal: new AbortController().signal,
    });
    connection.send(JSON.stringify({ type: 'response.create' }));
    await started;
    return { connection, frames, closed };
  }

  it('cancels the response and hears its response.done (its usage) before the socket closes', async () => {
    received.length = 0;
    const { connection, frames, closed } = await responding('answers', 10_000);
    connection.close(1000);
    connection.send(JSON.stringify({ type: 'response.create' }));
    assert.equal(await closed, 1000);
    const done = frames.map((frame) => JSON.parse(frame) as { type: string; response?: object });
    assert.deepEqual(
      done.map((event) => event.type),
      ['response.created', 'response.done'],
      'the cancelled response ends with its usage, which the meter bills',
    );
    assert.deepEqual(
      received.map((frame) => JSON.parse(frame) as object),
      [{ type: 'response.create' }, { type: 'response.cancel', response_id: 'resp_7' }],
      'the backend is asked to cancel that response; a client frame after the close is not sent',
    );
  });

  it('closes after a bounded wait when the backend never ends the response', async () => {
    const { connection, closed } = await responding('mute', 100);
    connection.close(1000);
    assert.equal(await closed, 1000);
  });
});
