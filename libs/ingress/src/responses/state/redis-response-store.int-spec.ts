import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { createRedisClient } from '@aigw/infra';
import { startRedis, timelyRun, type RealService } from '@aigw/testing';
import { CHECKPOINT_INTERVAL } from './chain-position';
import { RedisResponseStore } from './redis-response-store';
import { ResponseState } from './response-state';
import { asRecords, storedRecord } from './test-records';

describe('stored responses in real Redis', () => {
  let redis: RealService;
  let client: Redis;
  let store: RedisResponseStore;
  const id = () => `resp_${randomUUID().replace(/-/g, '')}`;

  before(async () => {
    redis = await startRedis();
    client = createRedisClient(redis.url);
    store = new RedisResponseStore(client, 100_000);
  });
  after(async () => {
    await store.close();
    await redis.stop();
  });

  it('gives back what it stored, by id, in the order asked, and deletes it', async () => {
    const [a, b] = [id(), id()];
    const record = storedRecord(a, 'alice');
    assert.equal(await store.put(record, 60_000), true);
    await store.put(storedRecord(b, 'bob'), 60_000);
    const [gotB, missing, gotA] = asRecords(await store.get([b, id(), a]));
    assert.equal(gotB?.owner, 'bob');
    assert.equal(missing, undefined);
    assert.deepEqual(gotA, record);
    assert.equal(await store.delete(a), true);
    assert.equal(await store.delete(a), false);
    assert.deepEqual(await store.get([a]), [undefined]);
  });

  it('lets a record expire with its TTL, and refuses one over its size cap', async () => {
    // The read counts only when it landed within the TTL: a paused run is tried again.
    const { short, read } = await timelyRun('a read within the TTL', async () => {
      const short = id();
      const started = performance.now();
      await store.put(storedRecord(short, 'alice'), 150);
      const [read] = await store.get([short]);
      return performance.now() - started < 150 ? { short, read } : undefined;
    });
    assert.ok(read);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await store.get([short]), [undefined]);
    const big = id();
    assert.equal(await store.put(storedRecord(big, 'alice', { padding: 100_000 }), 60_000), false);
    assert.equal(await client.exists(`aigw:resp:v1:${big}`), 0);
  });

  it('keeps callers apart and replays a chain across processes sharing the Redis', async () => {
    const [a, b] = [id(), id()];
    // Two ingress replicas: one stores, the other continues the conversation.
    const writer = new ResponseState({ store, ttlMs: 60_000 });
    const other = new RedisResponseStore(createRedisClient(redis.url), 100_000);
    const reader = new ResponseState({ store: other, ttlMs: 60_000 });
    try {
      await writer.save(storedRecord(a, 'alice'));
      await writer.save(storedRecord(b, 'alice'), [a]);
      const { ids, items } = await reader.history(() => 'alice', b);
      assert.deepEqual(ids, [a, b]);
      assert.equal(items.length, 4);
      await assert.rejects(
        reader.history(() => 'bob', b),
        /not found/,
      );
      await assert.rejects(reader.find('bob', a), /not found/);
    } finally {
      await other.close();
    }
  });

  it('stores a long chain in linear space, keeps it alive with its newest turn, and reads older records', async () => {
    const state = new ResponseState({ store, ttlMs: 60_000 });
    const turns = 2 * CHECKPOINT_INTERVAL + 4;
    const ids = Array.from({ length: turns }, () => id());
    // The first ten as the release before wrote them: whole ancestor lists, a short TTL.
    for (let turn = 0; turn < 10; turn++) {
      const legacy = storedRecord(ids[turn], 'alice', { ancestors: ids.slice(0, turn) });
      await client.set(`aigw:resp:v1:${ids[turn]}`, JSON.stringify(legacy), 'PX', 5_000);
    }
    for (let turn = 10; turn < turns; turn++) {
      const { ids: earlier } = await state.history(() => 'alice', ids[turn - 1]);
      assert.deepEqual(earlier, ids.slice(0, turn));
      assert.equal(await state.save(storedRecord(ids[turn], 'alice'), earlier), true);
    }
    const sizes = await Promise.all(ids.map((each) => client.strlen(`aigw:resp:v1:${each}`)));
    // A record names at most CHECKPOINT_INTERVAL ids (~40 bytes each in JSON), whatever its depth.
    assert.ok(sizes.at(-1)! <= sizes[10] + 40 * CHECKPOINT_INTERVAL, `${sizes.at(-1)} bytes`);
    const ttls = await Promise.all(ids.map((each) => client.pttl(`aigw:resp:v1:${each}`)));
    assert.ok(
      ttls.every((ttl) => ttl > 50_000),
      'the earliest turns live as long as the newest',
    );
    // A deleted checkpoint keeps its place; continuing past it is refused.
    const checkpoint = ids[CHECKPOINT_INTERVAL];
    await state.remove(await state.find('alice', checkpoint));
    await assert.rejects(state.find('alice', checkpoint), /not found/);
    await assert.rejects(
      state.history(() => 'alice', ids.at(-1)!),
      /expired or was deleted/,
    );
    const last = await state.find('alice', ids.at(-1)!);
    const listed = await state.inputItems(last, () => 'alice', false);
    assert.equal(listed.length, 2 * (turns - 1) - 2 + 1);
  });
});
