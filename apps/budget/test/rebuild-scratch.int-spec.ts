import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisBudgetStore } from '@aigw/budget-core';
import { rebuildBalances, restoreShortfalls, type UsageLog } from '@aigw/budget';
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

function usage(user: string, tokens: number, occurredAt?: Date) {
  return createTokenUsageRecorded(
    {
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
    },
    { occurredAt },
  );
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

  // A replay writes one applied-event marker per event into the live Redis. Each refuses a
  // copy of its event later in the log (a producer's retry), as the live marker did: it must
  // last as long as the balance it guards, past an hour of replay, and no marker is kept for
  // an event whose windows have all ended (a copy of it counts in no balance), or a long
  // history's markers would fill a Redis that does not evict.
  it('keeps each marker as long as its balance, and none for an event whose windows ended', async () => {
    const user = `u-${randomUUID()}`;
    const current = usage(user, 10);
    const old = usage(user, 20, new Date(Date.now() - 70 * 86_400_000));
    const scratch = `aigw-rebuild-${randomUUID().slice(0, 8)}`;
    const ttls: Record<string, number> = {};
    const log: UsageLog = {
      replay: async (onBatch) => {
        await onBatch([current, old, current]);
        for (const event of [current, old]) {
          ttls[event === current ? 'current' : 'old'] = await redis.pttl(
            `${scratch}:applied:${event.eventId}`,
          );
        }
      },
    };
    const liveStore = new RedisBudgetStore(redis, { namespace: `live-${randomUUID()}` });
    const report = await rebuildInRedis(redis, () => CONFIG, log, liveStore, scratch);
    // The month's window ends days from now at least (its balance with it, plus the grace).
    const [rebuilt] = report.mismatches;
    assert.equal(rebuilt.rebuilt, 10, 'the copy counted once');
    assert.ok(ttls.current > rebuilt.windowEndsAt - Date.now(), `current marker ${ttls.current}`);
    assert.equal(ttls.old, -2, `no marker for the old event (${ttls.old})`);
  });

  // Redis restarted without its data: the live balances are gone while the log holds the
  // spend. The comparison read the live keys for the rebuilt ones too, so it always matched.
  it('finds the spend Redis lost, and a restore adds it back once', async () => {
    const live = `live-${randomUUID().slice(0, 8)}`;
    const users = [`u-${randomUUID()}`, `u-${randomUUID()}`];
    const events = [usage(users[0], 40), usage(users[1], 60), usage(users[1], 5)];
    const liveStore = new RedisBudgetStore(redis, { namespace: live });
    const log: UsageLog = { replay: async (onBatch) => onBatch(events) };
    // After the loss the live service settled one more call of the second user.
    await rebuildBalances(
      () => CONFIG,
      { replay: (onBatch) => onBatch([events[2]]) },
      liveStore,
      liveStore,
    );

    const report = await rebuildInRedis(redis, () => CONFIG, log, liveStore);
    assert.deepEqual(
      report.mismatches.map((m) => [m.key.includes(users[0]) ? 0 : 1, m.rebuilt, m.live]).sort(),
      [
        [0, 40, 0],
        [1, 65, 5],
      ],
    );
    const { restored } = await restoreShortfalls(liveStore, report.mismatches, 'run-1');
    assert.deepEqual(
      restored.map((r) => r.added).sort((a, b) => a - b),
      [40, 60],
    );
    // Retried (the same run): applied once.
    await restoreShortfalls(liveStore, report.mismatches, 'run-1');
    const used = await liveStore.balances(
      report.mismatches.map((m) => ({ key: m.key, limit: m.limit })),
      Date.now(),
    );
    assert.deepEqual(
      used.map((b) => b.used).sort((a, b) => a - b),
      [40, 65],
    );
    const again = await rebuildInRedis(redis, () => CONFIG, log, liveStore);
    assert.deepEqual(again.mismatches, [], 'the rebuild now matches');
  });

  it('never lowers a live balance above the rebuilt one, nor touches an ended window', async () => {
    const live = `live-${randomUUID().slice(0, 8)}`;
    const user = `u-${randomUUID()}`;
    const liveStore = new RedisBudgetStore(redis, { namespace: live });
    await rebuildBalances(
      () => CONFIG,
      { replay: (onBatch) => onBatch([usage(user, 50)]) },
      liveStore,
      liveStore,
    );
    const report = await rebuildInRedis(
      redis,
      () => CONFIG,
      { replay: async () => undefined },
      liveStore,
    );
    assert.equal(report.keys, 0);
    const [key] = await redis.keys(`aigw:budget:{${user}}*`);
    const above = { key, rebuilt: 20, live: 50, limit: 100_000, windowEndsAt: Date.now() + 60_000 };
    const ended = { key, rebuilt: 90, live: 50, limit: 100_000, windowEndsAt: Date.now() - 1 };
    assert.deepEqual(await restoreShortfalls(liveStore, [above, ended], 'run-2'), {
      restored: [],
      caughtUp: [],
    });
    const [balance] = await liveStore.balances([{ key, limit: 100_000 }], Date.now());
    assert.equal(balance.used, 50);
  });
});
