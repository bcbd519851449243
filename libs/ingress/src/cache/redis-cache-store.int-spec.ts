import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { createRedisClient } from '@aigw/infra';
import { startRedis, timelyRun, type RealService } from '@aigw/testing';
import { RedisResponseCacheStore } from './redis-cache-store';

describe('response cache in real Redis', () => {
  let redis: RealService;
  let client: Redis;
  let store: RedisResponseCacheStore;

  before(async () => {
    redis = await startRedis();
    client = createRedisClient(redis.url);
    store = new RedisResponseCacheStore(client);
  });
  after(async () => {
    await store.close();
    await redis.stop();
  });

  it('expires an entry after its TTL', async () => {
    // The read counts only when it landed within the TTL: a paused run is tried again.
    const { ns, stored, read } = await timelyRun('a read within the TTL', async () => {
      const ns = `ttl-${randomUUID()}`;
      const started = performance.now();
      const stored = await store.set(ns, 'k', 'value', 150);
      const read = await store.get(ns, 'k');
      return performance.now() - started < 150 ? { ns, stored, read } : undefined;
    });
    assert.equal(stored, true);
    assert.equal(read, 'value');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await store.get(ns, 'k'), undefined);
  });

  it('keeps a namespace within maxSize, evicting the entries closest to expiry', async () => {
    const ns = `size-${randomUUID()}`;
    const forty = 'x'.repeat(40);
    for (const key of ['a', 'b', 'c']) assert.ok(await store.set(ns, key, forty, 60_000, 100));
    assert.equal(await store.get(ns, 'a'), undefined, 'the oldest went to make room');
    assert.equal(await store.get(ns, 'b'), forty);
    assert.equal(await store.get(ns, 'c'), forty);
    assert.equal(await store.bytesIn(ns), 80);
    assert.equal(await store.set(ns, 'huge', 'x'.repeat(101), 60_000, 100), false);
    await store.set(ns, 'c', 'y'.repeat(10), 60_000, 100); // a replacement frees its old size
    assert.equal(await store.bytesIn(ns), 50);
    // Another namespace has its own budget.
    await store.set(`${ns}-other`, 'a', forty, 60_000, 100);
    assert.equal(await store.bytesIn(ns), 50);
  });

  it('tells how many live entries a write evicted to stay within maxSize', async () => {
    const ns = `evicted-${randomUUID()}`;
    const evicted: [string, number][] = [];
    const counting = new RedisResponseCacheStore(
      client,
      false,
      (reason, count) => void evicted.push([reason, count]),
    );
    const forty = 'x'.repeat(40);
    for (const key of ['a', 'b']) assert.ok(await counting.set(ns, key, forty, 60_000, 100));
    assert.deepEqual(evicted, [], 'both fit');
    assert.ok(await counting.set(ns, 'c', 'x'.repeat(100), 60_000, 100));
    assert.deepEqual(evicted, [['max_size', 2]]);
    assert.equal(await counting.set(ns, 'huge', 'x'.repeat(101), 60_000, 100), false);
    assert.deepEqual(evicted, [['max_size', 2]], 'too large: nothing written, nothing evicted');
    assert.equal(await counting.get(ns, 'c'), 'x'.repeat(100));
  });

  it('stores nothing under a maxSize of 0, as the memory store does', async () => {
    const ns = `zero-${randomUUID()}`;
    assert.equal(await store.set(ns, 'k', 'value', 60_000, 0), false);
    assert.equal(await store.get(ns, 'k'), undefined);
    assert.equal(await store.bytesIn(ns), 0);
  });

  it('forgets the size of entries Redis expired by itself', async () => {
    const ns = `sweep-${randomUUID()}`;
    await store.set(ns, 'short', 'x'.repeat(60), 100, 100);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.ok(await store.set(ns, 'next', 'y'.repeat(60), 60_000, 100));
    assert.equal(await store.bytesIn(ns), 60);
    assert.equal(await store.get(ns, 'next'), 'y'.repeat(60));
  });

  it('holds the budget under concurrent writers', async () => {
    const ns = `race-${randomUUID()}`;
    const value = 'z'.repeat(100);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.set(ns, `k${i}`, value, 60_000, 1_000)),
    );
    assert.equal(await store.bytesIn(ns), 1_000);
    let live = 0;
    for (let i = 0; i < 50; i++) if ((await store.get(ns, `k${i}`)) !== undefined) live++;
    assert.equal(live, 10);
  });

  it('counts the bytes of live entries by the clock of Redis, not of a replica running ahead', async () => {
    const ns = `skew-${randomUUID()}`;
    const forty = 'x'.repeat(40);
    assert.ok(await store.set(ns, 'first', forty, 60_000, 100));
    // Another replica, its clock ten minutes ahead of Redis: "first" still lives in Redis
    // for a minute, so it must still be counted (and be the one evicted to make room).
    const realNow = Date.now;
    const ahead = mock.method(Date, 'now', () => realNow() + 10 * 60_000);
    try {
      assert.ok(await store.set(ns, 'second', forty, 60_000, 100));
      assert.equal(await store.get(ns, 'first'), forty, 'still live in Redis');
      assert.equal(await store.bytesIn(ns), 80, 'both live entries counted');
      assert.ok(await store.set(ns, 'third', forty, 60_000, 100));
    } finally {
      ahead.mock.restore();
    }
    assert.equal(await store.get(ns, 'first'), undefined, 'evicted to stay within maxSize');
    assert.equal(await store.get(ns, 'second'), forty);
    assert.equal(await store.get(ns, 'third'), forty);
    assert.equal(await store.bytesIn(ns), 80);
  });
});
