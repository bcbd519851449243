// A settlement the store applied whose reply was lost (a Redis command timeout, a dropped
// connection) fails the batch, and the consumer delivers it again; or the settler stopped
// after applying and before its announcement went out. The store then reports the event
// as applied before. A limit it spent must still be announced exhausted: otherwise no
// settlement ever does (a spent limit takes none past it that would cross it), and every
// ingress keeps asking the store for the rest of the window.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  LocalBudgetStore,
  type AdjustResult,
  type BalanceAdjustment,
  type BalanceChange,
  type SettleResult,
} from '@aigw/budget-core';
import {
  BudgetAdjustmentAction,
  BudgetState,
  createBudgetAdjusted,
  LimitKind,
} from '@aigw/contracts';
import {
  exhaustions,
  gpt4TurboRoute,
  settlerOf,
  stateSummary,
  thisMinute,
  usageOf,
} from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 100, period: 30d}
`);

/** Applies the first settlement, then fails as a lost reply does. */
class LosingFirstReply extends LocalBudgetStore {
  private lost = false;

  override settle(
    eventId: string,
    reservationId: string | undefined,
    changes: readonly BalanceChange[],
    occurredAt: number,
  ): SettleResult {
    const result = super.settle(eventId, reservationId, changes, occurredAt);
    if (this.lost) return result;
    this.lost = true;
    throw new Error('Command timed out');
  }
}

/** Applies the first adjustment, then fails as a lost reply does. */
class LosingFirstAdjustReply extends LocalBudgetStore {
  private lost = false;

  override async adjust(
    eventId: string,
    changes: readonly BalanceAdjustment[],
    occurredAt: number,
  ): Promise<AdjustResult> {
    const result = await super.adjust(eventId, changes, occurredAt);
    if (this.lost) return result;
    this.lost = true;
    throw new Error('Command timed out');
  }
}

const reset = (user: string) =>
  createBudgetAdjusted({ partitionKey: user, userKey: user, action: BudgetAdjustmentAction.Reset });

describe('BudgetSettler after a settlement whose reply was lost', () => {
  it('announces the limit it spent when the event comes again', async () => {
    const { settler, published } = settlerOf(CONFIG, { store: new LosingFirstReply(':memory:') });
    const spending = usageOf({ user: 'u1', tokens: 120, occurredAt: new Date(thisMinute()) });
    await assert.rejects(settler.handle([spending]), /timed out/);
    await settler.handle([spending]); // redelivered
    const exhausted = exhaustions(published.events);
    assert.deepEqual(
      exhausted.map((e) => `${e.limitKind} ${e.budgetKey}`),
      [`${LimitKind.TokenBudgetPerUser} u1`],
    );
  });

  it('announces it when a settler that did not is redelivered the event (a restart)', async () => {
    const store = new LocalBudgetStore(':memory:');
    const spending = usageOf({ user: 'u1', tokens: 120, occurredAt: new Date(thisMinute()) });
    // Applied by a process that stopped before its announcement went out.
    await settlerOf(CONFIG, { store }).settler.handle([spending]);
    const { settler, published } = settlerOf(CONFIG, { store });
    await settler.handle([spending]);
    assert.equal(exhaustions(published.events).length, 1);
    published.events.length = 0;
    await settler.handle([spending]);
    assert.equal(exhaustions(published.events).length, 0, 'once per settler, as usual');
  });

  it('announces nothing for a window that has ended (a replay of old usage)', async () => {
    const perMinute = gpt4TurboRoute(`
  tokenBudget:
    perMinute: {limit: 100}
`);
    const store = new LocalBudgetStore(':memory:');
    const old = usageOf({ user: 'u1', tokens: 120, occurredAt: new Date(thisMinute() - 300_000) });
    await settlerOf(perMinute, { store }).settler.handle([old]);
    const { settler, published } = settlerOf(perMinute, { store });
    await settler.handle([old]);
    assert.deepEqual(exhaustions(published.events), []);
  });

  // An operator's reset ends every ingress's spent mark only by its `recovered`: no later
  // settlement announces one (a spent mark stands against `remaining`), so without it the
  // user stays refused at the edge, with no store call, until the window ends.
  it('announces the limits an adjustment reopened when it comes again after a lost reply', async () => {
    const { settler, published } = settlerOf(CONFIG, {
      store: new LosingFirstAdjustReply(':memory:'),
    });
    await settler.handle([
      usageOf({ user: 'u1', tokens: 120, occurredAt: new Date(thisMinute()) }),
    ]);
    published.events.length = 0;
    const event = reset('u1');
    await assert.rejects(settler.handle([event]), /timed out/);
    await settler.handle([event]); // redelivered: applied before, announced never
    assert.deepEqual(stateSummary(published.events), [
      `${LimitKind.TokenBudgetPerUser} u1 ${BudgetState.Recovered} 100`,
    ]);
  });

  it('announces them when a settler that did not is redelivered the adjustment (a restart)', async () => {
    const store = new LocalBudgetStore(':memory:');
    const spending = usageOf({ user: 'u1', tokens: 120, occurredAt: new Date(thisMinute()) });
    const event = reset('u1');
    // Applied by a process that stopped before its announcement went out.
    await settlerOf(CONFIG, { store }).settler.handle([spending, event]);
    const { settler, published } = settlerOf(CONFIG, { store });
    await settler.handle([usageOf({ user: 'u1', tokens: 30, occurredAt: new Date() })]);
    published.events.length = 0;
    await settler.handle([event]);
    assert.deepEqual(stateSummary(published.events), [
      `${LimitKind.TokenBudgetPerUser} u1 ${BudgetState.Recovered} 70`,
    ]);
    published.events.length = 0;
    await settler.handle([event]);
    assert.deepEqual(stateSummary(published.events), [], 'once per settler');
  });

  it('announces no recovery of a limit spent again since the adjustment', async () => {
    const store = new LocalBudgetStore(':memory:');
    const event = reset('u1');
    await settlerOf(CONFIG, { store }).settler.handle([
      usageOf({ user: 'u1', tokens: 120, occurredAt: new Date(thisMinute()) }),
      event,
      usageOf({ user: 'u1', tokens: 150, occurredAt: new Date() }),
    ]);
    const { settler, published } = settlerOf(CONFIG, { store });
    await settler.handle([event]);
    assert.deepEqual(stateSummary(published.events), []);
  });
});
