import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { callerBudgetKey } from '@aigw/contracts/data-plane';
import { createRedisClient } from '@aigw/infra';
import { startRedis, type RealService } from '@aigw/testing';
import { RealtimeClientSecrets } from './client-secret-grants';
import { digestOf, RedisClientSecretStore } from './client-secret-store';

const GRANT = {
  model: 'voice',
  caller: { userKey: 'alice', budgetKey: 'header:x-user-id:alice' },
  allowedModels: ['voice'],
  session: { type: 'realtime', model: 'voice', instructions: 'Be brief' },
};

describe('realtime client secrets in real Redis', () => {
  let redis: RealService;
  let probe: Redis;
  let minting: RealtimeClientSecrets;
  let other: RealtimeClientSecrets;

  before(async () => {
    redis = await startRedis();
    probe = createRedisClient(redis.url);
    // Two replicas: one mints, the other is asked by the browser's session.
    minting = new RealtimeClientSecrets(new RedisClientSecretStore(createRedisClient(redis.url)));
    other = new RealtimeClientSecrets(new RedisClientSecretStore(createRedisClient(redis.url)));
  });
  after(async () => {
    await minting.close();
    await other.close();
    probe.disconnect();
    await redis.stop();
  });

  it('a secret minted on one replica opens a session on another; Redis keeps its digest for its TTL', async () => {
    const { value, grant } = await minting.mint(GRANT, 10);
    assert.deepEqual(await other.redeem(value, 'voice'), { grant });
    assert.deepEqual(await other.redeem(value, 'voice-mini'), { rejected: 'wrong_model' });

    const keys = await probe.keys('aigw:realtime-secret:v1:*');
    assert.equal(keys.length, 1);
    // The store holds a digest of the secret, never the secret itself.
    assert.ok(!keys[0].includes(value.slice(3)));
    assert.ok(!(await probe.get(keys[0]))!.includes(value.slice(3)));
    const ttl = await probe.pttl(keys[0]);
    assert.ok(ttl > 9_000 && ttl <= 10_000, String(ttl));

    await probe.del(keys[0]);
    assert.deepEqual(await other.redeem(value, 'voice'), { rejected: 'unknown' });
  });

  it("bounds each caller's secrets: one minting past the bound deletes only its own oldest", async () => {
    let evicted = 0;
    const bounded = new RealtimeClientSecrets(
      new RedisClientSecretStore(createRedisClient(redis.url), () => evicted++, Date.now, 3),
    );
    try {
      const bob = await bounded.mint({ ...GRANT, caller: { userKey: 'bob' } }, 60);
      const alice: string[] = [];
      for (let i = 0; i < 5; i++) alice.push((await bounded.mint(GRANT, 60)).value);
      assert.equal((await other.redeem(bob.value, 'voice')).grant?.caller.userKey, 'bob');
      for (const dropped of alice.slice(0, 2)) {
        assert.deepEqual(await other.redeem(dropped, 'voice'), { rejected: 'unknown' });
      }
      for (const kept of alice.slice(2)) {
        assert.equal((await other.redeem(kept, 'voice')).grant?.model, 'voice');
      }
      assert.equal(evicted, 2);
      // Each owner's index is a digest-keyed sorted set that expires, naming no user.
      const indexes = await probe.keys('aigw:realtime-secret-owner:v1:*');
      assert.ok(indexes.length >= 2);
      assert.ok(indexes.every((key) => !key.includes('alice') && !key.includes('bob')));
      const sizes = await Promise.all(indexes.map((key) => probe.zcard(key)));
      assert.ok(sizes.includes(3) && sizes.includes(1), String(sizes));
      const ttl = await probe.pttl(indexes[0]);
      assert.ok(ttl > 0 && ttl <= 7_200_000, String(ttl));
    } finally {
      await bounded.close();
    }
  });

  it('two replicas minting at once for one caller keep exactly its newest 100, whoever minted them', async () => {
    const carol = { ...GRANT, caller: { userKey: 'carol' } };
    let evicted = 0;
    const count = () => evicted++;
    const ahead = new RealtimeClientSecrets(
      new RedisClientSecretStore(createRedisClient(redis.url), count),
    );
    // A replica whose clock lags a minute behind the other's.
    const lagging = new RealtimeClientSecrets(
      new RedisClientSecretStore(createRedisClient(redis.url), count, () => Date.now() - 60_000),
    );
    /** Each replica mints `each` at once, both at the same time; their values in mint order. */
    const mintTogether = async (each: number): Promise<string[][]> =>
      Promise.all(
        [ahead, lagging].map((replica) =>
          Promise.all(
            Array.from({ length: each }, async () => (await replica.mint(carol, 60)).value),
          ),
        ),
      );
    const live = async (values: string[]): Promise<string[]> => {
      const found = await Promise.all(values.map((value) => other.redeem(value, 'voice')));
      return values.filter((_, at) => found[at].grant !== undefined);
    };
    // Carol's index: the digest of her budget key.
    const index = (): Promise<string[]> =>
      probe.zrange(
        `aigw:realtime-secret-owner:v1:${digestOf(callerBudgetKey(carol.caller))}`,
        '0',
        '-1',
      );
    try {
      const [fromAhead, fromLagging] = await mintTogether(150);
      const kept = await live([...fromAhead, ...fromLagging]);
      assert.equal(kept.length, 100);
      assert.equal(evicted, 200);
      // The index names exactly the live ones.
      assert.deepEqual((await index()).sort(), kept.map(digestOf).sort());
      // Each replica's mints reach Redis in order: what stays of each is its newest.
      for (const minted of [fromAhead, fromLagging]) {
        const stayed = (await live(minted)).length;
        assert.deepEqual(await live(minted), minted.slice(minted.length - stayed));
      }

      // Both mint again at once: each new secret is among the caller's newest, whichever
      // replica's clock is behind.
      const [again, againLagging] = await mintTogether(5);
      assert.deepEqual(await live([...again, ...againLagging]), [...again, ...againLagging]);
      assert.equal(
        (await live([...fromAhead, ...fromLagging, ...again, ...againLagging])).length,
        100,
      );
      assert.equal(evicted, 210);
      assert.equal((await index()).length, 100);
      const lastLagging = (await lagging.mint(carol, 60)).value;
      assert.equal((await other.redeem(lastLagging, 'voice')).grant?.caller.userKey, 'carol');
    } finally {
      await ahead.close();
      await lagging.close();
    }
  });
});
