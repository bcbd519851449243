import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { createRedisClient } from '@aigw/infra';
import { startRedis, type RealService } from '@aigw/testing';
import { MAX_LISTED, RedisHeldObjectStore, type HeldRecord } from './held-objects';

const record = (owner: string, kind: 'file' | 'batch', createdAt: number): HeldRecord => {
  const id = `${kind}-aigw_${randomUUID()}`;
  return {
    id,
    kind,
    owner,
    model: 'gpt-batch',
    upstreamModel: 'up',
    route: 'r',
    backend: 'b',
    provider: 'openai',
    providerId: `p-${id}`,
    createdAt,
    object: { id, object: kind },
  };
};

describe('files and batches owners in real Redis', () => {
  let redis: RealService;
  let client: Redis;
  let store: RedisHeldObjectStore;

  before(async () => {
    redis = await startRedis();
    client = createRedisClient(redis.url);
    store = new RedisHeldObjectStore(client, true);
  });
  after(async () => {
    await store.close();
    await redis.stop();
  });

  it("gives back a record by id and lists each owner's, newest first, apart by kind", async () => {
    const owner = `alice-${randomUUID()}`;
    const older = record(owner, 'file', 1_000);
    const newer = record(owner, 'file', 2_000);
    const batch = record(owner, 'batch', 3_000);
    const other = record(`bob-${randomUUID()}`, 'file', 4_000);
    for (const r of [older, newer, batch, other]) await store.put(r, 60_000);
    assert.deepEqual(await store.get(older.id), older);
    assert.deepEqual(
      (await store.list(owner, 'file', 10)).map((r) => r.id),
      [newer.id, older.id],
    );
    assert.deepEqual(
      (await store.list(owner, 'batch', 10)).map((r) => r.id),
      [batch.id],
    );
    assert.deepEqual(
      (await store.list(owner, 'file', 1)).map((r) => r.id),
      [newer.id],
    );
    await store.delete(newer);
    assert.equal(await store.get(newer.id), undefined);
    assert.deepEqual(
      (await store.list(owner, 'file', 10)).map((r) => r.id),
      [older.id],
    );
  });

  it("keeps each owner's list index to the newest MAX_LISTED ids, as memory does", async () => {
    const owner = `erin-${randomUUID()}`;
    const records = Array.from({ length: MAX_LISTED + 5 }, (_, at) => record(owner, 'file', at));
    for (const r of records) await store.put(r, 60_000);
    // An owner who keeps uploading keeps the index alive: without a bound it only grows.
    assert.equal(await client.zcard(`aigw:held:v1:owner:file:${owner}`), MAX_LISTED);
    const listed = await store.list(owner, 'file', MAX_LISTED);
    assert.equal(listed.length, MAX_LISTED);
    assert.equal(listed[0].id, records.at(-1)!.id, 'the newest kept');
    assert.equal(listed.at(-1)!.id, records[5].id, 'the oldest five gone from the list');
  });

  it('forgets expired records, in lists too', async () => {
    const owner = `carol-${randomUUID()}`;
    const short = record(owner, 'file', 1);
    await store.put(short, 150);
    const kept = record(owner, 'file', 2);
    await store.put(kept, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await store.get(short.id), undefined);
    assert.deepEqual(
      (await store.list(owner, 'file', 10)).map((r) => r.id),
      [kept.id],
    );
  });

  it('keeps a list as long as its longest-lived record: one kept shorter does not cut it', async () => {
    const owner = `dave-${randomUUID()}`;
    // A file the backend deletes soon (uploaded with expires_after), then one kept long,
    // then the short one again (its state looked up): the long one stays listed.
    const long = record(owner, 'file', 1);
    const short = record(owner, 'file', 2);
    await store.put(long, 60_000);
    await store.put(short, 150);
    await store.put(short, 150);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      (await store.list(owner, 'file', 10)).map((r) => r.id),
      [long.id],
    );
    const ttl = await client.pttl(`aigw:held:v1:owner:file:${owner}`);
    assert.ok(ttl > 50_000 && ttl <= 60_000, String(ttl));
  });

  it('grants a claim to one of two replicas, and again once released', async () => {
    const other = new RedisHeldObjectStore(createRedisClient(redis.url), true);
    try {
      const key = `settled:batch_aigw_${randomUUID()}`;
      const results = await Promise.all([store.claim(key, 60_000), other.claim(key, 60_000)]);
      assert.deepEqual(results.sort(), [false, true]);
      await other.release(key);
      assert.equal(await store.claim(key, 60_000), true);
    } finally {
      await other.close();
    }
  });

  it('holds a claim for a new span from now, in one step', async () => {
    const key = `settled:batch_aigw_${randomUUID()}`;
    assert.equal(await store.claim(key, 1_000), true);
    await store.holdClaim(key, 60_000);
    assert.equal(await store.claim(key, 1_000), false);
    const ttl = await client.pttl(`aigw:held:v1:claim:${key}`);
    assert.ok(ttl > 50_000 && ttl <= 60_000, String(ttl));
  });

  it('indexes unbilled batches for every replica, least recently checked first, with a TTL', async () => {
    const other = new RedisHeldObjectStore(createRedisClient(redis.url), true);
    const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
    try {
      const [a, b, c] = [1, 2, 3].map(() => `batch_aigw_${randomUUID()}`);
      for (const id of [a, b, c]) {
        await store.addPending(id, 60_000);
        await pause();
      }
      assert.deepEqual(await other.pending(10), [a, b, c]);
      await other.touchPending(a); // checked just now: to the back
      await pause();
      await store.addPending(b, 60_000); // already indexed: its place is kept
      assert.deepEqual(await store.pending(10), [b, c, a]);
      await store.removePending(c);
      await other.touchPending(c); // a removed batch is not brought back
      assert.deepEqual(await other.pending(10), [b, a]);
      assert.deepEqual(await other.pending(1), [b]);
      const ttl = await client.pttl('aigw:held:v1:pending');
      assert.ok(ttl > 0 && ttl <= 60_000, String(ttl));
    } finally {
      await other.close();
    }
  });
});
