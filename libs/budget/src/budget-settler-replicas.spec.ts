// Several budget-service replicas settle one per-model limit: each owns some users'
// partitions, and every caller of a model spends its limit. A `remaining` one replica paced
// must not reopen the limit another announced spent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  bindLimit,
  ExhaustionView,
  LocalBudgetStore,
  modelLimits,
  userLimits,
} from '@aigw/budget-core';
import { LimitKind } from '@aigw/contracts';
import { RecordingPublisher } from '@aigw/testing';
import {
  budgetStates,
  creditOf,
  exhaustedUntil,
  gpt4TurboRoute,
  settlerOf,
  usageOf,
} from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 150}
`);

const PER_USER = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 100, period: 1d}
`);

function usage(user: string, tokens: number, at: number, reservationId?: string) {
  return usageOf({ user, tokens, occurredAt: new Date(at), reservationId });
}

describe('BudgetSettler replicas sharing a per-model limit', () => {
  it('keeps the model marked spent when another replica announces its paced remaining late', async () => {
    const store = new LocalBudgetStore(':memory:');
    // One topic: every replica's announcements, in the order they were published.
    const topic = new RecordingPublisher();
    const replica = () =>
      settlerOf(CONFIG, { store, published: topic, options: { remainingIntervalMs: 60_000 } })
        .settler;
    const [a, b] = [replica(), replica()];
    const at = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
    await b.handle([usage('bob', 20, at)]); // remaining 130, at once
    await b.handle([usage('bob', 20, at + 1)]); // remaining 110, paced: waits
    await a.handle([usage('alice', 120, at + 2)]); // 160 of 150: exhausted
    b.onRebalance(); // its interval ends (or its partitions move): the waiting one goes out

    const view = new ExhaustionView();
    for (const event of topic.events) if (event.type === 'budget.state') view.apply(event);
    const states = budgetStates(topic.events).map((e) => `${e.state} ${e.remaining}`);
    assert.deepEqual(states, ['remaining 130', 'exhausted 0', 'remaining 110']);
    const [limit] = modelLimits(CONFIG.routes[0], 'gpt-4-turbo').map((l) => bindLimit(l, at));
    assert.equal(
      exhaustedUntil(view, limit, at + 3, limit.limit),
      limit.windowRef.endsAt,
      'still spent: 160 of 150 were used',
    );
  });

  it("reopens a user's spent limit once an operator's credit takes spend under it, holds in flight or not", async () => {
    const store = new LocalBudgetStore(':memory:');
    const topic = new RecordingPublisher();
    const replica = () => settlerOf(PER_USER, { store, published: topic }).settler;
    // Adjustments come on their own topic: another replica may own their partition. The
    // usage partition moves (a rebalance, a restart) before the hold settles.
    const [usageOwner, adjustmentOwner, nextUsageOwner] = [replica(), replica(), replica()];
    const at = Date.now();
    const [limit] = userLimits({ route: PER_USER.routes[0], userKey: 'dan' }).map((l) =>
      bindLimit(l, at),
    );
    assert.equal(limit.kind, LimitKind.TokenBudgetPerUser);
    const hold = { key: limit.key, amount: 50, limit: 100, windowEndsAt: limit.windowRef.endsAt };
    const held = store.reserve('in-flight', [hold], 600_000, at);
    assert.ok(!(held instanceof Promise) && held.ok);
    await usageOwner.handle([usage('dan', 100, at)]); // spent: exhausted
    const credit = creditOf('dan', LimitKind.TokenBudgetPerUser, 50, new Date(at));
    await adjustmentOwner.handle([credit]); // used 50, held 50: not spent, no room yet
    await nextUsageOwner.handle([usage('dan', 20, at, 'in-flight')]); // the hold settles: room 30

    const view = new ExhaustionView();
    for (const event of topic.events) if (event.type === 'budget.state') view.apply(event);
    assert.equal(
      exhaustedUntil(view, limit, at, limit.limit),
      undefined,
      'dan has room: 70 of 100 used',
    );
  });
});
