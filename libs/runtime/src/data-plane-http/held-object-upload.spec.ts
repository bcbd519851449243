import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { until } from '@aigw/testing';
import { decodeHeldObjectUpload } from './held-object-upload';
import {
  HttpHeldObjectClient,
  registerHeldObjectRelay,
  registerHeldObjectServer,
} from './held-object-wire';
import { InternalToken } from './internal-auth';
import { createWireServer } from './wire-server';

type HeldObjectCalls = Parameters<typeof registerHeldObjectServer>[2];

const TOKEN = 'internal-token';
const backend = { backendName: 'b', provider: 'openai', requestTimeoutMs: 5_000 };

/** `count` chunks of 64 KiB, the last one failing instead when `failAt` is given. */
async function* chunks(count: number, failAt?: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    if (i === failAt) throw new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'Line 9 is bad');
    yield Buffer.alloc(64 * 1024, i % 256);
  }
}

/** client → router → provider-adapter, the adapter's backend calls given by `upstream`. */
async function hops(upstream: HeldObjectCalls, maxBodyBytes = 64 * 1024 * 1024) {
  const auth = { token: new InternalToken(TOKEN), onRefused: () => undefined };
  const adapter = createWireServer({ maxBodyBytes, auth });
  registerHeldObjectServer(
    adapter.fastify,
    (call) => ({ ...call, model: '', requestTimeoutMs: 5_000 }) as never,
    upstream,
  );
  const adapterPort = await adapter.served.listen(0, '127.0.0.1');
  const router = createWireServer({ maxBodyBytes, auth });
  registerHeldObjectRelay(
    router.fastify,
    new HttpHeldObjectClient(new URL(`http://127.0.0.1:${adapterPort}`), new InternalToken(TOKEN)),
    () => 5_000,
  );
  const routerPort = await router.served.listen(0, '127.0.0.1');
  return {
    client: new HttpHeldObjectClient(
      new URL(`http://127.0.0.1:${routerPort}`),
      new InternalToken(TOKEN),
    ),
    close: async () => {
      await router.served.close();
      await adapter.served.close();
    },
  };
}

describe('an upload streamed across the hops (client → router → provider-adapter)', () => {
  const received: { contentType: string; bytes: number; chunks: number; error?: unknown }[] = [];
  let sentBase64: string[] = [];
  let network: Awaited<ReturnType<typeof hops>>;

  before(async () => {
    network = await hops({
      send: async (_target, _method, _path, body) => {
        sentBase64.push(body?.data.toString('base64') ?? '');
        return { status: 200, contentType: 'application/json', body: Buffer.from('{}') };
      },
      open: () => Promise.reject(new Error('unused')),
      upload: async (_target, path, body) => {
        const seen = { contentType: body.contentType, bytes: 0, chunks: 0 } as (typeof received)[0];
        received.push(seen);
        try {
          for await (const chunk of body.data) {
            seen.bytes += chunk.length;
            seen.chunks++;
          }
        } catch (error) {
          seen.error = error;
          throw error;
        }
        return {
          status: 200,
          contentType: 'application/json',
          body: Buffer.from(JSON.stringify({ id: 'file-1', path })),
        };
      },
    });
  });
  after(() => network.close());

  it("passes the body on as it comes, and the backend's answer back", async () => {
    const answer = await network.client.upload(backend, '/files', {
      contentType: 'multipart/form-data; boundary=x',
      data: chunks(100),
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body.toString()), { id: 'file-1', path: '/files' });
    const seen = received.at(-1)!;
    assert.equal(seen.contentType, 'multipart/form-data; boundary=x');
    assert.equal(seen.bytes, 100 * 64 * 1024);
    assert.ok(seen.chunks > 1, 'the adapter read the body in pieces');
    assert.deepEqual(sentBase64, [], 'nothing went whole, as base64');
  });

  it("aborts the backend's upload when the body fails on the way", async () => {
    const before = received.length;
    await assert.rejects(
      network.client.upload(backend, '/files', {
        contentType: 'multipart/form-data; boundary=x',
        data: chunks(100, 60),
      }),
    );
    await until(
      "the adapter's read of the body failed",
      () => received[before]?.error !== undefined,
      {
        everyMs: 10,
      },
    );
    const seen = received[before];
    assert.ok(seen.bytes < 100 * 64 * 1024);
  });

  it('refuses a call for anything but a POST to /files', () => {
    const header = (call: object) => Buffer.from(JSON.stringify(call)).toString('base64url');
    const call = { ...backend, method: 'POST', path: '/files', contentType: 'x' };
    assert.equal(decodeHeldObjectUpload(header(call)).path, '/files');
    assert.throws(() => decodeHeldObjectUpload(header({ ...call, path: '/batches' })), /path/);
    assert.throws(() => decodeHeldObjectUpload(header({ ...call, method: 'GET' })), /path/);
    assert.throws(() => decodeHeldObjectUpload(header({ ...call, base64: 'AA==' })), /body/);
    assert.throws(() => decodeHeldObjectUpload('not json'), /header/);
  });

  it('sends the body whole, as base64, to a peer without the upload route', async () => {
    const old = await hops({
      send: async (_target, _method, _path, body) => {
        sentBase64.push(body?.data.toString('base64') ?? '');
        return { status: 200, contentType: 'application/json', body: Buffer.from('{"id":"f"}') };
      },
      open: () => Promise.reject(new Error('unused')),
    });
    try {
      sentBase64 = [];
      const answer = await old.client.upload(backend, '/files', {
        contentType: 'multipart/form-data; boundary=x',
        data: chunks(3),
      });
      assert.equal(answer.body.toString(), '{"id":"f"}');
      assert.equal(sentBase64.length, 1);
      assert.equal(Buffer.from(sentBase64[0], 'base64').length, 3 * 64 * 1024);
    } finally {
      await old.close();
    }
  });
});
