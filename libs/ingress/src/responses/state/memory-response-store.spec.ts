import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryResponseStore } from './memory-response-store';
import type { EvictionReason } from './response-store';
import { asRecords, storedRecord } from './test-records';

const HOUR = 3_600_000;

setFlagsFromString('--expose-gc'); // for the heap measures below

function storeWith(limits: { maxEntries?: number; maxBytes?: number } = {}) {
  let now = 1_000;
  const evicted: EvictionReason[] = [];
  const store = new MemoryResponseStore(
    { maxEntries: limits.maxEntries ?? 100, maxBytes: limits.maxBytes ?? 1_000_000 },
    (reason) => evicted.push(reason),
    () => now,
  );
  return { store, evicted, advance: (ms: number) => (now += ms) };
}

describe('in-process response store', () => {
  it('gives back a copy of what it stored, by id, in the order asked', async () => {
    const { store } = storeWith();
    const record = storedRecord('resp_a', 'alice');
    assert.equal(await store.put(record, HOUR), true);
    await store.put(storedRecord('resp_b', 'bob'), HOUR);
    const [b, missing, a] = asRecords(await store.get(['resp_b', 'resp_zzz', 'resp_a']));
    assert.equal(b?.owner, 'bob');
    assert.equal(missing, undefined);
    assert.deepEqual(a, record);
    assert.notEqual(a, record, 'a copy: mutating what was stored changes nothing');
  });

  it('forgets a record once its TTL has passed', async () => {
    const { store, evicted, advance } = storeWith();
    await store.put(storedRecord('resp_a', 'alice'), HOUR);
    advance(HOUR - 1);
    assert.ok((await store.get(['resp_a']))[0]);
    advance(1);
    assert.equal((await store.get(['resp_a']))[0], undefined);
    assert.deepEqual(evicted, ['expired']);
    assert.deepEqual(store.size(), { entries: 0, bytes: 0 });
  });

  it('keeps within max entries, evicting the least recently used', async () => {
    const { store, evicted } = storeWith({ maxEntries: 2 });
    await store.put(storedRecord('resp_a', 'u'), HOUR);
    await store.put(storedRecord('resp_b', 'u'), HOUR);
    await store.get(['resp_a']); // a is now more recent than b
    await store.put(storedRecord('resp_c', 'u'), HOUR);
    const [a, b, c] = await store.get(['resp_a', 'resp_b', 'resp_c']);
    assert.ok(a && c);
    assert.equal(b, undefined);
    assert.deepEqual(evicted, ['capacity']);
    assert.equal(store.size().entries, 2);
  });

  it('keeps within max bytes, and refuses a record larger than the whole budget', async () => {
    const sizing = storeWith().store;
    await sizing.put(storedRecord('resp_a', 'u'), HOUR);
    const one = sizing.size().bytes;
    const { store, evicted } = storeWith({ maxBytes: one * 2 + 10 });
    await store.put(storedRecord('resp_a', 'u'), HOUR);
    await store.put(storedRecord('resp_b', 'u'), HOUR);
    await store.put(storedRecord('resp_c', 'u'), HOUR);
    assert.equal((await store.get(['resp_a']))[0], undefined, 'the oldest made room');
    assert.ok(store.size().bytes <= one * 2 + 10);
    assert.deepEqual(evicted, ['capacity']);
    assert.equal(await store.put(storedRecord('resp_big', 'u', { padding: one * 3 }), HOUR), false);
    assert.equal(store.size().entries, 2, 'a refused record evicts nothing');
  });

  it('replaces a record stored again under its id, and deletes one', async () => {
    const { store } = storeWith();
    await store.put(storedRecord('resp_a', 'u', { answered: 'first' }), HOUR);
    await store.put(storedRecord('resp_a', 'u', { answered: 'second' }), HOUR);
    assert.equal(store.size().entries, 1);
    const [again] = asRecords(await store.get(['resp_a']));
    assert.deepEqual(
      again?.response.output[0],
      storedRecord('resp_a', 'u', { answered: 'second' }).response.output[0],
    );
    assert.equal(await store.delete('resp_a'), true);
    assert.equal(await store.delete('resp_a'), false);
    assert.deepEqual(store.size(), { entries: 0, bytes: 0 });
  });

  /** How much the heap grew holding records answered `text(i)` within `bound`. */
  async function heapGrowth(bound: number, count: number, text: (i: number) => string) {
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const store = new MemoryResponseStore({ maxEntries: 1_000_000, maxBytes: bound });
    for (let i = 0; i < count; i++) {
      const id = `resp_${randomBytes(24).toString('hex')}`;
      // Parsed, as an upstream answer is: no string shared between records.
      const answered = JSON.parse(JSON.stringify(text(i))) as string;
      await store.put(storedRecord(id, 'alice', { answered }), HOUR);
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    await store.close();
    return grown;
  }

  it('counts a record with a character past U+00FF at the two bytes a character V8 holds it in', async () => {
    // One em dash in a 2000-character answer: counted in UTF-8, a 16 MiB bound held 33 MiB.
    const bound = 16 * 1024 * 1024;
    const grown = await heapGrowth(bound, 6_000, (i) => `${i}${'x'.repeat(2_000)}\u2014`);
    assert.ok(
      grown < 1.15 * bound,
      `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB for a 16 MiB bound`,
    );
  });

  it('counts each record’s id and bookkeeping, not its JSON alone', async () => {
    // Small records (a 100-character answer, ~700 bytes of JSON) weigh ~150 bytes more each.
    const bound = 16 * 1024 * 1024;
    const grown = await heapGrowth(bound, 25_000, (i) => `${i}${'x'.repeat(100)}`);
    assert.ok(
      grown < 1.15 * bound,
      `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB for a 16 MiB bound`,
    );
  });
});
