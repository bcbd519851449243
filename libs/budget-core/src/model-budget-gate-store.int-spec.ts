// The router's read of the Redis budget store: the balances as the ingress's scripts keep
// them (holds past their time left out) and what one reservation holds, by balance key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { RedisModelBalanceReader } from './model-budget-gate-store';
import { startRedisStore, type RedisStoreUnderTest } from './testing/redis-store';

describe('RedisModelBalanceReader', () => {
  const namespace = `reader-${randomUUID().slice(0, 8)}`;
  let redis: RedisStoreUnderTest;
  let reader: RedisModelBalanceReader;
  const now = Date.now();
  const windowEndsAt = now + 60_000;
  const tokens = { key: `${namespace}:budget:{m}:tokens:w`, limit: 2000 };
  const calls = { key: `${namespace}:budget:{m}:requests:w`, limit: 3 };

  before(async () => {
    redis = await startRedisStore(namespace);
    reader = new RedisModelBalanceReader(redis.redis, namespace);
  });
  after(() => redis?.close());

  it('reads used and held room, and the holds of the reservation asked about', async () => {
    const change = (key: string, amount: number, limit: number) => ({
      key,
      amount,
      limit,
      windowEndsAt,
    });
    await redis.store.settle('e-1', undefined, [change(tokens.key, 500, 2000)], now);
    const mine = await redis.store.reserve(
      'mine',
      [change(tokens.key, 300, 2000), change(calls.key, 1, 3)],
      600_000,
      now,
    );
    const theirs = await redis.store.reserve(
      'theirs',
      [change(tokens.key, 200, 2000)],
      600_000,
      now,
    );
    assert.ok(mine.ok && theirs.ok);

    const read = await reader.read('mine', [tokens, calls], now);
    assert.deepEqual(read.balances, [
      { ...tokens, used: 500, reserved: 500 },
      { ...calls, used: 0, reserved: 1 },
    ]);
    assert.deepEqual(
      [...read.hold],
      [
        [tokens.key, 300],
        [calls.key, 1],
      ],
    );
    // Without a reservation, or for one that holds nothing: no holds.
    assert.equal((await reader.read(undefined, [tokens], now)).hold.size, 0);
    assert.equal((await reader.read('nobody', [tokens], now)).hold.size, 0);
  });

  it('leaves out holds past their time, as the next sweep drops them, and sweeps none', async () => {
    const key = `${namespace}:budget:{n}:tokens:w`;
    const reserved = await redis.store.reserve(
      'short',
      [{ key, amount: 400, limit: 1000, windowEndsAt }],
      1_000,
      now,
    );
    assert.ok(reserved.ok);
    const later = await reader.read(undefined, [{ key, limit: 1000 }], now + 5_000);
    assert.equal(later.balances[0].reserved, 0);
    // A read only: the hold is still counted in Redis until a script sweeps it.
    assert.equal(await redis.redis.hget(key, 'reserved'), '400');
  });

  it('reads an absent balance as empty', async () => {
    const read = await reader.read(undefined, [{ key: `${namespace}:none`, limit: 5 }], now);
    assert.deepEqual(read.balances, [{ key: `${namespace}:none`, limit: 5, used: 0, reserved: 0 }]);
  });
});
