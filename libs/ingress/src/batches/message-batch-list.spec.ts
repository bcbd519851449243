import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { BatchBilling } from './batch-billing';
import type { FilesAndBatchesOptions } from './files-and-batches-options';
import type { HeldObjectCalls, Query } from './held-api';
import { MemoryHeldObjectStore } from './held-objects';
import { HeldRecords } from './held-records';
import { MessageBatchesApi } from './message-batches-api';
import { heldMessageBatch, messageBatchRoute } from './testing/message-batch-route';

const config = messageBatchRoute();

/** Each batch running at its backend, as a retrieve answers it. */
const backend: HeldObjectCalls = {
  send: (_backend: unknown, _method: string, path: string) => {
    const providerId = path.split('/').at(-1);
    const batch = { id: providerId, type: 'message_batch', processing_status: 'in_progress' };
    return Promise.resolve({
      status: 200,
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify(batch)),
    });
  },
};

const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
const options: FilesAndBatchesOptions = {
  config: () => config,
  upstream: backend,
  store,
  ttlMs: 60_000,
  priceFactor: 0.5,
  publish: () => undefined,
};
const records = new HeldRecords(options, Date.now);
const api = new MessageBatchesApi(options, records, new BatchBilling(options, records, Date.now));
/** Alice's five batches, newest first. */
const ids: string[] = [];

const list = async (query: Query) => {
  const request = { query, headers: {} } as unknown as FastifyRequest;
  const page = await api.list(
    request,
    () => ['alice'],
    () => 'alice',
  );
  const listed: Record<string, unknown> & { ids: unknown[] } = {
    ...page,
    ids: (page.data as JsonObject[]).map((batch) => batch.id),
  };
  return listed;
};

describe("a caller's message batches listed", () => {
  before(async () => {
    for (let at = 0; at < 5; at += 1) {
      const batch = heldMessageBatch(`mb${at}`, {}, { createdAt: 1_000 + at });
      await store.put(batch, 60_000);
      ids.unshift(batch.id);
    }
  });

  it('pages newest first, on from last_id with after_id and back from first_id with before_id', async () => {
    const first = await list({ limit: '2' });
    assert.deepEqual(first.ids, ids.slice(0, 2));
    assert.equal(first.has_more, true);
    assert.equal(first.first_id, ids[0]);
    assert.equal(first.last_id, ids[1]);
    const next = await list({ limit: '2', after_id: first.last_id });
    assert.deepEqual(next.ids, ids.slice(2, 4));
    assert.equal(next.has_more, true);
    const last = await list({ limit: '2', after_id: next.last_id as string });
    assert.deepEqual(last.ids, ids.slice(4));
    assert.equal(last.has_more, false);
    // Back: the page just newer than the first of the last page, and whether any is newer still.
    const back = await list({ limit: '2', before_id: last.first_id as string });
    assert.deepEqual(back.ids, ids.slice(2, 4));
    assert.equal(back.has_more, true);
    const top = await list({ limit: '2', before_id: ids[2] });
    assert.deepEqual(top.ids, ids.slice(0, 2));
    assert.equal(top.has_more, false);
  });

  it('takes 20 unset and refuses a limit outside 1 to 1000, naming limit', async () => {
    const all = await list({});
    assert.deepEqual(all.ids, ids);
    assert.equal(all.has_more, false);
    for (const limit of ['0', '1001', '2.5', 'ten']) {
      await assert.rejects(
        list({ limit }),
        (error: unknown) =>
          error instanceof DataPlaneError && error.httpStatus === 400 && error.param === 'limit',
        limit,
      );
    }
  });

  it('is an empty page with null ids for a caller with none', async () => {
    const request = { query: {}, headers: {} } as unknown as FastifyRequest;
    const page = await api.list(
      request,
      () => ['bob'],
      () => 'bob',
    );
    assert.deepEqual(page, { data: [], has_more: false, first_id: null, last_id: null });
  });
});
