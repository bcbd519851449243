import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BudgetState,
  BudgetUnit,
  createBudgetStateChanged,
  LimitKind,
  type BudgetStateChanged,
} from '@aigw/contracts';
import { ExhaustionView } from './exhaustion-view';

const MINUTE = 60_000;
const start = Date.UTC(2030, 0, 1, 12, 0);
const windowOf = (at: number) => `${MINUTE}@${Math.floor(at / MINUTE) * MINUTE}`;
const KIND = LimitKind.ModelTokensPerMinute;

function state(
  budgetKey: string,
  kind: LimitKind,
  state: BudgetState,
  windowStart: number,
  remaining = 0,
): BudgetStateChanged {
  return createBudgetStateChanged({
    requestId: null,
    partitionKey: budgetKey,
    budgetKey,
    limitKind: kind,
    windowId: windowOf(windowStart),
    state,
    remaining,
    limit: 1000,
    unit: BudgetUnit.Tokens,
    resetAt: new Date(windowStart + MINUTE).toISOString(),
  });
}

describe('ExhaustionView', () => {
  it('marks an exhausted limit until its window ends', () => {
    const view = new ExhaustionView();
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(start), start + 1), start + MINUTE);
    assert.equal(view.exhaustedUntil('other', KIND, windowOf(start), start + 1), undefined);
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(start), start + MINUTE), undefined);
    assert.equal(view.size, 0, 'an ended entry is dropped');
  });

  it('keeps the mark on a `remaining` with no room (held full, or a late one)', () => {
    const view = new ExhaustionView();
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    view.apply(state('gpt-4', KIND, BudgetState.Remaining, start, 0));
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(start), start + 1), start + MINUTE);
  });

  it('clears a mark of the same window on a `remaining` with room', () => {
    const view = new ExhaustionView();
    // This replica's own mark, set when the store refused a reservation against holds.
    view.markExhausted('gpt-4', KIND, windowOf(start), start + MINUTE);
    view.markExhausted('u1', LimitKind.TokenBudgetPerUser, windowOf(start), start + MINUTE);
    view.apply(state('gpt-4', KIND, BudgetState.Remaining, start, 250));
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(start), start + 1), undefined);
    assert.equal(
      view.exhaustedUntil('u1', LimitKind.TokenBudgetPerUser, windowOf(start), start + 1),
      start + MINUTE,
      'another limit keeps its mark',
    );
  });

  it('keeps a spent mark on a `remaining` with room, unless it names a higher limit', () => {
    const view = new ExhaustionView();
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    // Another budget replica's paced `remaining`, computed before the spend.
    view.apply(state('gpt-4', KIND, BudgetState.Remaining, start, 250));
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(start), start + 1), start + MINUTE);
    view.apply({ ...state('gpt-4', KIND, BudgetState.Remaining, start, 250), limit: 2000 });
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(start), start + 1), undefined);
  });

  it('drops a mark made under a lower limit than the one asked about', () => {
    const view = new ExhaustionView();
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    assert.equal(
      view.exhaustedUntil('gpt-4', KIND, windowOf(start), start + 1, 1000),
      start + MINUTE,
    );
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(start), start + 1, 1500), undefined);
    assert.equal(view.size, 0);
  });

  it("clears the limit's mark on `recovered` for a new window, whatever this replica's clock says", () => {
    const view = new ExhaustionView();
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    view.apply(state('u1', LimitKind.TokenBudgetPerUser, BudgetState.Exhausted, start));
    // The budget service is a minute on; this replica's clock still reads the old window.
    view.apply(state('gpt-4', KIND, BudgetState.Recovered, start + MINUTE, 900));
    const lagging = start + MINUTE - 1_000;
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(start), lagging), undefined);
    assert.equal(
      view.exhaustedUntil('u1', LimitKind.TokenBudgetPerUser, windowOf(start), lagging),
      start + MINUTE,
      'another limit keeps its mark',
    );
    assert.equal(view.size, 1);
  });

  it('marks again after a recovery, and a later recovery clears that mark', () => {
    const view = new ExhaustionView();
    const next = start + MINUTE;
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    view.apply(state('gpt-4', KIND, BudgetState.Recovered, next, 900));
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, next));
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(next), next + 1), next + MINUTE);
    view.apply(state('gpt-4', KIND, BudgetState.Recovered, next + MINUTE, 1000));
    assert.equal(view.exhaustedUntil('gpt-4', KIND, windowOf(next), next + 1), undefined);
    assert.equal(view.size, 0);
  });

  it('handles subjects with the separator in them', () => {
    const view = new ExhaustionView();
    view.apply(state('team|a', KIND, BudgetState.Exhausted, start));
    view.apply(state('team', KIND, BudgetState.Exhausted, start));
    view.apply(state('team|a', KIND, BudgetState.Recovered, start + MINUTE, 1));
    assert.equal(view.exhaustedUntil('team|a', KIND, windowOf(start), start + 1), undefined);
    assert.equal(view.exhaustedUntil('team', KIND, windowOf(start), start + 1), start + MINUTE);
  });
});
