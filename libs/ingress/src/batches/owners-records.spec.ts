// A caller's records under each owner key its routes give it, as one list.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHeldObjectStore } from './held-objects';
import { ownerKeys, recordsOfOwners } from './owners-records';
import { HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';

describe('recordsOfOwners', () => {
  it("merges each owner's records newest first, at most max, and reads no one else's", async () => {
    const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
    const put = (providerId: string, createdAt: number, owner: string) =>
      store.put({ ...heldOnBatchRoute('file', providerId, createdAt), owner }, HELD_TTL_MS);
    await put('jwt-old', 1, 'jwt:a:sub:alice');
    await put('header-mid', 2, 'header:x-user-id:alice');
    await put('jwt-new', 3, 'jwt:a:sub:alice');
    await put('bob', 4, 'bob');
    const owners = ['jwt:a:sub:alice', 'header:x-user-id:alice'];
    const listed = async (max: number) =>
      (await recordsOfOwners(store, owners, 'file', max)).map((record) => record.providerId);
    assert.deepEqual(await listed(10), ['jwt-new', 'header-mid', 'jwt-old']);
    assert.deepEqual(await listed(2), ['jwt-new', 'header-mid']);
    assert.deepEqual(await recordsOfOwners(store, [], 'file', 10), []);
  });

  it('makes a list of one owner key, or none', () => {
    assert.deepEqual(ownerKeys('alice'), ['alice']);
    assert.deepEqual(ownerKeys(undefined), []);
  });
});
