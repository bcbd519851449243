// A hop's upload limit: AI_GATEWAY_MAX_FILE_BYTES's (heldUploadBytes), not the wire body limit
// made of AI_GATEWAY_MAX_BODY_BYTES, on the router's relay and the provider-adapter alike. (The
// edge holds the client to AI_GATEWAY_MAX_FILE_BYTES first: a hop's refusal mid-body reaches
// its caller as a cut connection, not a 413.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { heldUploadBytes } from './held-object-upload';
import {
  HttpHeldObjectClient,
  registerHeldObjectRelay,
  registerHeldObjectServer,
} from './held-object-wire';
import { InternalToken } from './internal-auth';
import { createWireServer } from './wire-server';

const KiB = 1024;
const TOKEN = 'internal-token';
const backend = { backendName: 'b', provider: 'openai', requestTimeoutMs: 5_000 };
const BODY_BYTES = 64 * KiB;
const FILE_BYTES = 4 * 1024 * KiB;

async function* chunks(bytes: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < bytes; sent += 64 * KiB) {
    yield Buffer.alloc(Math.min(64 * KiB, bytes - sent), 'x');
  }
}

/** client → router → provider-adapter, each hop's wire body limit made of BODY_BYTES. */
async function hops(routerUploadBytes: number, adapterUploadBytes: number) {
  const auth = { token: new InternalToken(TOKEN), onRefused: () => undefined };
  const adapter = createWireServer({ maxBodyBytes: BODY_BYTES, auth });
  let received = 0;
  let completed = 0;
  registerHeldObjectServer(
    adapter.fastify,
    (call) => ({ ...call, model: '', requestTimeoutMs: 5_000 }) as never,
    {
      send: () => Promise.reject(new Error('unused')),
      open: () => Promise.reject(new Error('unused')),
      upload: async (_target, _path, body) => {
        let bytes = 0;
        for await (const chunk of body.data) bytes += chunk.length;
        received = bytes;
        completed++;
        return { status: 200, contentType: 'application/json', body: Buffer.from('{}') };
      },
    },
    undefined,
    adapterUploadBytes,
  );
  const adapterPort = await adapter.served.listen(0, '127.0.0.1');
  const router = createWireServer({ maxBodyBytes: BODY_BYTES, auth });
  registerHeldObjectRelay(
    router.fastify,
    new HttpHeldObjectClient(new URL(`http://127.0.0.1:${adapterPort}`), new InternalToken(TOKEN)),
    () => 5_000,
    undefined,
    routerUploadBytes,
  );
  const routerPort = await router.served.listen(0, '127.0.0.1');
  const client = new HttpHeldObjectClient(
    new URL(`http://127.0.0.1:${routerPort}`),
    new InternalToken(TOKEN),
  );
  return {
    upload: (bytes: number) =>
      client.upload(backend, '/files', {
        contentType: 'multipart/form-data; boundary=x',
        data: chunks(bytes),
      }),
    received: () => received,
    completed: () => completed,
    close: async () => {
      // Every call has ended here; the global fetch pool's idle connections (one of them
      // left mid-body by the refused upload) would hold each close for its keep-alive.
      router.fastify.server.closeAllConnections();
      adapter.fastify.server.closeAllConnections();
      await router.served.close();
      await adapter.served.close();
    },
  };
}

describe('heldUploadBytes: what a hop takes of a streamed upload', () => {
  it('is the file limit with room for renamed lines and framing, beyond the wire body limit', () => {
    assert.equal(heldUploadBytes(3 * KiB), 4 * KiB + 1024 * KiB);
    assert.ok(heldUploadBytes(FILE_BYTES) > FILE_BYTES);
  });

  describe('given to both hops', () => {
    let network: Awaited<ReturnType<typeof hops>>;
    before(async () => {
      network = await hops(heldUploadBytes(FILE_BYTES), heldUploadBytes(FILE_BYTES));
    });
    after(() => network.close());

    it('passes an upload of the file limit, far over the wire body limit', async () => {
      const answer = await network.upload(FILE_BYTES);
      assert.equal(answer.status, 200);
      assert.equal(network.received(), FILE_BYTES);
    });

    it('refuses one past it: the backend never gets it whole', async () => {
      const completed = network.completed();
      await assert.rejects(
        network.upload(heldUploadBytes(FILE_BYTES) + 64 * KiB),
        (error: unknown) => error instanceof DataPlaneError,
      );
      assert.equal(network.completed(), completed);
    });
  });
});
