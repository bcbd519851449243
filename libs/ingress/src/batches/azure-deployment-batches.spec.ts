import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { AzureOpenAI } from 'openai';
import { methodsAllowedAt } from '../http/public-paths';
import { BatchEstimator } from './batch-estimate';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import { MemoryHeldObjectStore } from './held-objects';
import { backendReply, HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
import { oneBatchRoute } from './testing/one-batch-route';
import { alicePipeline } from './testing/alice-pipeline';

/** A backend that creates batches, and says which calls it got. */
class Backend implements HeldObjectCalls {
  readonly calls: string[] = [];

  async send(_backend: unknown, method: string, path: string) {
    this.calls.push(`${method} ${path}`);
    return backendReply({ id: 'b1', object: 'batch', status: 'validating', input_file_id: 'f1' });
  }
}

async function gateway() {
  const config = oneBatchRoute();
  const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
  const backend = new Backend();
  const batches = new FilesAndBatches({
    config: () => config,
    upstream: backend,
    store,
    ttlMs: HELD_TTL_MS,
    priceFactor: 0.5,
    publish: () => undefined,
  });
  const pipeline = alicePipeline();
  const app = Fastify();
  const urls: string[] = [];
  app.addHook('onRequest', async (request) => {
    urls.push(`${request.method} ${request.url}`);
  });
  batches.register(app, '/openai', pipeline);
  batches.registerAzureDeploymentBatches(app, pipeline);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const estimator = new BatchEstimator(100);
  estimator.add('/v1/chat/completions', { model: 'gpt-batch', messages: [] });
  const file = heldOnBatchRoute('file', 'f1', Date.now(), {
    object: { object: 'file', purpose: 'batch' },
    estimate: estimator.estimate,
  });
  await store.put(file, HELD_TTL_MS);
  const { port } = app.server.address() as AddressInfo;
  return { app, backend, urls, fileId: file.id, endpoint: `http://127.0.0.1:${port}` };
}

describe('a batch created at an Azure deployment path', () => {
  const apps: { close(): Promise<unknown> }[] = [];
  after(() => Promise.all(apps.map((app) => app.close())));

  it('is created by the AzureOpenAI client built with a deployment, as at /openai/batches', async () => {
    const { app, backend, urls, fileId, endpoint } = await gateway();
    apps.push(app);
    const client = new AzureOpenAI({
      endpoint,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      deployment: 'gpt-batch',
      maxRetries: 0,
    });
    const batch = await client.batches.create({
      input_file_id: fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    // The client's own path: the deployment's, which the gateway serves.
    assert.deepEqual(urls, ['POST /openai/deployments/gpt-batch/batches?api-version=2024-10-21']);
    assert.deepEqual(backend.calls, ['POST /batches']);
    assert.match(batch.id, /^batch_/);
    assert.equal(batch.input_file_id, fileId);
  });

  it('refuses a bad body there in the OpenAI error shape, as /openai/batches does', async () => {
    const { app, backend } = await gateway();
    apps.push(app);
    const answer = await app.inject({
      method: 'POST',
      url: '/openai/deployments/gpt-batch/batches?api-version=2024-10-21',
      payload: { input_file_id: 'file-nope', endpoint: '/v1/chat/completions' },
    });
    assert.equal(answer.statusCode, 400);
    assert.equal(answer.json().error.param, 'completion_window');
    assert.deepEqual(backend.calls, []);
  });

  it('is a served path, POST only', () => {
    assert.deepEqual(methodsAllowedAt('/openai/deployments/gpt-4o/batches?api-version=x'), [
      'POST',
    ]);
    assert.equal(methodsAllowedAt('/openai/deployments/gpt-4o/batches/b1'), undefined);
    assert.equal(methodsAllowedAt('/openai/deployments//batches'), undefined);
  });
});
