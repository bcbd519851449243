import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryResponseStore } from './memory-response-store';
import type { EvictionReason } from './response-store';
import { encodeStored } from './stored-response';
import { storedRecord } from './test-records';

const HOUR = 3_600_000;

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
    const [b, missing, a] = await store.get(['resp_b', 'resp_zzz', 'resp_a']);
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
    const one = Buffer.byteLength(encodeStored(storedRecord('resp_a', 'u')));
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
    const [again] = await store.get(['resp_a']);
    assert.deepEqual(
      again?.response.output[0],
      storedRecord('resp_a', 'u', { answered: 'second' }).response.output[0],
    );
    assert.equal(await store.delete('resp_a'), true);
    assert.equal(await store.delete('resp_a'), false);
    assert.deepEqual(store.size(), { entries: 0, bytes: 0 });
  });
});
