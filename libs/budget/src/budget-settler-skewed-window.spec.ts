// Usage that occurred in a window that has since ended can reach the settler after the
// next window was spent: another partition's backlog for a per-model limit, or a producer
// whose clock runs behind the one that spent the next window. Its settlement announces
// that ended window's room (`recovered`, since the limit was announced without room); no
// view may take that for the current window's state.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, ExhaustionView, modelLimits } from '@aigw/budget-core';
import {
  budgetStates,
  exhaustedUntil,
  gpt4TurboRoute,
  settlerOf,
  usageOf,
} from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 300}
`);
const MINUTE = 60_000;
// Recent minutes: the embedded store drops balances whose window ended an hour ago.
const firstMinute = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;
const nextMinute = firstMinute + MINUTE;

describe('BudgetSettler settling usage of an ended window after the next one was spent', () => {
  it("keeps every view's spent mark on the current window", async () => {
    const { settler, published } = settlerOf(CONFIG);
    // Bob spends the model's next minute.
    await settler.handle([
      usageOf({ user: 'bob', tokens: 300, occurredAt: new Date(nextMinute + 1_000) }),
    ]);
    // Alice's usage from the minute before, from a partition that lagged.
    await settler.handle([
      usageOf({ user: 'alice', tokens: 100, occurredAt: new Date(firstMinute + 59_000) }),
    ]);
    settler.close();

    const view = new ExhaustionView();
    for (const event of budgetStates(published.events)) view.apply(event);
    const at = nextMinute + 2_000;
    const [limit] = modelLimits(CONFIG.routes[0], 'gpt-4-turbo').map((l) => bindLimit(l, at));
    assert.equal(
      exhaustedUntil(view, limit, at, limit.limit),
      limit.windowRef.endsAt,
      `still spent; announced ${budgetStates(published.events)
        .map((e) => `${e.state} ${e.windowId}`)
        .join(', ')}`,
    );
  });
});
