// An operator's reset reaches the edge even when Redis applied it and its reply was lost
// (a command timeout): the budget service's batch fails, Kafka delivers the adjustment
// again, and the store answers "applied before". Every ingress keeps a spent limit marked
// in its local view until a `recovered` comes (no settlement announces one: spend stays
// past the limit until the reset), refusing the user with no store call. Before, the
// redelivery announced nothing, and a reset user stayed refused at every ingress until
// the limit's window ended (a month, for a 30-day budget). Real Kafka and Redis.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  bindLimit,
  ExhaustionView,
  exhaustionViewSubscription,
  RedisBudgetStore,
  userLimits,
  type AdjustResult,
  type BalanceAdjustment,
} from '@aigw/budget-core';
import { BudgetAdjustmentAction, createBudgetAdjusted, LimitKind } from '@aigw/contracts';
import { createKafka, EventSpool, KafkaEventBus } from '@aigw/infra';
import { MetricsRegistry } from '@aigw/observability';
import { startKafka, startRedis, until, type RealService } from '@aigw/testing';
import { BudgetSettler } from './budget-settler';
import { gpt4TurboRoute, usageOf } from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 100, period: 30d}
`);

/** Redis applies the first adjustment, and its reply is lost on the way back. */
class LosingFirstAdjustReply extends RedisBudgetStore {
  lost = 0;

  override async adjust(
    eventId: string,
    changes: readonly BalanceAdjustment[],
    occurredAt: number,
  ): Promise<AdjustResult> {
    const result = await super.adjust(eventId, changes, occurredAt);
    if (this.lost > 0) return result;
    this.lost++;
    throw new Error('Command timed out');
  }
}

describe('an operator reset whose Redis reply was lost (real Kafka and Redis)', () => {
  let kafka: RealService;
  let redisService: RealService;
  let redis: Redis;
  const dir = mkdtempSync(join(tmpdir(), 'aigw-adjust-lost-'));
  const run = randomUUID().slice(0, 8);
  const buses: KafkaEventBus[] = [];

  before(async () => {
    [kafka, redisService] = await Promise.all([startKafka(), startRedis()]);
    redis = new Redis(redisService.url);
  });
  after(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()));
    redis?.disconnect();
    await Promise.allSettled([kafka?.stop(), redisService?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function openBus(name: string): Promise<KafkaEventBus> {
    const bus = new KafkaEventBus(createKafka({ clientId: name, brokers: kafka.url }), {
      spool: new EventSpool(join(dir, `${name}.db`)),
      topicPrefix: `it.adjust-lost.${run}.`,
      retryMinMs: 100,
      retryMaxMs: 500,
    });
    buses.push(bus);
    await bus.start({ topicPartitions: 2 });
    return bus;
  }

  it('ends the spent mark at the edge once the adjustment is delivered again', async () => {
    const user = `reset-${run}`;
    const store = new LosingFirstAdjustReply(redis, { namespace: `adjust-lost-${run}` });
    const budget = await openBus('budget');
    const settler = new BudgetSettler(
      () => CONFIG,
      store,
      budget,
      new MetricsRegistry({ collectDefaultMetrics: false }),
    );
    await budget.subscribe(settler);
    // An ingress's local view, fed by the budget state topic.
    const view = new ExhaustionView();
    await (await openBus('ingress-view')).subscribe(exhaustionViewSubscription(view, 'ingress'));
    const perUser = bindLimit(
      userLimits({ route: CONFIG.routes[0], userKey: user }).find(
        (limit) => limit.kind === LimitKind.TokenBudgetPerUser,
      )!,
      Date.now(),
    );
    const markKey = ExhaustionView.keyOf(user, perUser.kind, perUser.windowRef.id);
    const refusedAtEdge = () => view.exhaustedUntilByKey(markKey, Date.now()) !== undefined;

    const ingress = await openBus('ingress');
    ingress.publish(usageOf({ user, tokens: 120 }));
    await until('the spent limit is marked at the edge', refusedAtEdge);

    ingress.publish(
      createBudgetAdjusted({
        partitionKey: user,
        userKey: user,
        action: BudgetAdjustmentAction.Reset,
      }),
    );
    await until('the reset was applied, its reply lost', () => store.lost === 1);
    const [balance] = await store.balances([perUser], Date.now());
    assert.equal(balance.used, 0, 'Redis applied the reset');
    await until('the reset reaches the edge', () => !refusedAtEdge(), { deadlineMs: 30_000 });
  });
});
