import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  rawChunkLine,
  WIRE_JSON,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonObject,
  type ProviderCall,
  type ProviderPort,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { until } from '@aigw/testing';
import { HttpProviderClient } from './http-provider-client';
import { HttpRouterClient } from './http-router-client';
import { registerProviderWire } from './provider-wire-server';
import { registerRouterWire } from './router-wire-server';
import { createWireServer } from './wire-server';
import { providerCall, request, servedBy, usage } from '../testing/wire-call-fixtures';

/** A call of `overrides`' request to the fixtures' backend. */
function call(
  overrides: Partial<GatewayRequest> = {},
  signal = new AbortController().signal,
): ProviderCall {
  return providerCall(request(overrides), signal);
}

function streamOf(chunks: JsonObject[], breakAfter?: number): GatewayAnswer {
  async function* events(): AsyncGenerator<JsonObject> {
    for (const [index, chunk] of chunks.entries()) {
      if (index === breakAfter) {
        throw new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'backend broke');
      }
      yield chunk;
    }
  }
  return { kind: 'stream', status: 200, events: events(), usage: Promise.resolve(usage), servedBy };
}

async function collect(answer: GatewayAnswer): Promise<JsonObject[]> {
  assert.equal(answer.kind, 'stream');
  const out: JsonObject[] = [];
  if (answer.kind === 'stream') for await (const chunk of answer.events) out.push(chunk);
  return out;
}

/** A provider-adapter wire server around a programmable provider port. */
async function adapterServer(provider: ProviderPort) {
  const seen: { body?: string } = {};
  const { fastify, served } = createWireServer({ maxBodyBytes: 1024 * 1024 });
  fastify.addHook('preHandler', (req, _reply, done) => {
    seen.body = JSON.stringify(req.body);
    done();
  });
  registerProviderWire(fastify, provider, (target) => ({
    ...target,
    requestTimeoutMs: 5_000,
    firstByteTimeoutMs: 5_000,
  }));
  let connections = 0;
  fastify.server.on('connection', () => connections++);
  const port = await served.listen(0, '127.0.0.1');
  return { url: new URL(`http://127.0.0.1:${port}`), served, seen, connections: () => connections };
}

describe('provider-adapter over the wire', () => {
  let next: (call: ProviderCall) => Promise<GatewayAnswer>;
  let server: Awaited<ReturnType<typeof adapterServer>>;
  let client: HttpProviderClient;

  before(async () => {
    server = await adapterServer({ invoke: (c) => next(c) });
    client = new HttpProviderClient({ url: server.url });
  });
  after(async () => {
    await client.close();
    await server.served.close();
  });

  it('answers JSON with servedBy and usage over kept-alive sockets, without the key', async () => {
    next = async () => ({
      kind: 'json',
      status: 200,
      body: { id: 'x', model: 'upstream-model' },
      usage,
      servedBy,
    });
    for (let i = 0; i < 10; i++) {
      const answer = await client.invoke(call());
      assert.equal(answer.kind, 'json');
      if (answer.kind === 'json') {
        // Named for the requested model by the adapter, as the router would.
        assert.deepEqual({ ...answer.body }, { id: 'x', model: 'gpt-4' });
        assert.deepEqual(answer.usage, usage);
        assert.deepEqual(answer.servedBy, servedBy);
      }
    }
    // undici may open a second socket while the first is still settling; never one per call.
    assert.ok(server.connections() <= 2, `${server.connections()} connections`);
    assert.doesNotMatch(server.seen.body ?? '', /sk-secret/);
  });

  it('relays stream chunks stamped with the requested model, byte for byte', async () => {
    next = async (c) => {
      assert.equal(c.request.stream, true);
      return streamOf([
        { model: 'upstream-model', n: 1 },
        { model: 'upstream-model', n: 2 },
      ]);
    };
    const answer = await client.invoke(call({ stream: true }));
    assert.equal(answer.kind, 'stream');
    const chunks: JsonObject[] = [];
    if (answer.kind === 'stream') {
      for await (const chunk of answer.events) {
        chunk.model = 'gpt-4'; // what the router does
        assert.ok(rawChunkLine(chunk), 'relayed without parsing');
        chunks.push(chunk);
      }
      assert.deepEqual(await answer.usage, usage);
      assert.deepEqual(answer.servedBy, servedBy);
    }
    assert.deepEqual(
      chunks.map((c) => ({ ...c })),
      [
        { model: 'gpt-4', n: 1 },
        { model: 'gpt-4', n: 2 },
      ],
    );
  });

  it('keeps the error code and Retry-After of a failure before the first byte', async () => {
    next = async () => {
      throw new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down', {
        retryAfterMs: 2_000,
        upstreamStatus: 429,
      });
    };
    await assert.rejects(client.invoke(call()), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited);
      assert.equal(error.trigger, 'rateLimit');
      assert.equal(error.retryAfterMs, 2_000);
      return true;
    });
  });

  it('ends a stream that breaks midway with an explicit error', async () => {
    next = async () => streamOf([{ n: 1 }, { n: 2 }, { n: 3 }], 1);
    const answer = await client.invoke(call({ stream: true }));
    const seen: JsonObject[] = [];
    await assert.rejects(
      async () => {
        if (answer.kind === 'stream') for await (const chunk of answer.events) seen.push(chunk);
      },
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.StreamInterrupted,
    );
    assert.equal(seen.length, 1);
  });

  it('keeps a stream attempt whose first event crossed the hop, gives up one that failed before', async () => {
    /** How the adapter's stream commit was decided for a stream breaking after `breakAfter`. */
    const decided = async (breakAfter: number) => {
      let kept: Promise<boolean> | undefined;
      next = async (c) => {
        const commit = c.streamCommit;
        assert.ok(commit, 'a stream attempt carries a commit');
        kept = new Promise((resolve) => commit.decided(resolve));
        return streamOf([{ n: 1 }, { n: 2 }], breakAfter);
      };
      const answer = await client.invoke(call({ stream: true }));
      await collect(answer).catch(() => undefined);
      return kept;
    };
    // Broken before its first event: the router fails over, so its usage must not settle.
    assert.equal(await decided(0), false);
    // Broken after it: the router kept it, so its usage settles the hold.
    assert.equal(await decided(1), true);
    // Whole: kept.
    assert.equal(await decided(5), true);
  });

  it("cancels the adapter's work when the caller aborts", async () => {
    let adapterSignal: AbortSignal | undefined;
    next = (c) => {
      adapterSignal = c.signal;
      return new Promise(() => undefined); // an upstream that never answers
    };
    const abort = new AbortController();
    const pending = client.invoke(call({}, abort.signal));
    // The call reaches the adapter, then its hang-up does, each in its own time.
    await until('the call reaches the adapter', () => adapterSignal !== undefined, { everyMs: 10 });
    abort.abort(new Error('client went away'));
    await assert.rejects(pending, /client went away/);
    await until("the adapter's work is cancelled", () => adapterSignal?.aborted === true, {
      everyMs: 10,
    });
    assert.equal(adapterSignal?.aborted, true);
  });

  it('refuses another wire version with a message naming both', async () => {
    const response = await fetch(new URL('/wire/invoke', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-aigw-wire': '2' },
      body: '{}',
    });
    assert.equal(response.status, 500);
    assert.match(await response.text(), /wire version \\"2\\".*speaks 1/);
  });

  it('answers a URL with a malformed %-escape in the wire format, not echoing it', async () => {
    const keyLike = 'sk-live-0123456789abcdef';
    const response = await fetch(new URL(`/wire/invoke%ZZ${keyLike}`, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [WIRE_VERSION_HEADER]: WIRE_VERSION },
      body: '{}',
    });
    const text = await response.text();
    assert.equal(response.status, 400, text);
    assert.ok(!text.includes(keyLike) && !text.includes('FST_ERR'), text);
    const body = JSON.parse(text) as { error: { code: string; message: string } };
    assert.equal(body.error.code, DataPlaneErrorCode.InvalidRequest);
    assert.match(body.error.message, /malformed %-escape/);
  });
});

describe('wire clients against peers that are down or foreign', () => {
  it('an unreachable adapter is an upstream error, so the router fails over', async () => {
    const client = new HttpProviderClient({ url: new URL('http://127.0.0.1:1') });
    await assert.rejects(client.invoke(call()), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
      assert.equal(error.trigger, 'error');
      assert.match(error.message, /provider-adapter .* unreachable/);
      return true;
    });
    await client.close();
  });

  it('an unreachable router is "service unavailable"', async () => {
    const client = new HttpRouterClient({
      url: new URL('http://127.0.0.1:1'),
      listModels: () => [],
    });
    await assert.rejects(
      client.route(request(), new AbortController().signal),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 503,
    );
    await client.close();
  });

  it('a plain answer cut off mid-body is a broken answer (may fail over), not a peer that is down', async () => {
    const cutting = createServer((_req, res) => {
      res.writeHead(200, {
        'content-type': WIRE_JSON,
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        'content-length': '1000',
      });
      res.write('{"kind":"json"');
      setTimeout(() => res.destroy(), 10);
    });
    await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', resolve));
    const port = (cutting.address() as AddressInfo).port;
    const client = new HttpRouterClient({
      url: new URL(`http://127.0.0.1:${port}`),
      listModels: () => [],
    });
    await assert.rejects(
      client.route(request(), new AbortController().signal),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.UpstreamError &&
        /broke mid-answer/.test(error.message),
    );
    await client.close();
    cutting.close();
  });

  it('a peer that does not speak the wire format is refused clearly', async () => {
    const foreign = createServer((_req, res) => res.end('{"hello":"world"}'));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const port = (foreign.address() as AddressInfo).port;
    const client = new HttpRouterClient({
      url: new URL(`http://127.0.0.1:${port}`),
      listModels: () => [],
    });
    await assert.rejects(
      client.route(request(), new AbortController().signal),
      /sent no x-aigw-wire header/,
    );
    await client.close();
    foreign.close();
  });
});

describe('router over the wire', () => {
  it('passes requests, JSON answers, streams and errors between ingress and router', async () => {
    const received: GatewayRequest[] = [];
    const router: RouterPort = {
      listModels: () => [],
      route: async (req) => {
        received.push(req);
        if (req.requestedModel === 'missing') {
          throw new DataPlaneError(DataPlaneErrorCode.ModelNotFound, 'no such model', {
            param: 'model',
          });
        }
        if (!req.stream)
          return { kind: 'json', status: 200, body: { model: 'gpt-4' }, usage, servedBy };
        return streamOf([{ model: 'gpt-4', n: 1 }]);
      },
    };
    const { fastify, served } = createWireServer({ maxBodyBytes: 1024 * 1024 });
    registerRouterWire(fastify, router);
    const port = await served.listen(0, '127.0.0.1');
    const client = new HttpRouterClient({
      url: new URL(`http://127.0.0.1:${port}`),
      listModels: () => ['gpt-4'],
    });
    try {
      const json = await client.route(request(), new AbortController().signal);
      assert.equal(json.kind, 'json');
      assert.deepEqual(received[0], request());
      const stream = await client.route(request({ stream: true }), new AbortController().signal);
      assert.deepEqual(await collect(stream), [{ model: 'gpt-4', n: 1 }]);
      await assert.rejects(
        client.route(request({ requestedModel: 'missing' }), new AbortController().signal),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.ModelNotFound &&
          error.httpStatus === 404 &&
          error.param === 'model',
      );
      assert.deepEqual(client.listModels(), ['gpt-4']);
      assert.equal(await client.probe(), true);
    } finally {
      await client.close();
      await served.close();
    }
  });
});
