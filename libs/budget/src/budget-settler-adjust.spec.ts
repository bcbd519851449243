import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, ExhaustionView, LocalBudgetStore, userLimits } from '@aigw/budget-core';
import {
  BudgetAdjustmentAction,
  BudgetState,
  createBudgetAdjusted,
  LimitKind,
  type GatewayEvent,
} from '@aigw/contracts';
import { Logger } from '@aigw/observability';
import { metricSum } from '@aigw/testing';
import { rebuildBalances, withAdjustments } from './budget-rebuild';
import {
  budgetStates as states,
  creditOf as credit,
  gpt4TurboRoute,
  settlerOf,
  stateSummary as summary,
  thisMinute,
  usageOf,
} from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 100, period: 30d}
    perMinute: {limit: 1000}
  costControl:
    maxDailyCostPerUser: 10.00
    modelPricing:
      gpt-4-turbo: {inputPer1k: 0.01, outputPer1k: 0.03}
`);

function usage(user: string, tokens: number, dollars: number, occurredAt = new Date()) {
  return usageOf({ user, tokens, dollars, occurredAt });
}

function reset(user: string, limitKind?: LimitKind, occurredAt = new Date()) {
  return createBudgetAdjusted(
    {
      partitionKey: user,
      userKey: user,
      action: BudgetAdjustmentAction.Reset,
      ...(limitKind ? { limitKind } : {}),
      reason: 'runaway script',
      operator: 'sre-oncall',
    },
    { occurredAt },
  );
}

function setup(config = CONFIG) {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({
    write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { ...settlerOf(config, { logger }), lines };
}

/** The balance of `user`'s limit of `kind` in the window it is in at `at`. */
async function used(store: LocalBudgetStore, user: string, kind: LimitKind, at = Date.now()) {
  const limit = userLimits({ route: CONFIG.routes[0], userKey: user })
    .map((l) => bindLimit(l, at))
    .find((l) => l.kind === kind)!;
  return (await store.balances([{ key: limit.key, limit: limit.limit }], at))[0].used;
}

describe('BudgetSettler: operator adjustments', () => {
  it('resets every limit of the user, announces them recovered, and clears an exhaustion mark', async () => {
    const { store, published, metrics, lines, settler } = setup();
    const view = new ExhaustionView();
    await settler.handle([usage('alice', 60, 4), usage('alice', 50, 4), usage('bob', 70, 1)]);
    for (const event of states(published.events)) view.apply(event);
    const perUser = bindLimit(
      userLimits({ route: CONFIG.routes[0], userKey: 'alice' })[0],
      Date.now(),
    );
    assert.ok(
      view.exhaustedUntilByKey(
        ExhaustionView.keyOf('alice', LimitKind.TokenBudgetPerUser, perUser.windowRef.id),
        Date.now(),
      ),
    );
    published.events.length = 0;

    const event = reset('alice');
    await settler.handle([event]);
    assert.deepEqual(summary(published.events), [
      `${LimitKind.MaxDailyCostPerUser} alice ${BudgetState.Recovered} 10`,
      `${LimitKind.TokenBudgetPerMinute} alice ${BudgetState.Recovered} 1000`,
      `${LimitKind.TokenBudgetPerUser} alice ${BudgetState.Recovered} 100`,
    ]);
    for (const state of states(published.events)) {
      assert.equal(state.requestId, null);
      view.apply(state);
    }
    assert.equal(
      view.exhaustedUntilByKey(
        ExhaustionView.keyOf('alice', LimitKind.TokenBudgetPerUser, perUser.windowRef.id),
        Date.now(),
      ),
      undefined,
    );
    assert.equal(await used(store, 'alice', LimitKind.TokenBudgetPerUser), 0);
    assert.equal(await used(store, 'alice', LimitKind.MaxDailyCostPerUser), 0);
    assert.equal(await used(store, 'bob', LimitKind.TokenBudgetPerUser), 70, 'bob untouched');

    const text = await metrics.metrics();
    for (const limit of [LimitKind.TokenBudgetPerUser, LimitKind.MaxDailyCostPerUser]) {
      assert.equal(
        metricSum(text, 'ai_gateway_budget_adjustments_total', { action: 'reset', limit }),
        1,
      );
    }
    assert.equal(
      metricSum(text, 'ai_gateway_budget_remaining', {
        budget_key: 'alice',
        limit: LimitKind.TokenBudgetPerUser,
      }),
      100,
    );
    const logged = lines.filter((line) => line.msg === 'budget adjusted');
    assert.equal(logged.length, 1);
    assert.equal(logged[0].userKey, 'alice');
    assert.equal(logged[0].action, 'reset');
    assert.equal(logged[0].reason, 'runaway script');
    assert.equal(logged[0].operator, 'sre-oncall');
    assert.deepEqual(
      [...(logged[0].limits as string[])].sort(),
      [
        LimitKind.MaxDailyCostPerUser,
        LimitKind.TokenBudgetPerMinute,
        LimitKind.TokenBudgetPerUser,
      ].sort(),
    );

    // Redelivered after more spend: applied once, announced once.
    await settler.handle([usage('alice', 30, 1)]);
    published.events.length = 0;
    await settler.handle([event]);
    assert.deepEqual(states(published.events), []);
    assert.equal(await used(store, 'alice', LimitKind.TokenBudgetPerUser), 30);
    assert.equal(
      metricSum(await metrics.metrics(), 'ai_gateway_budget_adjustments_total', {}),
      3,
      'one per limit of the first delivery',
    );
  });

  it('credits only the named limit, in its own unit, never below 0', async () => {
    const { store, published, settler } = setup();
    await settler.handle([usage('carol', 80, 9)]);
    published.events.length = 0;
    await settler.handle([credit('carol', LimitKind.MaxDailyCostPerUser, 2.5)]);
    assert.deepEqual(summary(published.events), [
      `${LimitKind.MaxDailyCostPerUser} carol ${BudgetState.Recovered} 3.5`,
    ]);
    assert.equal(await used(store, 'carol', LimitKind.MaxDailyCostPerUser), 6.5);
    assert.equal(await used(store, 'carol', LimitKind.TokenBudgetPerUser), 80);
    await settler.handle([credit('carol', LimitKind.TokenBudgetPerUser, 500)]);
    assert.equal(await used(store, 'carol', LimitKind.TokenBudgetPerUser), 0);
  });

  it('leaves a limit still spent after a short credit exhausted', async () => {
    const { store, published, settler } = setup();
    await settler.handle([usage('hank', 150, 0)]);
    published.events.length = 0;
    await settler.handle([credit('hank', LimitKind.TokenBudgetPerUser, 30)]);
    assert.equal(await used(store, 'hank', LimitKind.TokenBudgetPerUser), 120);
    assert.deepEqual(states(published.events), [], '`exhausted` stays the latest state');
    await settler.handle([credit('hank', LimitKind.TokenBudgetPerUser, 30)]);
    assert.deepEqual(summary(published.events), [
      `${LimitKind.TokenBudgetPerUser} hank ${BudgetState.Recovered} 10`,
    ]);
  });

  it('applies to the window the limit was in when the adjustment was made', async () => {
    const { store, settler } = setup();
    const minute = thisMinute();
    const lastMinute = minute - 30_000;
    await settler.handle([
      usage('dave', 40, 0, new Date(lastMinute)),
      usage('dave', 20, 0, new Date(minute + 1)),
    ]);
    await settler.handle([reset('dave', LimitKind.TokenBudgetPerMinute, new Date(minute + 2))]);
    assert.equal(await used(store, 'dave', LimitKind.TokenBudgetPerMinute, minute + 2), 0);
    assert.equal(
      await used(store, 'dave', LimitKind.TokenBudgetPerMinute, lastMinute),
      40,
      'the last minute is not the current window',
    );
    assert.equal(await used(store, 'dave', LimitKind.TokenBudgetPerUser, minute + 2), 60);
  });

  it('in the same batch as usage, announces the balance after the adjustment', async () => {
    const { published, settler } = setup();
    const at = Date.now();
    await settler.handle([
      usage('erin', 50, 1, new Date(at)),
      reset('erin', LimitKind.TokenBudgetPerUser, new Date(at + 1)),
    ]);
    assert.deepEqual(
      summary(published.events).filter((s) => s.includes(LimitKind.TokenBudgetPerUser)),
      [`${LimitKind.TokenBudgetPerUser} erin ${BudgetState.Recovered} 100`],
    );
  });

  it('warns and changes nothing when the user has no such limit configured', async () => {
    const { published, lines, settler } = setup(
      gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 100, period: 30d}
`),
    );
    await settler.handle([reset('frank', LimitKind.MaxDailyCostPerUser)]);
    assert.deepEqual(states(published.events), []);
    assert.equal(lines.filter((l) => l.level === 'warn').length, 1);
  });

  it('is replayed by a rebuild in order with the usage around it', async () => {
    const at = Date.now();
    const log: GatewayEvent[] = [
      usage('gina', 90, 0, new Date(at)),
      reset('gina', LimitKind.TokenBudgetPerUser, new Date(at + 1)),
      usage('gina', 15, 0, new Date(at + 2)),
    ];
    const live = setup();
    await live.settler.handle(log);
    assert.equal(await used(live.store, 'gina', LimitKind.TokenBudgetPerUser), 15);
    const inOrder = {
      replay: async (onBatch: (e: readonly GatewayEvent[]) => Promise<void>) => onBatch(log),
    };
    const rebuilt = await rebuildBalances(
      () => CONFIG,
      inOrder,
      new LocalBudgetStore(),
      live.store,
    );
    assert.deepEqual(rebuilt.mismatches, []);

    // Kafka: the adjustments from their own topic, merged by time per user.
    const usageOnly = {
      replay: async (onBatch: (e: readonly GatewayEvent[]) => Promise<void>) =>
        onBatch(log.filter((e) => e.type === 'usage.recorded')),
    };
    const merged = withAdjustments(usageOnly, async () =>
      log.filter((e) => e.type === 'budget.adjusted'),
    );
    const fromKafka = await rebuildBalances(
      () => CONFIG,
      merged,
      new LocalBudgetStore(),
      live.store,
    );
    assert.deepEqual(fromKafka.mismatches, []);
    // Without them, the rebuild would disagree: the test can tell.
    const without = await rebuildBalances(
      () => CONFIG,
      usageOnly,
      new LocalBudgetStore(),
      live.store,
    );
    assert.equal(without.mismatches.length, 1);
  });
});
