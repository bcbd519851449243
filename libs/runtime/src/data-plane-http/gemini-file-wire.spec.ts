import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type BackendCallTarget,
} from '@aigw/contracts/data-plane';
import {
  HttpGeminiFileClient,
  registerGeminiFileRelay,
  registerGeminiFileServer,
  type GeminiFileBackendCalls,
} from './gemini-file-wire';
import { HeldObjectPeer } from './held-object-peer';
import { InternalToken } from './internal-auth';
import { createWireServer } from './wire-server';

// Google's Files API calls across the split deployment's hops (ingress → router →
// provider-adapter): the adapter resolves the backend (its key) and calls it; the bytes of
// an upload's step cross as they are made; the backend's errors come back as they were.

const TOKEN = 'internal-token';
const backend: BackendCallTarget = {
  backendName: 'g',
  routeName: 'r',
  provider: 'google-gemini',
  requestTimeoutMs: 5_000,
};
const UPLOAD_URL = 'http://127.0.0.1:9/upload/v1beta/files?upload_id=u1';

/** client → router → adapter, whose backend calls `upstream` makes with its resolved target. */
async function hops(upstream: GeminiFileBackendCalls) {
  const auth = { token: new InternalToken(TOKEN), onRefused: () => undefined };
  const adapter = createWireServer({ maxBodyBytes: 1024 * 1024, auth });
  registerGeminiFileServer(
    adapter.fastify,
    (call) => ({ ...call, model: '', requestTimeoutMs: 5_000, keyed: true }) as never,
    upstream,
    64 * 1024 * 1024,
  );
  const adapterPort = await adapter.served.listen(0, '127.0.0.1');
  const router = createWireServer({ maxBodyBytes: 1024 * 1024, auth });
  registerGeminiFileRelay(
    router.fastify,
    new HttpGeminiFileClient(new URL(`http://127.0.0.1:${adapterPort}`), new InternalToken(TOKEN)),
    (name) => (name === 'g' ? 5_000 : undefined),
    64 * 1024 * 1024,
  );
  const routerPort = await router.served.listen(0, '127.0.0.1');
  return {
    ports: { router: routerPort, adapter: adapterPort },
    client: new HttpGeminiFileClient(
      new URL(`http://127.0.0.1:${routerPort}`),
      new InternalToken(TOKEN),
    ),
    close: async () => {
      await router.served.close();
      await adapter.served.close();
    },
  };
}

async function* chunks(count: number, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, i % 256);
}

describe('Gemini file calls across the hops', () => {
  const seen: Record<string, unknown>[] = [];
  let network: Awaited<ReturnType<typeof hops>>;

  before(async () => {
    network = await hops({
      start: async (target, start) => {
        seen.push({ op: 'start', target, ...start, metadata: start.metadata.toString() });
        return { uploadUrl: UPLOAD_URL };
      },
      step: async (target, uploadUrl, step) => {
        let bytes = 0;
        let pieces = 0;
        for await (const chunk of step.data) {
          bytes += chunk.length;
          pieces++;
        }
        seen.push({ op: 'step', target, uploadUrl, command: step.command, bytes, pieces });
        const final = step.command.includes('finalize');
        return {
          status: 200,
          uploadStatus: final ? 'final' : 'active',
          sizeReceived: String(bytes),
          body: Buffer.from(final ? '{"file":{"name":"files/x"}}' : ''),
        };
      },
      file: async (_target, method, id) => {
        if (id === 'gone') {
          throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such file at the backend.', {
            upstreamStatus: 404,
          });
        }
        seen.push({ op: method, id });
        return { status: 200, body: Buffer.from(`{"name":"files/${id}"}`) };
      },
      countTokens: async (target, model, file) => {
        seen.push({ op: 'count', keyed: (target as { keyed?: boolean }).keyed, model, ...file });
        return { status: 200, body: Buffer.from('{"totalTokens":17880}') };
      },
    });
  });

  after(() => network.close());

  it("starts an upload with the adapter's target, the metadata and headers carried", async () => {
    const started = await network.client.start(backend, {
      metadata: Buffer.from('{"file":{"displayName":"n"}}'),
      contentLength: '12',
      contentType: 'text/plain',
    });
    assert.equal(started.uploadUrl, UPLOAD_URL);
    const call = seen.find((s) => s.op === 'start')!;
    assert.equal(call.metadata, '{"file":{"displayName":"n"}}');
    assert.equal(call.contentLength, '12');
    assert.equal(call.contentType, 'text/plain');
    assert.equal((call.target as { keyed?: boolean }).keyed, true);
    assert.equal((call.target as { routeName?: string }).routeName, 'r');
  });

  it("streams a step's bytes across both hops and brings the upload status back", async () => {
    const reply = await network.client.step(backend, UPLOAD_URL, {
      command: 'upload, finalize',
      offset: '0',
      data: chunks(40, 64 * 1024),
    });
    assert.equal(reply.uploadStatus, 'final');
    assert.equal(reply.sizeReceived, String(40 * 64 * 1024));
    assert.equal(reply.body.toString(), '{"file":{"name":"files/x"}}');
    const step = seen.find((s) => s.op === 'step')!;
    assert.equal(step.uploadUrl, UPLOAD_URL);
    assert.equal(step.bytes, 40 * 64 * 1024);
    // Arrived in many pieces: streamed, not gathered whole on a hop.
    assert.ok((step.pieces as number) > 1);
  });

  it('answers a step sent with another media type a 400 on either hop, not a 500', async () => {
    const call = {
      backendName: 'g',
      routeName: 'r',
      provider: 'google-gemini',
      uploadUrl: UPLOAD_URL,
      command: 'upload',
      offset: '0',
    };
    const stepsBefore = seen.filter((s) => s.op === 'step').length;
    for (const port of [network.ports.router, network.ports.adapter]) {
      for (const [type, body] of [
        ['application/json', '{"bytes":"x"}'],
        ['text/plain', 'some bytes'],
      ]) {
        const response = await fetch(`http://127.0.0.1:${port}/wire/gemini-file/step`, {
          method: 'POST',
          headers: {
            ...new HeldObjectPeer(
              new URL(`http://127.0.0.1:${port}`),
              new InternalToken(TOKEN),
            ).headers(type),
            'x-aigw-gemini-step': Buffer.from(JSON.stringify(call)).toString('base64url'),
          },
          body,
        });
        assert.equal(response.status, 400, `${type} on port ${port}: ${await response.text()}`);
      }
    }
    assert.equal(seen.filter((s) => s.op === 'step').length, stepsBefore);
  });

  it("gets and deletes a file, and a backend's 404 comes back as one", async () => {
    const got = await network.client.file(backend, 'GET', 'abc-1');
    assert.equal(got.body.toString(), '{"name":"files/abc-1"}');
    await network.client.file(backend, 'DELETE', 'abc-1');
    assert.deepEqual(
      seen.filter((s) => s.op === 'GET' || s.op === 'DELETE'),
      [
        { op: 'GET', id: 'abc-1' },
        { op: 'DELETE', id: 'abc-1' },
      ],
    );
    await assert.rejects(
      network.client.file(backend, 'GET', 'gone'),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 404,
    );
  });

  it("counts a file's tokens at the adapter for the model named, its answer carried back", async () => {
    const count = await network.client.countTokens(backend, 'tunedModels/x y', {
      id: 'abc-1',
      mimeType: 'video/mp4',
    });
    assert.equal(count.body.toString(), '{"totalTokens":17880}');
    assert.deepEqual(
      seen.find((s) => s.op === 'count'),
      { op: 'count', keyed: true, model: 'tunedModels/x y', id: 'abc-1', mimeType: 'video/mp4' },
    );
    await assert.rejects(
      network.client.countTokens(backend, 'm', { id: '../x', mimeType: '' }),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.InvalidRequest,
    );
  });

  it('refuses a call for another provider, a bad file id, or a backend the router lacks', async () => {
    const refused = (code: DataPlaneErrorCode) => (error: unknown) =>
      error instanceof DataPlaneError && error.code === code;
    await assert.rejects(
      network.client.file({ ...backend, provider: 'openai' }, 'GET', 'abc'),
      refused(DataPlaneErrorCode.InvalidRequest),
    );
    await assert.rejects(
      network.client.file(backend, 'GET', '../batches/x'),
      refused(DataPlaneErrorCode.InvalidRequest),
    );
    await assert.rejects(
      network.client.file({ ...backend, backendName: 'other' }, 'GET', 'abc'),
      refused(DataPlaneErrorCode.NoBackendAvailable),
    );
  });
});
