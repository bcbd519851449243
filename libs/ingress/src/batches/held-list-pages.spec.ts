import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import type { JsonObject } from '@aigw/contracts/data-plane';
import type { HeldObjectCalls, Query } from './held-api';
import { MemoryHeldObjectStore } from './held-objects';
import { backendReply, batchApis, HELD_TTL_MS as TTL } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';

/** A backend whose every batch is still running. */
const backend: HeldObjectCalls = {
  async send(_backend, _method, path) {
    const id = path.split('/').at(-1);
    return backendReply({ id, object: 'batch', status: 'in_progress' });
  },
};

/** Alice's files and batches APIs over a store holding `count` of each kind of hers. */
async function aliceWith(count: number) {
  const store = new MemoryHeldObjectStore({ maxEntries: 10_000, maxBytes: 100_000_000 });
  for (let at = 0; at < count; at++) {
    await store.put(heldOnBatchRoute('batch', `b${at}`, at), TTL);
    await store.put(
      heldOnBatchRoute('file', `f${at}`, at, { object: { object: 'file', purpose: 'batch' } }),
      TTL,
    );
  }
  const { batches, files } = batchApis(backend, { store });
  const who = async () => 'alice';
  const mine = async () => ['alice'];
  const request = (query: Query) => ({ query, headers: {} }) as unknown as FastifyRequest;
  return {
    listBatches: (query: Query) => batches.listBatches(request(query), mine, who),
    listFiles: (query: Query) => files.listFiles(request(query), mine, who),
  };
}

/** Every id a client paging with `after` reaches, as the SDKs' auto-pagination does. */
async function paged(
  list: (query: Query) => Promise<JsonObject>,
  limit: string,
): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await list({ limit, ...(after !== undefined && { after }) });
    ids.push(...(page.data as JsonObject[]).map((item) => item.id as string));
    if (page.has_more !== true) return ids;
    after = page.last_id as string;
  }
}

describe('listing batches', () => {
  it('pages through all of the owner’s batches, past the first hundred', async () => {
    const alice = await aliceWith(150);
    const ids = await paged(alice.listBatches, '100');
    assert.equal(ids.length, 150);
    assert.equal(new Set(ids).size, 150);
    assert.equal(ids[0], heldOnBatchRoute('batch', 'b149', 0).id, 'newest first');
  });
});

describe('listing files', () => {
  it('takes OpenAI’s limits: up to 10,000 a page, all of them by default', async () => {
    const alice = await aliceWith(150);
    assert.equal(((await alice.listFiles({ limit: '1000' })).data as JsonObject[]).length, 150);
    const all = await alice.listFiles({});
    assert.equal((all.data as JsonObject[]).length, 150);
    assert.equal(all.has_more, false);
    await assert.rejects(alice.listFiles({ limit: '10001' }), { httpStatus: 400 });
  });

  it('lists oldest first with order=asc, paging on with after', async () => {
    const alice = await aliceWith(3);
    const id = (at: number) => heldOnBatchRoute('file', `f${at}`, 0).id;
    const first = await alice.listFiles({ order: 'asc', limit: '2' });
    assert.deepEqual(
      (first.data as JsonObject[]).map((file) => file.id),
      [id(0), id(1)],
    );
    const rest = await alice.listFiles({ order: 'asc', limit: '2', after: id(1) });
    assert.deepEqual(
      (rest.data as JsonObject[]).map((file) => file.id),
      [id(2)],
    );
    assert.deepEqual(
      ((await alice.listFiles({ order: 'desc' })).data as JsonObject[]).map((file) => file.id),
      [id(2), id(1), id(0)],
    );
    await assert.rejects(alice.listFiles({ order: 'sideways' }), {
      httpStatus: 400,
      param: 'order',
    });
  });
});
