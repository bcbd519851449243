import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BudgetState,
  BudgetUnit,
  createBudgetStateChanged,
  LimitKind,
  type BudgetStateChanged,
} from '@aigw/contracts';
import { ExhaustionView, sweepEndedMarks } from './exhaustion-view';

const MINUTE = 60_000;
const start = Date.UTC(2030, 0, 1, 12, 0);
const windowOf = (at: number) => `${MINUTE}@${Math.floor(at / MINUTE) * MINUTE}`;
const KIND = LimitKind.ModelTokensPerMinute;
/** The view's entry of a limit in a window, as callers key it (`ExhaustionView.keyOf`). */
const entry = (subject: string, windowId: string, kind: LimitKind = KIND) =>
  ExhaustionView.keyOf(subject, kind, windowId);

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
    assert.equal(
      view.exhaustedUntilByKey(entry('gpt-4', windowOf(start)), start + 1),
      start + MINUTE,
    );
    assert.equal(view.exhaustedUntilByKey(entry('other', windowOf(start)), start + 1), undefined);
    assert.equal(
      view.exhaustedUntilByKey(entry('gpt-4', windowOf(start)), start + MINUTE),
      undefined,
    );
    assert.equal(view.size, 0, 'an ended entry is dropped');
  });

  it('keeps the mark on a `remaining` with no room (held full, or a late one)', () => {
    const view = new ExhaustionView();
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    view.apply(state('gpt-4', KIND, BudgetState.Remaining, start, 0));
    assert.equal(
      view.exhaustedUntilByKey(entry('gpt-4', windowOf(start)), start + 1),
      start + MINUTE,
    );
  });

  it('clears a mark of the same window on a `remaining` with room', () => {
    const view = new ExhaustionView();
    // This replica's own mark, set when the store refused a reservation against holds.
    view.markExhausted('gpt-4', KIND, windowOf(start), start + MINUTE);
    view.markExhausted('u1', LimitKind.TokenBudgetPerUser, windowOf(start), start + MINUTE);
    view.apply(state('gpt-4', KIND, BudgetState.Remaining, start, 250));
    assert.equal(view.exhaustedUntilByKey(entry('gpt-4', windowOf(start)), start + 1), undefined);
    assert.equal(
      view.exhaustedUntilByKey(
        entry('u1', windowOf(start), LimitKind.TokenBudgetPerUser),
        start + 1,
      ),
      start + MINUTE,
      'another limit keeps its mark',
    );
  });

  it('keeps a spent mark on a `remaining` with room, unless it names a higher limit', () => {
    const view = new ExhaustionView();
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    // Another budget replica's paced `remaining`, computed before the spend.
    view.apply(state('gpt-4', KIND, BudgetState.Remaining, start, 250));
    assert.equal(
      view.exhaustedUntilByKey(entry('gpt-4', windowOf(start)), start + 1),
      start + MINUTE,
    );
    view.apply({ ...state('gpt-4', KIND, BudgetState.Remaining, start, 250), limit: 2000 });
    assert.equal(view.exhaustedUntilByKey(entry('gpt-4', windowOf(start)), start + 1), undefined);
  });

  it('drops a mark made under a lower limit than the one asked about', () => {
    const view = new ExhaustionView();
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    assert.equal(
      view.exhaustedUntilByKey(entry('gpt-4', windowOf(start)), start + 1, 1000),
      start + MINUTE,
    );
    assert.equal(
      view.exhaustedUntilByKey(entry('gpt-4', windowOf(start)), start + 1, 1500),
      undefined,
    );
    assert.equal(view.size, 0);
  });

  it("clears the limit's mark on `recovered` for a new window, whatever this replica's clock says", () => {
    const view = new ExhaustionView();
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    view.apply(state('u1', LimitKind.TokenBudgetPerUser, BudgetState.Exhausted, start));
    // The budget service is a minute on; this replica's clock still reads the old window.
    view.apply(state('gpt-4', KIND, BudgetState.Recovered, start + MINUTE, 900));
    const lagging = start + MINUTE - 1_000;
    assert.equal(view.exhaustedUntilByKey(entry('gpt-4', windowOf(start)), lagging), undefined);
    assert.equal(
      view.exhaustedUntilByKey(entry('u1', windowOf(start), LimitKind.TokenBudgetPerUser), lagging),
      start + MINUTE,
      'another limit keeps its mark',
    );
    assert.equal(view.size, 1);
  });

  it("keeps a later window's mark on a `recovered` for an ended window (usage settled late)", () => {
    const view = new ExhaustionView();
    const next = start + MINUTE;
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, next));
    // A lagging partition's usage of the minute before, which had room.
    view.apply(state('gpt-4', KIND, BudgetState.Recovered, start, 400));
    assert.equal(view.exhaustedUntilByKey(entry('gpt-4', windowOf(next)), next + 1), next + MINUTE);
  });

  it('marks again after a recovery, and a later recovery clears that mark', () => {
    const view = new ExhaustionView();
    const next = start + MINUTE;
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    view.apply(state('gpt-4', KIND, BudgetState.Recovered, next, 900));
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, next));
    assert.equal(view.exhaustedUntilByKey(entry('gpt-4', windowOf(next)), next + 1), next + MINUTE);
    view.apply(state('gpt-4', KIND, BudgetState.Recovered, next + MINUTE, 1000));
    assert.equal(view.exhaustedUntilByKey(entry('gpt-4', windowOf(next)), next + 1), undefined);
    assert.equal(view.size, 0);
  });

  it('handles subjects with the separator in them', () => {
    const view = new ExhaustionView();
    view.apply(state('team|a', KIND, BudgetState.Exhausted, start));
    view.apply(state('team', KIND, BudgetState.Exhausted, start));
    view.apply(state('team|a', KIND, BudgetState.Recovered, start + MINUTE, 1));
    assert.equal(view.exhaustedUntilByKey(entry('team|a', windowOf(start)), start + 1), undefined);
    assert.equal(
      view.exhaustedUntilByKey(entry('team', windowOf(start)), start + 1),
      start + MINUTE,
    );
  });
});

describe('ExhaustionView dropping the marks of ended windows', () => {
  const DAY = 86_400_000;
  const dayOf = (at: number) => `${DAY}@${Math.floor(at / DAY) * DAY}`;
  /** `users` each spent a per-minute limit in `minute` and their daily one, as the topic says. */
  function spendMinute(view: ExhaustionView, users: number, minute: number) {
    for (let user = 0; user < users; user++) {
      view.apply(state(`u${user}`, LimitKind.TokenBudgetPerMinute, BudgetState.Exhausted, minute));
      view.markExhausted(
        `u${user}`,
        LimitKind.UserTotalTokensPerDay,
        dayOf(minute),
        Math.floor(minute / DAY) * DAY + DAY,
      );
    }
  }

  it('keeps only the marks of windows still current, however many ended before', () => {
    const view = new ExhaustionView();
    // An hour of busy minutes: 100 users spend their per-minute limit in each.
    for (let minute = 0; minute < 60; minute++) spendMinute(view, 100, start + minute * MINUTE);
    const now = start + 59 * MINUTE + 1_000;
    assert.equal(view.sweep(now), 59 * 100, "every ended minute's marks go");
    assert.equal(view.size, 100 + 100, "this minute's and the day's marks stay");
    assert.equal(
      view.exhaustedUntilByKey(entry('u7', windowOf(now), LimitKind.TokenBudgetPerMinute), now),
      start + 60 * MINUTE,
    );
    assert.equal(
      view.exhaustedUntilByKey(entry('u7', dayOf(now), LimitKind.UserTotalTokensPerDay), now),
      Math.floor(now / DAY) * DAY + DAY,
    );
    assert.equal(view.sweep(now), 0, 'nothing more to drop in the same minute');
  });

  it('keeps what a sweep leaves working: recovered, remaining, raised limits, a re-mark', () => {
    const view = new ExhaustionView();
    const next = start + MINUTE;
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, start));
    view.apply(state('gpt-4', KIND, BudgetState.Exhausted, next));
    view.markExhausted('own', KIND, windowOf(next), next + MINUTE); // a refusal against holds
    view.apply(state('u1', LimitKind.TokenBudgetPerUser, BudgetState.Exhausted, next));
    assert.equal(view.sweep(next + 1), 1, 'the ended minute of gpt-4');
    assert.equal(view.exhaustedUntilByKey(entry('gpt-4', windowOf(next)), next + 1), next + MINUTE);
    // `recovered` still finds the limit's current entry after the sweep.
    view.apply(state('gpt-4', KIND, BudgetState.Recovered, next + MINUTE, 900));
    assert.equal(view.exhaustedUntilByKey(entry('gpt-4', windowOf(next)), next + 1), undefined);
    // A `remaining` with room ends this replica's own mark; a higher limit ends a spent one.
    view.apply(state('own', KIND, BudgetState.Remaining, next, 250));
    assert.equal(
      view.exhaustedUntilByKey(
        entry('u1', windowOf(next), LimitKind.TokenBudgetPerUser),
        next + 1,
        2000,
      ),
      undefined,
    );
    assert.equal(view.size, 0);
    assert.equal(view.sweep(next + 10 * MINUTE), 0, 'a cleared mark is not swept again');
    // Marked again in the same window (another refusal) and swept once its window ends.
    view.markExhausted('own', KIND, windowOf(next), next + MINUTE);
    view.markExhausted('own', KIND, windowOf(next), next + MINUTE);
    assert.equal(view.sweep(next + MINUTE - 1), 0, 'its window has not ended');
    assert.equal(view.exhaustedUntilByKey(entry('own', windowOf(next)), next + 1), next + MINUTE);
    assert.equal(view.sweep(next + MINUTE), 1);
    assert.equal(view.size, 0);
  });

  it('moves a mark whose window end changed, so it is swept at the new end only', () => {
    const view = new ExhaustionView();
    view.markExhausted('u1', KIND, windowOf(start), start + MINUTE);
    view.markExhausted('u1', KIND, windowOf(start), start + 2 * MINUTE);
    assert.equal(view.sweep(start + MINUTE), 0);
    assert.equal(view.size, 1);
    assert.equal(view.sweep(start + 2 * MINUTE), 1);
    assert.equal(view.size, 0);
  });

  it('is swept on a timer, not by the requests that read it', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const view = new ExhaustionView();
    let now = start;
    const stop = sweepEndedMarks(view, 15_000, () => now);
    spendMinute(view, 10, start);
    now = start + MINUTE;
    assert.equal(view.size, 20, 'nothing swept before the timer fires');
    t.mock.timers.tick(15_000);
    assert.equal(view.size, 10, "the ended minute's marks went; the day's stay");
    stop();
    spendMinute(view, 10, now);
    now += MINUTE;
    t.mock.timers.tick(60_000);
    assert.equal(view.size, 20, 'a stopped sweep drops nothing more');
  });
});
