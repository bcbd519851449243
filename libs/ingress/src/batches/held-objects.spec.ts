import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHeldObjectStore, type HeldRecord } from './held-objects';

const record = (id: string, owner: string, kind: 'file' | 'batch' = 'file'): HeldRecord => ({
  id,
  kind,
  owner,
  model: 'gpt-batch',
  upstreamModel: 'up',
  route: 'r',
  backend: 'b',
  provider: 'openai',
  providerId: `p-${id}`,
  createdAt: 0,
  object: { id },
});

describe('held objects in memory', () => {
  it("lists each owner's records of a kind, newest first, and forgets deleted ones", async () => {
    const store = new MemoryHeldObjectStore({ maxEntries: 10, maxBytes: 1_000_000 });
    await store.put(record('f1', 'alice'), 60_000);
    await store.put(record('f2', 'bob'), 60_000);
    await store.put(record('f3', 'alice'), 60_000);
    await store.put(record('b1', 'alice', 'batch'), 60_000);
    await store.put(record('f1', 'alice'), 60_000); // an update is not listed twice
    assert.deepEqual(
      (await store.list('alice', 'file', 10)).map((r) => r.id),
      ['f3', 'f1'],
    );
    assert.deepEqual(
      (await store.list('alice', 'batch', 10)).map((r) => r.id),
      ['b1'],
    );
    assert.deepEqual(
      (await store.list('bob', 'file', 10)).map((r) => r.id),
      ['f2'],
    );
    await store.delete(record('f3', 'alice'));
    assert.equal(await store.get('f3'), undefined);
    assert.deepEqual(
      (await store.list('alice', 'file', 1)).map((r) => r.id),
      ['f1'],
    );
  });

  it('expires records and drops the least recently used past its bound', async () => {
    let now = 0;
    const store = new MemoryHeldObjectStore(
      { maxEntries: 2, maxBytes: 1_000_000 },
      undefined,
      () => now,
    );
    await store.put(record('f1', 'alice'), 1_000);
    await store.put(record('f2', 'alice'), 60_000);
    await store.put(record('f3', 'alice'), 60_000);
    assert.equal(await store.get('f1'), undefined);
    now = 2_000;
    assert.deepEqual(
      (await store.list('alice', 'file', 10)).map((r) => r.id),
      ['f3', 'f2'],
    );
  });

  it('lists a record expiring while the list is made as it found it, never failing', async () => {
    // A clock that moves on each read, as Date.now() may between two of a list's looks.
    let now = 0;
    const store = new MemoryHeldObjectStore(
      { maxEntries: 10, maxBytes: 1_000_000 },
      undefined,
      () => now++,
    );
    await store.put(record('f1', 'alice'), 3);
    assert.deepEqual(
      (await store.list('alice', 'file', 10)).map((r) => r.id),
      ['f1'],
    );
  });

  it('grants a claim once until released or expired', async () => {
    let now = 0;
    const store = new MemoryHeldObjectStore(
      { maxEntries: 10, maxBytes: 1_000_000 },
      undefined,
      () => now,
    );
    assert.equal(await store.claim('settled:b1', 1_000), true);
    assert.equal(await store.claim('settled:b1', 1_000), false);
    await store.release('settled:b1');
    assert.equal(await store.claim('settled:b1', 1_000), true);
    now = 5_000;
    assert.equal(await store.claim('settled:b1', 1_000), true);
  });

  it('holds a claim for a new span from now, whoever held it', async () => {
    let now = 0;
    const store = new MemoryHeldObjectStore(
      { maxEntries: 10, maxBytes: 1_000_000 },
      undefined,
      () => now,
    );
    assert.equal(await store.claim('settled:b1', 1_000), true);
    await store.holdClaim('settled:b1', 60_000);
    now = 59_000;
    assert.equal(await store.claim('settled:b1', 1_000), false);
    now = 61_000;
    assert.equal(await store.claim('settled:b1', 1_000), true);
  });

  it('indexes unbilled batches least recently checked first, bounded and expiring', async () => {
    let now = 0;
    const store = new MemoryHeldObjectStore(
      { maxEntries: 3, maxBytes: 1_000_000 },
      undefined,
      () => now,
    );
    for (const id of ['b1', 'b2', 'b3']) await store.addPending(id, 1_000);
    await store.touchPending('b1');
    await store.addPending('b2', 1_000); // already indexed: its place is kept
    assert.deepEqual(await store.pending(10), ['b2', 'b3', 'b1']);
    await store.addPending('b4', 5_000); // past the bound: the least recently checked goes
    assert.deepEqual(await store.pending(10), ['b3', 'b1', 'b4']);
    await store.removePending('b3');
    await store.touchPending('b3');
    assert.deepEqual(await store.pending(1), ['b1']);
    now = 2_000;
    assert.deepEqual(await store.pending(10), ['b4']);
  });
});
