import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { registerFormParser } from '../forms/form-parser';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import { MemoryHeldObjectStore, type HeldRecord } from './held-objects';
import { oneBatchRoute } from './testing/one-batch-route';
import { alicePipeline } from './testing/alice-pipeline';

/** A store that cannot be written (Redis away). */
class UnwritableStore extends MemoryHeldObjectStore {
  override async put(_record: HeldRecord, _ttlMs: number): Promise<void> {
    throw new Error('Command timed out');
  }
}

describe('an upload the gateway cannot remember', () => {
  it('deletes the file its backend made (no one could reach it) and answers a 503 to retry', async () => {
    const calls: string[] = [];
    const backend: HeldObjectCalls = {
      send: async (_target, method, path) => {
        calls.push(`${method} ${path}`);
        const id = method === 'DELETE' ? path.slice('/files/'.length) : 'file-made';
        return {
          status: 200,
          contentType: 'application/json',
          body: Buffer.from(JSON.stringify({ id, object: 'file', purpose: 'user_data' })),
        };
      },
    };
    const config = oneBatchRoute();
    const storeAway: string[] = [];
    const actions: string[] = [];
    const batches = new FilesAndBatches({
      config: () => config,
      upstream: backend,
      store: new UnwritableStore({ maxEntries: 100, maxBytes: 1_000_000 }),
      ttlMs: 60_000,
      priceFactor: 0.5,
      publish: () => undefined,
      onStoreAway: (away) => storeAway.push(`${away.kind} ${away.action}`),
      onAction: (kind, action, outcome) => actions.push(`${kind} ${action} ${outcome}`),
    });
    const app = Fastify();
    registerFormParser(app);
    const pipeline = alicePipeline();
    batches.register(app, '/v1', pipeline);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const form = new FormData();
      form.append('purpose', 'user_data');
      form.append('file', new Blob(['hello']), 'notes.txt');
      const port = (app.server.address() as AddressInfo).port;
      const response = await fetch(`http://127.0.0.1:${port}/v1/files`, {
        method: 'POST',
        headers: { 'x-ai-gateway-model': 'gpt-batch' },
        body: form,
      });
      const body = (await response.json()) as { error?: { type?: string; code?: string } };
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '1');
      assert.equal(body.error?.type, 'service_unavailable');
      assert.equal(body.error?.code, 'file_store_unavailable');
      assert.deepEqual(calls, ['POST /files', 'DELETE /files/file-made']);
      assert.deepEqual(storeAway, ['file create'], 'logged once, with its 503');
      assert.deepEqual(
        actions,
        ['file create store_unavailable'],
        "the gateway's store, not the backend",
      );
    } finally {
      await app.close();
    }
  });
});
