import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { until } from '@aigw/testing';
import { decodeHeldObjectCall, HELD_OBJECT_WIRE_PATH } from './held-object-call';
import { decodeHeldObjectOpen } from './held-object-open';
import {
  HttpHeldObjectClient,
  registerHeldObjectRelay,
  registerHeldObjectServer,
} from './held-object-wire';
import { InternalToken } from './internal-auth';
import { createWireServer } from './wire-server';

type HeldObjectCalls = Parameters<typeof registerHeldObjectServer>[2];

describe('held-object wire calls', () => {
  const call = {
    backendName: 'b',
    provider: 'openai',
    method: 'GET',
    path: '/files/file-1/content',
  };

  it('reads a Files or Batch API call', () => {
    assert.deepEqual(decodeHeldObjectCall(call), {
      ...call,
      contentType: undefined,
      base64: undefined,
    });
    const upload = {
      ...call,
      method: 'POST',
      path: '/files',
      contentType: 'multipart/form-data; boundary=x',
      base64: 'AA==',
    };
    assert.equal(decodeHeldObjectCall(upload).base64, 'AA==');
    assert.equal(
      decodeHeldObjectCall({ ...call, method: 'POST', path: '/batches/batch_1/cancel' }).path,
      '/batches/batch_1/cancel',
    );
    // Anthropic's message batches: created, read, cancelled, their results read.
    for (const path of [
      '/messages/batches',
      '/messages/batches/msgbatch_01ab',
      '/messages/batches/msgbatch_01ab/cancel',
      '/messages/batches/msgbatch_01ab/results',
    ]) {
      assert.equal(decodeHeldObjectCall({ ...call, provider: 'anthropic', path }).path, path);
    }
  });

  it('refuses any other path or method, so a peer reaches nothing else of a backend', () => {
    for (const path of [
      '/chat/completions',
      '/files/../models',
      '/files/a/b/c',
      'files',
      '/files?x=1',
      '/batches/a%2F..//x',
      '/messages',
      '/messages/count_tokens',
      '/messages/batches/../../complete',
      '/messages/batches/a/b/c',
    ]) {
      assert.throws(() => decodeHeldObjectCall({ ...call, path }), /path/, path);
    }
    assert.throws(() => decodeHeldObjectCall({ ...call, method: 'PUT' }), /method/);
    assert.throws(() => decodeHeldObjectCall({ ...call, backendName: '' }), /backendName/);
    assert.throws(() => decodeHeldObjectCall(null), /body/);
  });

  it("carries a message batch's anthropic-beta, and no other client header", () => {
    const create = { ...call, provider: 'anthropic', method: 'POST', path: '/messages/batches' };
    assert.deepEqual(
      decodeHeldObjectCall({ ...create, headers: { 'anthropic-beta': 'a-2025-01-01,b' } }).headers,
      { 'anthropic-beta': 'a-2025-01-01,b' },
    );
    assert.equal('headers' in decodeHeldObjectCall(create), false);
    for (const headers of [
      { 'x-api-key': 'sk-other' },
      { authorization: 'Bearer x' },
      { 'anthropic-beta': 'a\r\nx-api-key: sk' },
      { 'anthropic-beta': 7 },
      ['anthropic-beta'],
      'anthropic-beta: a',
    ]) {
      assert.throws(
        () => decodeHeldObjectCall({ ...create, headers }),
        /headers/,
        JSON.stringify(headers),
      );
    }
  });
});

/** A file content as a backend streams it: `first`, then the rest once `gate` opens. */
function gatedBody(first: Buffer, rest: Buffer[], gate: Promise<void>) {
  const state = { destroyed: false };
  let sent = false;
  const body = new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(first);
        void gate.then(() => {
          if (this.destroyed) return;
          for (const part of rest) this.push(part);
          this.push(null);
        });
      }
    },
    destroy(error, callback) {
      state.destroyed = true;
      callback(error);
    },
  });
  return { body, state };
}

const TOKEN = 'internal-token-current';
const PREVIOUS = 'internal-token-previous';

describe('a held object streamed across the hops (client → router → provider-adapter)', () => {
  const backend = { backendName: 'b', provider: 'openai', requestTimeoutMs: 5_000 };
  const seen: { path?: string; credential?: string }[] = [];
  let open: HeldObjectCalls['open'];
  let send: HeldObjectCalls['send'] = async () => {
    throw new Error('unused');
  };
  const refused: string[] = [];
  const cuts: string[] = [];
  const servers: { close(): Promise<void> }[] = [];
  let client: HttpHeldObjectClient;
  let routerUrl: URL;

  before(async () => {
    const auth = {
      token: new InternalToken(TOKEN, PREVIOUS),
      onRefused: (refusal: { reason: string }) => refused.push(refusal.reason),
    };
    const adapter = createWireServer({ maxBodyBytes: 1024 * 1024, auth });
    registerHeldObjectServer(
      adapter.fastify,
      (call) => ({ ...call, model: '', requestTimeoutMs: 5_000 }) as never,
      {
        send: (...args) => send(...args),
        open: (target, path) => {
          seen.push({ path });
          return open(target, path);
        },
      },
      () => cuts.push('adapter'),
    );
    const adapterPort = await adapter.served.listen(0, '127.0.0.1');
    servers.push(adapter.served);
    const router = createWireServer({ maxBodyBytes: 1024 * 1024, auth });
    registerHeldObjectRelay(
      router.fastify,
      new HttpHeldObjectClient(
        new URL(`http://127.0.0.1:${adapterPort}`),
        new InternalToken(TOKEN),
      ),
      (name) => (name === 'b' ? 5_000 : undefined),
      () => cuts.push('router'),
    );
    const routerPort = await router.served.listen(0, '127.0.0.1');
    servers.push(router.served);
    routerUrl = new URL(`http://127.0.0.1:${routerPort}`);
    client = new HttpHeldObjectClient(routerUrl, new InternalToken(TOKEN));
  });
  after(async () => {
    for (const server of servers.reverse()) await server.close();
  });

  async function readAll(body: Readable): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  it('gives the first bytes before the backend sent the rest, then the same bytes, status and type', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = Buffer.from('{"id":"ü-日本-🙂"}\n'.repeat(50));
    const rest = Array.from({ length: 20 }, (_, i) => Buffer.from(`{"n":${i}}\n`.repeat(100)));
    open = async () => ({
      status: 200,
      contentType: 'application/jsonl',
      body: gatedBody(first, rest, gate).body,
    });
    const answer = await client.open(backend, '/files/file-1/content');
    assert.equal(answer.status, 200);
    assert.equal(answer.contentType, 'application/jsonl');
    assert.equal(seen.at(-1)?.path, '/files/file-1/content');
    const iterator = answer.body[Symbol.asyncIterator]();
    const early = (await iterator.next()).value as Buffer;
    assert.ok(early.length > 0 && first.subarray(0, early.length).equals(early));
    release();
    const parts: Buffer[] = [early];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      parts.push(next.value as Buffer);
    }
    assert.ok(Buffer.concat(parts).equals(Buffer.concat([first, ...rest])));
  });

  it("passes a message batch's anthropic-beta through the router to the adapter's call", async () => {
    const heard: unknown[] = [];
    send = async (_target, method, path, _body, headers) => {
      heard.push({ method, path, headers });
      return { status: 200, contentType: 'application/json', body: Buffer.from('{"id":"mb1"}') };
    };
    const answer = await client.send(
      { ...backend, provider: 'anthropic' },
      'POST',
      '/messages/batches',
      { contentType: 'application/json', data: Buffer.from('{"requests":[]}') },
      { 'anthropic-beta': 'interleaved-thinking-2025-05-14' },
    );
    assert.equal(answer.body.toString(), '{"id":"mb1"}');
    assert.deepEqual(heard, [
      {
        method: 'POST',
        path: '/messages/batches',
        headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' },
      },
    ]);
  });

  it('passes an empty file as an empty body', async () => {
    open = async () => ({ status: 200, contentType: 'text/plain', body: Readable.from([]) });
    const answer = await client.open(backend, '/files/file-2/content');
    assert.equal((await readAll(answer.body)).length, 0);
  });

  it("gives an error before the first byte as the buffered path's data-plane error", async () => {
    for (const error of [
      new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object at the provider.', {
        upstreamStatus: 404,
      }),
      new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'backend "b" is rate limited'),
      new Error('sk-secret-in-a-bug'),
    ]) {
      open = async () => {
        throw error;
      };
      send = async () => {
        throw error;
      };
      const streamed = await client.open(backend, '/files/f/content').then(
        () => assert.fail('no error'),
        (caught: unknown) => caught as DataPlaneError,
      );
      const buffered = await client.send(backend, 'GET', '/files/f/content').then(
        () => assert.fail('no error'),
        (caught: unknown) => caught as DataPlaneError,
      );
      assert.ok(streamed instanceof DataPlaneError);
      assert.deepEqual(
        [streamed.code, streamed.message, streamed.httpStatus],
        [buffered.code, buffered.message, buffered.httpStatus],
      );
      assert.doesNotMatch(streamed.message, /sk-secret/);
    }
    // A body that fails before its first byte is still an answer, not a cut stream.
    open = async () => ({
      status: 200,
      contentType: 'text/plain',
      body: new Readable({
        read() {
          this.destroy(new DataPlaneError(DataPlaneErrorCode.UpstreamTimeout, 'backend timed out'));
        },
      }),
    });
    await assert.rejects(client.open(backend, '/files/f/content'), {
      code: DataPlaneErrorCode.UpstreamTimeout,
      message: 'backend timed out',
    });
  });

  it('cuts the stream when the backend fails after the first byte (never a clean end)', async () => {
    let fail!: () => void;
    const failing = new Promise<void>((resolve) => (fail = resolve));
    let sent = false;
    open = async () => ({
      status: 200,
      contentType: 'text/plain',
      body: new Readable({
        read() {
          if (sent) return;
          sent = true;
          this.push(Buffer.from('{"a":1}\n'));
          void failing.then(() => this.destroy(new Error('backend connection reset')));
        },
      }),
    });
    const answer = await client.open(backend, '/files/f/content');
    const iterator = answer.body[Symbol.asyncIterator]();
    assert.equal(String((await iterator.next()).value), '{"a":1}\n');
    fail();
    await assert.rejects(
      (async () => {
        for (let next = await iterator.next(); !next.done; next = await iterator.next());
      })(),
      { code: DataPlaneErrorCode.UpstreamError, message: /cut the file's stream/ },
    );
    // Each hop tells its operator of the cut its caller saw only as a closed connection.
    assert.deepEqual(cuts.sort(), ['adapter', 'router']);
  });

  it("aborts the backend's read when the caller goes away mid-file", async () => {
    const gated = gatedBody(
      Buffer.from('x'.repeat(1000)),
      [Buffer.from('y')],
      new Promise(() => {}),
    );
    open = async () => ({ status: 200, contentType: 'text/plain', body: gated.body });
    const answer = await client.open(backend, '/files/f/content');
    await answer.body[Symbol.asyncIterator]().next();
    answer.body.destroy();
    await until('the backend body was destroyed', () => gated.state.destroyed, { everyMs: 20 });
  });

  it('reads from the backend only as fast as the caller reads (backpressure)', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'z');
    let produced = 0;
    open = async () => ({
      status: 200,
      contentType: 'text/plain',
      body: new Readable({
        read() {
          const done = produced >= 512 * 1024 * 1024;
          if (!done) produced += chunk.length;
          this.push(done ? null : chunk);
        },
      }),
    });
    const answer = await client.open(backend, '/files/f/content');
    await answer.body[Symbol.asyncIterator]().next();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const held = produced;
    answer.body.destroy();
    assert.ok(held < 64 * 1024 * 1024, `read ${held} bytes while the caller read one chunk`);
  });

  it('checks the internal token on the stream route as on the others (previous one accepted)', async () => {
    open = async () => ({
      status: 200,
      contentType: 'text/plain',
      body: Readable.from([Buffer.from('ok')]),
    });
    const previous = new HttpHeldObjectClient(routerUrl, new InternalToken(PREVIOUS));
    assert.equal(
      String(await readAll((await previous.open(backend, '/files/f/content')).body)),
      'ok',
    );
    const before = refused.length;
    for (const token of [undefined, new InternalToken('internal-token-wrong')]) {
      await assert.rejects(
        new HttpHeldObjectClient(routerUrl, token).open(backend, '/files/f/content'),
        { code: DataPlaneErrorCode.Internal, message: /refused this service's internal token/ },
      );
    }
    assert.deepEqual(refused.slice(before), ['missing', 'wrong']);
  });

  it('refuses a stream of anything but a GET of a Files or Batch API path, or an unknown backend', async () => {
    assert.throws(() => decodeHeldObjectOpen({ ...call(), method: 'POST' }), /method/);
    assert.throws(() => decodeHeldObjectOpen({ ...call(), base64: 'AA==' }), /body/);
    assert.throws(() => decodeHeldObjectOpen({ ...call(), path: '/chat/completions' }), /path/);
    await assert.rejects(client.open({ ...backend, backendName: 'gone' }, '/files/f/content'), {
      code: DataPlaneErrorCode.NoBackendAvailable,
    });
  });
});

describe('a held object opened on a peer from before the stream route', () => {
  it("falls back to the peer's buffered route (a rolling upgrade)", async () => {
    const { fastify, served } = createWireServer({ maxBodyBytes: 1024 * 1024 });
    fastify.post(HELD_OBJECT_WIRE_PATH, async () => ({
      status: 200,
      contentType: 'text/plain',
      base64: Buffer.from('whole').toString('base64'),
    }));
    const port = await served.listen(0, '127.0.0.1');
    try {
      const client = new HttpHeldObjectClient(new URL(`http://127.0.0.1:${port}`));
      const answer = await client.open(
        { backendName: 'b', provider: 'openai', requestTimeoutMs: 5_000 },
        '/files/f/content',
      );
      assert.equal(answer.contentType, 'text/plain');
      const parts: Buffer[] = [];
      for await (const part of answer.body) parts.push(part as Buffer);
      assert.equal(Buffer.concat(parts).toString(), 'whole');
    } finally {
      await served.close();
    }
  });
});

function call() {
  return { backendName: 'b', provider: 'openai', method: 'GET', path: '/files/f/content' };
}
