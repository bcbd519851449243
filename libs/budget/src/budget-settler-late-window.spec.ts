// A call admitted in one window and ending in the next gives its hold back in the window
// it was admitted in and is charged to the one it ended in. Its settlement must not
// announce that ended window's room as the limit's state: the topic and every view key
// states by limit, and a `recovered` ends a limit's mark whatever its window, so it would
// reopen the current window spent meanwhile.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, ExhaustionView, newReservationId, userLimits } from '@aigw/budget-core';
import { BudgetState } from '@aigw/contracts';
import {
  budgetStates,
  exhaustedUntil,
  gpt4TurboRoute,
  settlerOf,
  usageOf,
} from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenBudget:
    perMinute: {limit: 300}
`);
const MINUTE = 60_000;
// Recent minutes: the embedded store drops balances whose window ended an hour ago.
const firstMinute = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;
const nextMinute = firstMinute + MINUTE;

const usage = (tokens: number, occurredAt: number, reservationId: string) =>
  usageOf({ user: 'alice', tokens, occurredAt: new Date(occurredAt), reservationId });

describe('BudgetSettler settling a window that has ended', () => {
  it("keeps the current window's spent mark when a call admitted in the last one settles", async () => {
    const { settler, published } = settlerOf(CONFIG);
    const stream = newReservationId(firstMinute + 50_000); // a stream admitted late in a minute
    // The next minute is spent by calls admitted (and ended) in it.
    await settler.handle([usage(300, nextMinute + 10_000, newReservationId(nextMinute + 5_000))]);
    // The stream ends in the next minute; its own, ended, has room left.
    await settler.handle([usage(100, nextMinute + 30_000, stream)]);
    settler.close();

    const view = new ExhaustionView();
    for (const event of budgetStates(published.events)) view.apply(event);
    const [limit] = userLimits({ route: CONFIG.routes[0], userKey: 'alice' }).map((l) =>
      bindLimit(l, nextMinute + 31_000),
    );
    assert.equal(
      exhaustedUntil(view, limit, nextMinute + 31_000, 300),
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
