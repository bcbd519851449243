// Redis answering reads but refusing writes: maxmemory reached under noeviction ("OOM
// command not allowed"), or a read-only replica after a failover ("READONLY"); or Redis
// away. The buses
// take an event handled again, or another event of the topic handled meanwhile, as proof
// that the store works before they dead-letter one that keeps failing (PoisonIsolation).
// A usage no limit watches (a route capping nothing) settles without the store at all:
// it passed for proof while Redis refused every settlement, and the capped usage went to
// the dead letters, never billed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { bindLimit, RedisBudgetStore, userLimits } from '@aigw/budget-core';
import {
  createTokenUsageRecorded,
  LimitKind,
  UsageSource,
  type TokenUsageRecorded,
} from '@aigw/contracts';
import { EmbeddedEventBus, SqliteEventLog, type HandlerDeadLetter } from '@aigw/embedded';
import { MetricsRegistry } from '@aigw/observability';
import {
  configFromYaml,
  CuttableProxy,
  engineSkipReason,
  RecordingPublisher,
  startRedis,
  until,
  type RealService,
} from '@aigw/testing';
import { BudgetSettler } from './budget-settler';

// The suite makes its Redis refuse writes: always a Redis of its own.
const skip = engineSkipReason('a Redis of its own to fill and to make a replica');

// Route `chat` caps nothing; route `embed` caps each user at $10 a day.
const CONFIG = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - {name: chat-backend, provider: openai, model: gpt-4}
---
kind: AIGatewayRoute
metadata: {name: embed}
spec:
  backends:
  - {name: embed-backend, provider: openai, model: text-embedding-3-small}
  costControl:
    maxDailyCostPerUser: 10
    modelPricing:
      text-embedding-3-small: {inputPer1k: 0.5, outputPer1k: 0}
`);

let calls = 0;
/** A usage of `user` on route `chat` (capped: false) or `embed` (capped: true, $0.002). */
function usage(user: string, capped: boolean): TokenUsageRecorded {
  calls++;
  const model = capped ? 'text-embedding-3-small' : 'gpt-4';
  return createTokenUsageRecorded({
    requestId: `req-${calls}`,
    partitionKey: user,
    userId: user,
    inputTokens: 4,
    outputTokens: 0,
    cachedInputTokens: 0,
    usageSource: UsageSource.Reported,
    modelRequested: model,
    modelServed: model,
    provider: 'openai',
    backend: capped ? 'embed-backend' : 'chat-backend',
    route: capped ? 'embed' : 'chat',
    costDollars: capped ? 0.002 : 0,
    weightedTokenCost: 4,
    cacheHit: false,
    operation: capped ? 'embeddings' : 'chat',
  });
}

type Refusal = 'out of memory' | 'read-only replica' | 'away';

describe('the budget settler while Redis refuses writes but answers reads', { skip }, () => {
  let server: RealService;
  /** Between the store's client and Redis: cut, Redis is away. */
  let proxy: CuttableProxy;
  let admin: Redis;
  let redis: Redis;
  let store: RedisBudgetStore;

  before(async () => {
    server = await startRedis({ env: { ...process.env, REDIS_URL: undefined } });
    admin = new Redis(server.url);
    proxy = new CuttableProxy(new URL(server.url));
    await proxy.open();
    // As the services open it: a command while Redis is away fails at once.
    redis = new Redis(`redis://127.0.0.1:${proxy.port}`, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    redis.on('error', () => undefined); // told by the failing commands
    await until('the store is connected', () => redis.status === 'ready');
    store = new RedisBudgetStore(redis, { namespace: 'refused-writes' });
    await admin.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
  });
  after(async () => {
    redis?.disconnect();
    await proxy?.cut();
    admin?.disconnect();
    await server?.stop();
  });

  async function refuse(refusal: Refusal): Promise<void> {
    if (refusal === 'out of memory') await admin.call('CONFIG', 'SET', 'maxmemory', '1');
    // A primary nobody can reach: Redis keeps its data and answers reads, refuses writes.
    else if (refusal === 'read-only replica') await admin.call('REPLICAOF', '127.0.0.1', '1');
    else await proxy.cut();
  }
  async function takeWrites(): Promise<void> {
    await admin.call('CONFIG', 'SET', 'maxmemory', '0');
    await admin.call('REPLICAOF', 'NO', 'ONE');
    if (redis.status !== 'ready') {
      await proxy.open().catch(() => undefined); // open already unless cut
      await until('the store is connected again', () => redis.status === 'ready');
    }
  }

  /** Dollars `user` spent today against route embed's cap. */
  async function spentOf(user: string): Promise<number> {
    const embed = CONFIG.routes.find((route) => route.name === 'embed')!;
    const [limit] = userLimits({ route: embed, userKey: user }).filter(
      (l) => l.kind === LimitKind.MaxDailyCostPerUser,
    );
    const now = Date.now();
    const [balance] = await store.balances([bindLimit(limit, now)], now);
    return balance.used;
  }

  for (const [refusal, error] of [
    ['out of memory', /OOM/],
    ['read-only replica', /READONLY/],
  ] as const) {
    it(`refuses a settlement of an event it applied before (${refusal})`, async () => {
      const settled = usage(`known-${calls}`, true);
      const settler = new BudgetSettler(
        () => CONFIG,
        store,
        new RecordingPublisher(),
        new MetricsRegistry({ collectDefaultMetrics: false }),
      );
      await settler.handle([settled]);
      await refuse(refusal);
      try {
        // The script's first command is a write (the event's marker): refused, never read.
        await assert.rejects(settler.handle([settled]), error);
      } finally {
        await takeWrites();
      }
    });
  }

  for (const refusal of ['out of memory', 'read-only replica', 'away'] as const) {
    it(`dead-letters no capped usage while uncapped usage flows (${refusal})`, async () => {
      const letters: HandlerDeadLetter[] = [];
      const log = new SqliteEventLog(':memory:');
      const bus = new EmbeddedEventBus(log, {
        flushIntervalMs: 5,
        maxBatch: 50,
        onError: () => undefined,
        onDeadLettered: (letter) => letters.push(letter),
        handlerAttempts: 2,
        quietTopicAttempts: 2,
        quietTopicAfterMs: 0,
        retryMinMs: 20,
        retryMaxMs: 50,
      });
      const settler = new BudgetSettler(
        () => CONFIG,
        store,
        new RecordingPublisher(),
        new MetricsRegistry({ collectDefaultMetrics: false }),
      );
      const user = `alice-${calls}`;
      try {
        await bus.subscribe(settler);
        bus.publish(usage(user, false));
        await bus.flush();
        await refuse(refusal);
        bus.publish(usage(user, true));
        // Retries every 20 to 50 ms, uncapped usage coming in between: judged many times over.
        for (let i = 0; i < 30; i++) {
          bus.publish(usage(`bob-${calls}`, false));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.deepEqual(
          letters.map((letter) => letter.reason),
          [],
        );
        await takeWrites();
        await until('the capped usage is billed', async () => (await spentOf(user)) === 0.002);
        assert.deepEqual(letters, []);
      } finally {
        await takeWrites();
        await bus.close();
        log.close();
      }
    });
  }
});
