// A call admitted in one window and ending in the next is charged to the window it was
// admitted in (cc5e1bb). Its settlement must not announce that ended window's room as the
// limit's state: the topic and every view key states by limit, and a `recovered` ends a
// limit's mark whatever its window, so it would reopen the current window spent meanwhile.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  bindLimit,
  ExhaustionView,
  LocalBudgetStore,
  newReservationId,
  userLimits,
} from '@aigw/budget-core';
import {
  BudgetState,
  createTokenUsageRecorded,
  UsageSource,
  type BudgetStateChanged,
  type GatewayEvent,
} from '@aigw/contracts';
import { configFromYaml, RecordingPublisher } from '@aigw/testing';
import { MetricsRegistry } from '@aigw/observability';
import { BudgetSettler } from './budget-settler';

const CONFIG = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, provider: openai, model: gpt-4-turbo}
  tokenBudget:
    perMinute: {limit: 300}
`);
const MINUTE = 60_000;
// Recent minutes: the embedded store drops balances whose window ended an hour ago.
const firstMinute = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;
const nextMinute = firstMinute + MINUTE;

function usage(tokens: number, occurredAt: number, reservationId: string) {
  return createTokenUsageRecorded(
    {
      reservationId,
      requestId: 'r',
      partitionKey: 'alice',
      userId: 'alice',
      inputTokens: tokens / 2,
      outputTokens: tokens / 2,
      cachedInputTokens: 0,
      usageSource: UsageSource.Reported,
      modelRequested: 'gpt-4-turbo',
      modelServed: 'gpt-4-turbo',
      provider: 'openai',
      backend: 'primary',
      costDollars: 0,
      weightedTokenCost: tokens,
      cacheHit: false,
    },
    { occurredAt: new Date(occurredAt) },
  );
}

const budgetStates = (events: readonly GatewayEvent[]) =>
  events.filter((e): e is BudgetStateChanged => e.type === 'budget.state');

function settlerOf() {
  const published = new RecordingPublisher();
  const settler = new BudgetSettler(
    () => CONFIG,
    new LocalBudgetStore(':memory:'),
    published,
    new MetricsRegistry({ collectDefaultMetrics: false }),
  );
  return { settler, published };
}

describe('BudgetSettler settling a window that has ended', () => {
  it("keeps the current window's spent mark when a call admitted in the last one settles", async () => {
    const { settler, published } = settlerOf();
    const stream = newReservationId(firstMinute + 50_000); // a stream admitted late in a minute
    // The next minute is spent by calls admitted (and ended) in it.
    await settler.handle([usage(300, nextMinute + 10_000, newReservationId(nextMinute + 5_000))]);
    // The stream ends in the next minute; charged to its own, which has room left.
    await settler.handle([usage(100, nextMinute + 30_000, stream)]);
    settler.close();

    const view = new ExhaustionView();
    for (const event of budgetStates(published.events)) view.apply(event);
    const [limit] = userLimits({ route: CONFIG.routes[0], userKey: 'alice' }).map((l) =>
      bindLimit(l, nextMinute + 31_000),
    );
    assert.equal(
      view.exhaustedUntil(limit.subject, limit.kind, limit.windowRef.id, nextMinute + 31_000, 300),
      limit.windowRef.endsAt,
      `still spent; announced ${budgetStates(published.events)
        .map((e) => `${e.state} ${e.windowId}`)
        .join(', ')}`,
    );
    const last = budgetStates(published.events).at(-1);
    assert.equal(
      last?.state,
      BudgetState.Exhausted,
      "the topic's latest state is the spent window's",
    );
  });
});
