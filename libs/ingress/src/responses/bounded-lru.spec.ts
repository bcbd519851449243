import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedLru, type LruEntry } from './bounded-lru';
import type { EvictionReason } from './state/response-store';

interface Item extends LruEntry {
  readonly name: string;
}

function lruWith(maxEntries: number, maxBytes: number) {
  let now = 1_000;
  const evicted: EvictionReason[] = [];
  const lru = new BoundedLru<Item>(
    { maxEntries, maxBytes },
    (reason) => evicted.push(reason),
    () => now,
  );
  const item = (name: string, bytes: number, ttlMs = 60_000): Item => ({
    name,
    bytes,
    expiresAt: now + ttlMs,
  });
  return { lru, evicted, item, advance: (ms: number) => (now += ms) };
}

describe('bounded LRU', () => {
  it('evicts the least recently used when the entries are at their limit', () => {
    const { lru, evicted, item } = lruWith(2, 1_000);
    lru.add('a', item('a', 10));
    lru.add('b', item('b', 10));
    assert.equal(lru.live('a')?.name, 'a'); // a is now more recent than b
    lru.add('c', item('c', 10));
    assert.equal(lru.live('b'), undefined);
    assert.equal(lru.live('a')?.name, 'a');
    assert.equal(lru.live('c')?.name, 'c');
    assert.deepEqual(evicted, ['capacity']);
    assert.deepEqual(lru.size(), { entries: 2, bytes: 20 });
  });

  it('evicts until the bytes fit, oldest first', () => {
    const { lru, evicted, item } = lruWith(10, 100);
    lru.add('a', item('a', 40));
    lru.add('b', item('b', 40));
    lru.add('c', item('c', 20));
    lru.add('d', item('d', 70));
    assert.deepEqual(evicted, ['capacity', 'capacity']);
    assert.equal(lru.live('a'), undefined);
    assert.equal(lru.live('b'), undefined);
    assert.deepEqual(lru.size(), { entries: 2, bytes: 90 });
  });

  it('drops an expired entry when read, and sweeps expired old ones when adding with room to spare', () => {
    const { lru, evicted, item, advance } = lruWith(10, 1_000);
    lru.add('a', item('a', 10, 1_000));
    lru.add('b', item('b', 10, 60_000));
    lru.add('c', item('c', 10, 1_000));
    advance(1_000);
    assert.equal(lru.live('c'), undefined);
    assert.deepEqual(evicted, ['expired']);
    lru.add('d', item('d', 10));
    assert.deepEqual(evicted, ['expired', 'expired']);
    assert.equal(lru.live('a'), undefined);
    assert.equal(lru.live('b')?.name, 'b');
    assert.deepEqual(lru.size(), { entries: 2, bytes: 20 });
  });

  it('counts a resized entry, and forgets removed and cleared ones without calling them evicted', () => {
    const { lru, evicted, item } = lruWith(10, 1_000);
    const a = item('a', 10);
    lru.add('a', a);
    lru.add('b', item('b', 10));
    lru.resize(a, 15);
    assert.equal(a.bytes, 25);
    assert.deepEqual(lru.size(), { entries: 2, bytes: 35 });
    assert.equal(lru.remove('a'), true);
    assert.equal(lru.remove('a'), false);
    assert.deepEqual(lru.size(), { entries: 1, bytes: 10 });
    lru.clear();
    assert.deepEqual(lru.size(), { entries: 0, bytes: 0 });
    assert.deepEqual(evicted, []);
  });
});
