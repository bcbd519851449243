// The budget service's settlement under Kafka churn, on a broker of this suite's own: a
// second budget replica joins the group mid-stream, the broker is stopped and started
// while usage flows (the ingress side spooling, both settlers mid-batch), and the first
// replica leaves mid-stream. Every usage event holds its cost first, as ingress does, and
// settles that hold; at the end each user's spend in Redis is exactly what was published
// (nothing lost, nothing counted twice) and nothing is still held.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { bindLimit, RedisBudgetStore, userLimits, type BoundLimit } from '@aigw/budget-core';
import {
  createTokenUsageRecorded,
  LimitKind,
  UsageSource,
  type GatewayEvent,
  type TokenUsageRecorded,
} from '@aigw/contracts';
import { createKafka, EventSpool, KafkaEventBus } from '@aigw/infra';
import { MetricsRegistry } from '@aigw/observability';
import {
  configFromYaml,
  engineSkipReason,
  startRedis,
  startRestartableKafka,
  until,
  type RealService,
  type RestartableKafka,
} from '@aigw/testing';
import { BudgetSettler } from './budget-settler';

const skip = engineSkipReason('a Kafka broker of its own to stop and restart');

const CONFIG = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: embed}
spec:
  backends:
  - {name: embed-backend, provider: openai, model: text-embedding-3-small}
  costControl:
    maxDailyCostPerUser: 1000000
    modelPricing:
      text-embedding-3-small: {inputPer1k: 0.5, outputPer1k: 0}
`);
const ROUTE = CONFIG.routes[0];
/** A power of two: sums of it are exact in floating point, so spend compares with ===. */
const COST = 0.25;
const USERS = 8;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('budget settlement under Kafka churn (own broker, real Redis)', { skip }, () => {
  let kafka: RestartableKafka;
  let redisService: RealService;
  let redis: Redis;
  let store: RedisBudgetStore;
  /** Every bus opened, closed after the file whatever its outcome (a close is idempotent). */
  const buses: KafkaEventBus[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'aigw-budget-churn-'));
  const run = randomUUID().slice(0, 8);
  const prefix = `it.churn.${run}.`;

  before(async () => {
    [kafka, redisService] = await Promise.all([startRestartableKafka(), startRedis()]);
    redis = new Redis(redisService.url);
    store = new RedisBudgetStore(redis, { namespace: `churn-${run}` });
  });
  after(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()));
    redis?.disconnect();
    await Promise.allSettled([kafka?.stop(), redisService?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A bus as a service opens it: its own client (a process of its own) and spool. */
  function openBus(name: string): KafkaEventBus {
    const client = createKafka({
      clientId: `churn-${name}`,
      brokers: kafka.url,
      config: { retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 } },
    });
    const bus = new KafkaEventBus(client, {
      spool: new EventSpool(join(dir, `${name}.db`)),
      topicPrefix: prefix,
      retryMinMs: 200,
      retryMaxMs: 2_000,
    });
    buses.push(bus);
    return bus;
  }

  function dailyCostLimit(user: string): BoundLimit {
    const [limit] = userLimits({ route: ROUTE, userKey: user }).filter(
      (l) => l.kind === LimitKind.MaxDailyCostPerUser,
    );
    return bindLimit(limit, Date.now());
  }

  /** A replica of the budget service: a settler on a bus of its own, counting deliveries. */
  async function budgetReplica(name: string) {
    const bus = openBus(name);
    await bus.start({ topicPartitions: 6 });
    const settler = new BudgetSettler(
      () => CONFIG,
      store,
      bus,
      new MetricsRegistry({ collectDefaultMetrics: false }),
    );
    const replica = { bus, delivered: 0 };
    await bus.subscribe({
      group: settler.group,
      topics: settler.topics,
      onRebalance: () => settler.onRebalance(),
      handle: async (events: readonly GatewayEvent[]) => {
        await settler.handle(events);
        replica.delivered += events.length;
      },
    });
    return replica;
  }

  it('settles every usage event once through a join, a broker restart and a leave', async () => {
    const publisher = openBus('ingress');
    await publisher.start({ topicPartitions: 6 });
    const published = new Map<string, number>(); // user -> events published
    let n = 0;
    let publishing = true;
    // An ingress: hold the call's cost, then publish its usage naming the hold.
    const load = (async () => {
      while (publishing) {
        for (let i = 0; i < 4; i++, n++) {
          const user = `churn-user-${run}-${n % USERS}`;
          const limit = dailyCostLimit(user);
          const reservationId = `hold-${run}-${n}`;
          const held = await store.reserve(
            reservationId,
            [
              {
                key: limit.key,
                amount: COST,
                limit: limit.limit,
                windowEndsAt: limit.windowRef.endsAt,
              },
            ],
            600_000,
            Date.now(),
          );
          assert.ok(held.ok, 'the hold is taken');
          publisher.publish(usage(user, n, reservationId));
          published.set(user, (published.get(user) ?? 0) + 1);
        }
        await pause(15);
      }
    })();
    const a = await budgetReplica('budget-a');
    let b: Awaited<ReturnType<typeof budgetReplica>> | undefined;
    try {
      await until('usage settled before the join', () => a.delivered > 100, {
        deadlineMs: 120_000,
      });
      b = await budgetReplica('budget-b');
      const beforeStop = a.delivered + b.delivered;
      await until(
        'usage settled after the join',
        () => a.delivered + b!.delivered > beforeStop + 100,
        {
          deadlineMs: 120_000,
        },
      );
      await kafka.stopBroker();
      await pause(3_000); // usage keeps coming: it waits in the ingress spool
      await kafka.startBroker();
      const afterRestart = a.delivered + b.delivered;
      await until(
        'usage settled after the restart',
        () => a.delivered + b!.delivered > afterRestart + 100,
        { deadlineMs: 180_000 },
      );
      await a.bus.close(); // the first replica leaves mid-stream
      const afterLeave = b.delivered;
      await until('the second replica settles alone', () => b!.delivered > afterLeave + 100, {
        deadlineMs: 120_000,
      });
    } finally {
      publishing = false;
      await load;
    }
    await publisher.flush();
    await until('the ingress spool is empty', () => publisher.spooledCount === 0, {
      deadlineMs: 120_000,
    });
    const spentOf = async (user: string) => {
      const limit = dailyCostLimit(user);
      const [balance] = await store.balances([limit], Date.now());
      return balance;
    };
    const expected = (user: string) => (published.get(user) ?? 0) * COST;
    await until(
      'every usage settled',
      async () => {
        for (const user of published.keys()) {
          const { used } = await spentOf(user);
          // Past what was published is a double count: no wait can undo it.
          assert.ok(used <= expected(user), `${user} spent ${used}, published ${expected(user)}`);
          if (used < expected(user)) return false;
        }
        return true;
      },
      { deadlineMs: 180_000 },
    );
    // Spend stays put: nothing still on its way counts again.
    await pause(2_000);
    for (const user of published.keys()) {
      const { used, reserved } = await spentOf(user);
      assert.equal(used, expected(user), `${user}'s spend`);
      assert.equal(reserved, 0, `${user}'s holds are all settled`);
    }
    console.log(
      `churn: ${n} usage events, ${a.delivered + (b?.delivered ?? 0)} delivered ` +
        `(${a.delivered + (b?.delivered ?? 0) - n} redelivered and deduplicated)`,
    );
    await Promise.allSettled([b?.bus.close(), publisher.close()]);
  });
});

function usage(user: string, n: number, reservationId: string): TokenUsageRecorded {
  return createTokenUsageRecorded({
    requestId: `req-${user}-${n}`,
    partitionKey: user,
    userId: user,
    inputTokens: 500,
    outputTokens: 0,
    cachedInputTokens: 0,
    usageSource: UsageSource.Reported,
    modelRequested: 'text-embedding-3-small',
    modelServed: 'text-embedding-3-small',
    provider: 'openai',
    backend: 'embed-backend',
    route: 'embed',
    costDollars: COST,
    weightedTokenCost: 500,
    cacheHit: false,
    reservationId,
    operation: 'embeddings',
  });
}
