import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import type { JsonObject } from '@aigw/contracts/data-plane';
import type { BatchFinished } from './files-and-batches-options';
import type { HeldObjectCalls } from './held-api';
import { MemoryHeldObjectStore } from './held-objects';
import { backendReply, batchApis, HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';

/** A backend running batch b1, in the status the test sets; its output is empty. */
class Backend implements HeldObjectCalls {
  status: JsonObject = { status: 'validating' };

  async send(_target: unknown, method: string, path: string) {
    if (path.startsWith('/files/')) return backendReply('', 'application/jsonl');
    if (method === 'POST' && path === '/batches') return backendReply({ id: 'b1', ...this.status });
    return backendReply({ id: 'b1', object: 'batch', ...this.status });
  }
}

async function running() {
  const backend = new Backend();
  const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
  const finished: BatchFinished[] = [];
  const onFinished = (done: BatchFinished) => finished.push(done);
  const replicas = [
    batchApis(backend, { store, onFinished }),
    batchApis(backend, { store, onFinished }),
  ];
  const file = heldOnBatchRoute('file', 'f1', Date.now(), {
    object: { purpose: 'batch' },
    estimate: { inputTokens: 1, outputTokens: 1, requests: 3, urls: ['/v1/chat/completions'] },
  });
  await store.put(file, HELD_TTL_MS);
  const alice = async () => 'alice';
  const none = async () => undefined;
  const created = await replicas[0].batches.createBatch(
    {
      body: { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' },
      headers: {},
    } as unknown as FastifyRequest,
    alice,
    none,
    none,
  );
  const request = {
    params: { id: created.id },
    query: {},
    headers: {},
  } as unknown as FastifyRequest;
  const retrieve = (replica = 0) => replicas[replica].batches.retrieveBatch(request, alice);
  const list = () => replicas[1].batches.listBatches(request, async () => ['alice'], alice);
  return { backend, finished, retrieve, list };
}

describe('a finished batch, for operators', () => {
  it('is counted once, with its requests, however many looks and replicas see it', async () => {
    const t = await running();
    t.backend.status = { status: 'in_progress' };
    await t.retrieve();
    assert.deepEqual(t.finished, [], 'not finished yet');
    t.backend.status = {
      status: 'completed',
      output_file_id: 'out1',
      request_counts: { total: 3, completed: 2, failed: 1 },
    };
    await Promise.all([t.retrieve(0), t.retrieve(1)]);
    await t.retrieve(1);
    await t.list();
    assert.deepEqual(t.finished, [
      { status: 'completed', completedRequests: 2, failedRequests: 1 },
    ]);
  });

  it('is counted when it fails at the backend, with nothing run', async () => {
    const t = await running();
    t.backend.status = { status: 'failed', errors: { data: [{ code: 'invalid_request' }] } };
    await t.retrieve();
    await t.retrieve();
    assert.deepEqual(t.finished, [{ status: 'failed', completedRequests: 0, failedRequests: 0 }]);
  });
});
