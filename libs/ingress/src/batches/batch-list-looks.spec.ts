import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { BatchBilling } from './batch-billing';
import type { FilesAndBatchesOptions } from './files-and-batches-options';
import type { HeldObjectCalls, Query } from './held-api';
import { MemoryHeldObjectStore, type HeldRecord } from './held-objects';
import { HeldRecords } from './held-records';
import { MAX_LIST_LOOKS } from './listed-batches';
import { MessageBatchesApi } from './message-batches-api';
import { backendReply, batchApis, HELD_TTL_MS as TTL } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
import { heldMessageBatch, messageBatchRoute } from './testing/message-batch-route';

/** A backend whose every batch is still running, of either API; it counts the looks. */
class Backend implements HeldObjectCalls {
  readonly looks: string[] = [];
  async send(_backend: unknown, _method: string, path: string) {
    this.looks.push(path);
    const id = path.split('/').at(-1);
    return path.startsWith('/messages/')
      ? backendReply({ id, type: 'message_batch', processing_status: 'in_progress' })
      : backendReply({ id, object: 'batch', status: 'in_progress' });
  }
}

const newStore = () => new MemoryHeldObjectStore({ maxEntries: 10_000, maxBytes: 100_000_000 });
const request = (query: Query) => ({ query, headers: {} }) as unknown as FastifyRequest;
const mine = async () => ['alice'];
const who = async () => 'alice';
const ids = (page: JsonObject) => (page.data as JsonObject[]).map((batch) => batch.id);

/** Alice's OpenAI batches, `count` of them made with `object` (newest last), listed. */
async function openAiBatches(count: number, object: JsonObject, extra: Partial<HeldRecord> = {}) {
  const store = newStore();
  const made: HeldRecord[] = [];
  for (let at = 0; at < count; at++) {
    const record = { ...heldOnBatchRoute('batch', `b${at}`, at, { object }), ...extra };
    made.unshift(record);
    await store.put(record, TTL);
  }
  const backend = new Backend();
  const { batches } = batchApis(backend, { store });
  return {
    backend,
    made,
    list: (query: Query) => batches.listBatches(request(query), mine, who),
  };
}

/** Alice's message batches, `count` of them with `object` (newest last), listed. */
async function messageBatches(count: number, object: JsonObject, extra: Partial<HeldRecord> = {}) {
  const store = newStore();
  const made: HeldRecord[] = [];
  for (let at = 0; at < count; at++) {
    const record = heldMessageBatch(`mb${at}`, object, { createdAt: at, ...extra });
    made.unshift(record);
    await store.put(record, TTL);
  }
  const backend = new Backend();
  const config = messageBatchRoute();
  const options: FilesAndBatchesOptions = {
    config: () => config,
    upstream: backend,
    store,
    ttlMs: TTL,
    priceFactor: 0.5,
    publish: () => undefined,
  };
  const records = new HeldRecords(options, Date.now);
  const api = new MessageBatchesApi(options, records, new BatchBilling(options, records, Date.now));
  return {
    backend,
    made,
    list: (query: Query) => api.list(request(query), mine, who),
  };
}

describe('a list of batches', () => {
  it(`looks at most ${MAX_LIST_LOOKS} running OpenAI batches up at their backend, newest first`, async () => {
    const alice = await openAiBatches(100, { object: 'batch', status: 'in_progress' });
    const page = await alice.list({ limit: '100' });
    assert.equal(alice.backend.looks.length, MAX_LIST_LOOKS);
    assert.deepEqual(
      alice.backend.looks,
      alice.made.slice(0, MAX_LIST_LOOKS).map((record) => `/batches/${record.providerId}`),
    );
    // The page is whole and in order all the same, the others as the gateway last saw them.
    assert.deepEqual(
      ids(page),
      alice.made.map((record) => record.id),
    );
    assert.equal(page.first_id, alice.made[0].id);
    assert.equal(page.last_id, alice.made[99].id);
    assert.equal(page.has_more, false);
    assert.deepEqual((page.data as JsonObject[])[99], alice.made[99].object);
  });

  it('answers ended and billed OpenAI batches as last seen, with no backend call', async () => {
    const alice = await openAiBatches(
      30,
      { object: 'batch', status: 'completed', output_file_id: 'file-aigw_out' },
      { billed: true },
    );
    const page = await alice.list({ limit: '20' });
    assert.deepEqual(alice.backend.looks, []);
    assert.equal((page.data as JsonObject[]).length, 20);
    assert.equal(page.has_more, true);
    assert.equal((page.data as JsonObject[])[0].status, 'completed');
  });

  it('still looks up an ended OpenAI batch that owes its bill', async () => {
    const alice = await openAiBatches(3, {
      object: 'batch',
      status: 'completed',
      output_file_id: 'file-aigw_out',
    });
    await alice.list({});
    assert.equal(alice.backend.looks.length, 3);
  });

  it(`looks at most ${MAX_LIST_LOOKS} running message batches up of a page of 1,000`, async () => {
    const alice = await messageBatches(1_000, {
      type: 'message_batch',
      processing_status: 'in_progress',
    });
    const page = await alice.list({ limit: '1000' });
    assert.equal(alice.backend.looks.length, MAX_LIST_LOOKS);
    assert.equal((page.data as JsonObject[]).length, 1_000);
    assert.equal(page.first_id, alice.made[0].id);
    assert.equal(page.last_id, alice.made[999].id);
    assert.equal(page.has_more, false);
  });

  it('answers ended message batches with nothing owed as last seen, with no backend call', async () => {
    const ended = { type: 'message_batch', processing_status: 'ended' };
    const billed = await messageBatches(
      10,
      { ...ended, request_counts: { succeeded: 2 } },
      { billed: true },
    );
    await billed.list({});
    assert.deepEqual(billed.backend.looks, []);
    // None succeeded, its hold already given back: nothing will change.
    const empty = await messageBatches(10, { ...ended, request_counts: { succeeded: 0 } });
    await empty.list({});
    assert.deepEqual(empty.backend.looks, []);
    // Ended with requests succeeded, not yet billed: looked up (and billed).
    const owing = await messageBatches(4, { ...ended, request_counts: { succeeded: 1 } });
    await owing.list({});
    assert.equal(owing.backend.looks.filter((path) => !path.endsWith('/results')).length, 4);
  });
});
