import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisBudgetStore } from '@aigw/budget-core';
import { rebuildBalances, type UsageLog } from '@aigw/budget';
import { configFromYaml, startRedis, type RealService } from '@aigw/testing';
import { createTokenUsageRecorded, UsageSource } from '@aigw/contracts';
import { rebuildInRedis } from '../src/redis-rebuild';

// `budget:rebuild` against Redis rebuilds into a scratch namespace of the live Redis. The
// copy must not outlive the run: its balances expire only when their windows end (a month
// for a monthly budget), so each run would leave another copy of every balance behind.

const CONFIG = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, provider: openai, model: gpt-4-turbo}
  tokenBudget:
    perUser: {limit: 100000, period: 1mo}
`);

function usage(user: string, tokens: number) {
  return createTokenUsageRecorded({
    requestId: randomUUID(),
    partitionKey: user,
    userId: user,
    inputTokens: tokens,
    outputTokens: 0,
    cachedInputTokens: 0,
    usageSource: UsageSource.Reported,
    modelRequested: 'gpt-4-turbo',
    modelServed: 'gpt-4-turbo',
    provider: 'openai',
    backend: 'primary',
    costDollars: 0,
    weightedTokenCost: tokens,
    cacheHit: false,
    operation: 'chat',
  });
}

describe('the scratch copy of a Redis budget rebuild', () => {
  let service: RealService;
  let redis: Redis;
  before(async () => {
    service = await startRedis();
    redis = new Redis(service.url, { maxRetriesPerRequest: 2 });
  });
  after(async () => {
    redis.disconnect();
    await service.stop();
  });

  it('is deleted after the comparison, and the live balances are left as they are', async () => {
    const live = `live-${randomUUID().slice(0, 8)}`;
    const scratch = `aigw-rebuild-${randomUUID().slice(0, 8)}`;
    const users = [`u-${randomUUID()}`, `u-${randomUUID()}`];
    const events = [usage(users[0], 40), usage(users[1], 60)];
    // Balance keys are named as live ones (aigw:budget:{user}:…); markers by namespace.
    const liveKeys = async () =>
      [
        ...(await redis.keys(`${live}:*`)),
        ...(await redis.keys(`aigw:budget:{${users[0]}}*`)),
        ...(await redis.keys(`aigw:budget:{${users[1]}}*`)),
      ].sort();
    const liveStore = new RedisBudgetStore(redis, { namespace: live });
    const log: UsageLog = { replay: async (onBatch) => onBatch(events) };
    // The live balances, as the budget service settled them.
    await rebuildBalances(() => CONFIG, log, liveStore, liveStore);
    const before = await liveKeys();
    assert.equal(before.length, 4, 'two balances and two markers');
    let written = 0;
    const counted: UsageLog = {
      replay: (onBatch) =>
        log.replay(async (batch) => {
          await onBatch(batch);
          written = (await redis.keys(`${scratch}:*`)).length;
        }),
    };
    const report = await rebuildInRedis(redis, () => CONFIG, counted, liveStore, scratch);
    assert.equal(report.keys, 2);
    assert.deepEqual(report.mismatches, []);
    assert.equal(written, 4, 'balances and markers were written there');
    assert.deepEqual(await redis.keys(`${scratch}:*`), [], 'and are gone');
    assert.deepEqual(await liveKeys(), before, 'the live keys stay');
    const [balance] = await liveStore.balances(
      [{ key: before.find((k) => k.includes(users[1]))!, limit: 100_000 }],
      Date.now(),
    );
    assert.equal(balance.used, 60);
  });
});
