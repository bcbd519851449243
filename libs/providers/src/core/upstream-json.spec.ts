import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { DataPlaneError, DataPlaneErrorCode, type ProviderCall } from '@aigw/contracts/data-plane';
import { fetchUpstreamJson } from './upstream-json';

type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const pendingTimers = () =>
  process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('fetchUpstreamJson', () => {
  const routes = new Map<string, Route>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => routes.get(req.url ?? '')?.(req, res, body));
  });
  const agent = new Agent();
  let base = '';

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await agent.close();
    server.closeAllConnections();
    server.close();
  });

  function call(
    options: { signal?: AbortSignal; requestTimeoutMs?: number; firstByteTimeoutMs?: number } = {},
  ): ProviderCall {
    return {
      signal: options.signal ?? new AbortController().signal,
      target: {
        backendName: 'primary',
        requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
        firstByteTimeoutMs: options.firstByteTimeoutMs ?? 60_000,
      },
    } as unknown as ProviderCall;
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    assert.fail('expected the call to fail');
  }

  it('sends method, path, query, headers and body, and returns the object with the headers', async () => {
    routes.set('/v1/chat?x=1', (req, res, body) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-upstream', 'yes');
      res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body }));
    });
    const answer = await fetchUpstreamJson(
      call(),
      { url: `${base}/v1/chat?x=1`, headers: { authorization: 'Bearer k' }, body: '{"a":1}' },
      agent,
    );
    assert.deepEqual(answer.body, { method: 'POST', auth: 'Bearer k', body: '{"a":1}' });
    assert.equal(answer.headers['x-upstream'], 'yes');
  });

  it('reads a body that arrives in many chunks', async () => {
    const text = 'x'.repeat(200_000);
    routes.set('/chunked', (_req, res) => {
      res.write('{"text":"');
      for (let i = 0; i < text.length; i += 10_000) res.write(text.slice(i, i + 10_000));
      res.end('"}');
    });
    const answer = await fetchUpstreamJson(
      call(),
      { url: `${base}/chunked`, headers: {}, body: '' },
      agent,
    );
    assert.equal(answer.body.text, text);
  });

  it('turns an error status into a DataPlaneError with the message and Retry-After', async () => {
    routes.set('/limited', (_req, res) => {
      res.writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'slow down' } }));
    });
    const error = await rejection(
      fetchUpstreamJson(call(), { url: `${base}/limited`, headers: {}, body: '' }, agent),
    );
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited);
    assert.equal(error.retryAfterMs, 3000);
    assert.match(error.message, /answered 429: slow down/);
  });

  it('stops reading a huge error body after its first part and still answers', async () => {
    routes.set('/huge-error', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.write('broken ');
      // far more than is ever read; the response never ends on its own
      const chunk = 'y'.repeat(64 * 1024);
      for (let i = 0; i < 8; i++) res.write(chunk);
    });
    const error = await rejection(
      fetchUpstreamJson(call(), { url: `${base}/huge-error`, headers: {}, body: '' }, agent),
    );
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
    assert.match(error.message, /answered 500: broken y+/);
  });

  it('reports a body that is not a JSON object as a bad response', async () => {
    routes.set('/array', (_req, res) => res.end('[1,2]'));
    routes.set('/garbage', (_req, res) => res.end('<html>'));
    for (const path of ['/array', '/garbage']) {
      const error = await rejection(
        fetchUpstreamJson(call(), { url: `${base}${path}`, headers: {}, body: '' }, agent),
      );
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.UpstreamBadResponse);
    }
  });

  it('reports an answer nested past what the gateway walks as a bad response', async () => {
    const levels = 100_000;
    routes.set('/deep', (_req, res) =>
      res.end(`{"choices":${'['.repeat(levels)}${']'.repeat(levels)}}`),
    );
    const error = await rejection(
      fetchUpstreamJson(call(), { url: `${base}/deep`, headers: {}, body: '' }, agent),
    );
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.code, DataPlaneErrorCode.UpstreamBadResponse);
    assert.match(error.message, /nested deeper than 64 levels/);
  });

  it('times out a backend that sends headers but never finishes the body', async () => {
    routes.set('/stalls', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    });
    const error = await rejection(
      fetchUpstreamJson(
        call({ requestTimeoutMs: 100 }),
        { url: `${base}/stalls`, headers: {}, body: '' },
        agent,
      ),
    );
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.code, DataPlaneErrorCode.UpstreamTimeout);
  });

  it('waits past the first-byte timeout for an answer the model is still writing', async () => {
    // A JSON answer's headers come only once the whole answer is written: a long generation
    // must not be cut (and failed over) by the first-byte timeout meant for streams.
    routes.set('/thinks', (_req, res) => {
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end('{"done":true}');
      }, 1_500); // past undici's timer resolution (about a second for long timeouts)
    });
    const answer = await fetchUpstreamJson(
      call({ firstByteTimeoutMs: 100, requestTimeoutMs: 10_000 }),
      { url: `${base}/thinks`, headers: {}, body: '' },
      agent,
    );
    assert.deepEqual(answer.body, { done: true });
    // The request timeout still bounds it.
    const late = await rejection(
      fetchUpstreamJson(
        call({ firstByteTimeoutMs: 100, requestTimeoutMs: 200 }),
        { url: `${base}/thinks`, headers: {}, body: '' },
        agent,
      ),
    );
    assert.ok(late instanceof DataPlaneError);
    assert.equal(late.code, DataPlaneErrorCode.UpstreamTimeout);
  });

  it("ends with the caller's own reason when the caller aborts, and holds no timer after", async () => {
    routes.set('/slow', () => undefined); // never answers
    const before = pendingTimers();
    const caller = new AbortController();
    const pending = fetchUpstreamJson(
      call({ signal: caller.signal }),
      { url: `${base}/slow`, headers: {}, body: '' },
      agent,
    );
    setTimeout(() => caller.abort(new Error('client disconnected')), 20);
    const error = await rejection(pending);
    assert.equal((error as Error).message, 'client disconnected');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(pendingTimers() <= before, `${pendingTimers() - before} timers left behind`);
  });

  it('does not call a backend for a caller that already went away', async () => {
    let called = 0;
    routes.set('/counted', (_req, res) => {
      called++;
      res.end('{}');
    });
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    const error = await rejection(
      fetchUpstreamJson(
        call({ signal: caller.signal }),
        { url: `${base}/counted`, headers: {}, body: '' },
        agent,
      ),
    );
    assert.equal((error as Error).message, 'gone');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(called, 0);
  });

  it('lets go of its 60 s deadline once each call is answered', async () => {
    routes.set('/ok', (_req, res) => res.end('{"ok":true}'));
    const before = pendingTimers();
    for (let i = 0; i < 20; i++) {
      const answer = await fetchUpstreamJson(
        call(),
        { url: `${base}/ok`, headers: {}, body: '' },
        agent,
      );
      assert.deepEqual(answer.body, { ok: true });
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(pendingTimers() < before + 20, `${pendingTimers() - before} timers left behind`);
  });

  it('reports a refused connection as an unreachable backend', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await rejection(
      fetchUpstreamJson(call(), { url: `http://127.0.0.1:${port}/`, headers: {}, body: '' }, agent),
    );
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
    assert.match(error.message, /unreachable \(ECONNREFUSED\)/);
  });
});
