import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { BatchBilling } from './batch-billing';
import type { BatchHolds } from './batch-holds';
import type { FilesAndBatchesOptions, UnkeptBatch } from './files-and-batches-options';
import type { HeldObjectCalls } from './held-api';
import { MemoryHeldObjectStore } from './held-objects';
import { HeldRecords } from './held-records';
import { MessageBatchesApi } from './message-batches-api';
import { messageBatchRoute } from './testing/message-batch-route';

const config = messageBatchRoute();

/** An Anthropic backend that makes batch mb1, and may refuse to cancel it. */
class Backend implements HeldObjectCalls {
  readonly calls: string[] = [];
  cancelFails = false;
  async send(_backend: unknown, method: string, path: string) {
    this.calls.push(`${method} ${path}`);
    if (method === 'POST' && path === '/messages/batches/mb1/cancel' && this.cancelFails) {
      throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'Overloaded', {
        upstreamStatus: 529,
      });
    }
    const batch = { id: 'mb1', type: 'message_batch', processing_status: 'in_progress' };
    return {
      status: 200,
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify(batch)),
    };
  }
}

function setup() {
  const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
  // The store away for message batches: the batch made at its backend is not remembered.
  store.put = () => Promise.reject(new Error('store away'));
  const backend = new Backend();
  const released: string[] = [];
  const actions: string[] = [];
  const unkept: UnkeptBatch[] = [];
  const holds = {
    hold: () => Promise.resolve('hold-1'),
    release: (id: string) => {
      released.push(id);
      return Promise.resolve();
    },
  } as unknown as BatchHolds;
  const options: FilesAndBatchesOptions = {
    config: () => config,
    upstream: backend,
    store,
    holds,
    ttlMs: 60_000,
    priceFactor: 0.5,
    publish: () => undefined,
    onAction: (kind, action, outcome) => actions.push(`${kind} ${action} ${outcome}`),
    onUnkeptBatch: (batch) => unkept.push(batch),
  };
  const records = new HeldRecords(options, Date.now);
  const api = new MessageBatchesApi(options, records, new BatchBilling(options, records, Date.now));
  const params = {
    model: 'claude-batch',
    max_tokens: 10,
    messages: [{ role: 'user', content: 'hi' }],
  };
  const request = {
    headers: {},
    body: { requests: [{ custom_id: 'a', params }] },
  } as unknown as FastifyRequest;
  const create = () =>
    api.create(
      request,
      () => ({ userKey: 'alice', allowedModels: [], forwardHeaders: {} }),
      () => Promise.resolve(),
      (_model, _operation, body) => body,
    );
  return { backend, released, actions, unkept, create };
}

const storeAway = (error: unknown) =>
  error instanceof DataPlaneError &&
  error.httpStatus === 503 &&
  error.upstreamCode === 'batch_store_unavailable';

describe('a message batch the gateway could not remember', () => {
  it('is cancelled at its backend, its hold given back, and answered a 503 to retry', async () => {
    const t = setup();
    await assert.rejects(t.create(), storeAway);
    assert.deepEqual(t.backend.calls, [
      'POST /messages/batches',
      'POST /messages/batches/mb1/cancel',
    ]);
    assert.deepEqual(t.released, ['hold-1']);
    assert.deepEqual(
      t.unkept.map(({ backendBatchId, cancelled, route, backend }) => ({
        backendBatchId,
        cancelled,
        route,
        backend,
      })),
      [{ backendBatchId: 'mb1', cancelled: true, route: 'claude', backend: 'claude-batch' }],
    );
    assert.ok(t.actions.includes('message_batch unkept_cancel ok'));
  });

  it('is reported with its backend id for an operator when its cancel fails, its hold still given back', async () => {
    const t = setup();
    t.backend.cancelFails = true;
    await assert.rejects(t.create(), storeAway);
    assert.equal(t.unkept.length, 1);
    assert.equal(t.unkept[0].backendBatchId, 'mb1');
    assert.equal(t.unkept[0].cancelled, false);
    assert.ok(t.unkept[0].cancelError instanceof DataPlaneError);
    assert.deepEqual(t.released, ['hold-1']);
    assert.ok(t.actions.includes('message_batch unkept_cancel upstream_error'));
  });
});
