// A Realtime session is admitted (and held) when it opens; its first response's usage
// settles that hold, maybe an hour or more later. Charged to the windows of the opening, it
// landed in a minute long ended (in Redis a key that expires at once) and the minute it was
// spent in never counted it. Each response is charged when it occurred; the hold is
// released from the windows it was taken in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  balanceChangesOf,
  bindLimit,
  ExhaustionView,
  LocalBudgetStore,
  newReservationId,
  userLimits,
} from '@aigw/budget-core';
import { LimitKind } from '@aigw/contracts';
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
  tokenRateLimit:
    perUser: {totalTokensPerDay: 10000}
`);
const route = CONFIG.routes[0];
const MINUTE = 60_000;
const HOLD_MS = 600_000;

/** A store and settler on a clock the test moves, and what admission and reads do. */
function setup() {
  let now = 0;
  const store = new LocalBudgetStore(':memory:', () => now);
  const { settler, published } = settlerOf(CONFIG, { store });
  const bound = (at: number) =>
    userLimits({ route, userKey: 'alice' }).map((l) => bindLimit(l, at));
  const limitOf = (kind: LimitKind, at: number) => {
    const limit = bound(at).find((l) => l.kind === kind);
    assert.ok(limit, `a ${kind} limit`);
    return limit;
  };
  return {
    settler,
    published,
    store,
    at: (time: number) => (now = time),
    limitOf,
    /** Opens a session at `now` as ingress admits it: its hold on every limit, named by its id. */
    open(tokens: number) {
      const id = newReservationId(now);
      const amounts = {
        tokens,
        inputTokens: 0,
        outputTokens: 0,
        totalTokens: tokens,
        dollars: 0,
        requests: 1,
      };
      const held = store.reserve(id, balanceChangesOf(bound(now), amounts), HOLD_MS, now);
      assert.ok(!(held instanceof Promise) && held.ok, 'admitted');
      return id;
    },
    /** The session runs until `until`: its ingress pushes the hold's lapse on meanwhile. */
    async runUntil(id: string, until: number) {
      while (now + HOLD_MS / 4 < until) {
        now += HOLD_MS / 4;
        assert.deepEqual(store.refresh([id], HOLD_MS, now), [true]);
      }
      now = until;
    },
    async balance(kind: LimitKind, at: number) {
      const [balance] = await store.balances([limitOf(kind, at)], now);
      return { used: balance.used, reserved: balance.reserved };
    },
    response: (tokens: number, reservationId?: string) =>
      usageOf({
        user: 'alice',
        tokens,
        occurredAt: new Date(now),
        operation: 'realtime',
        ...(reservationId ? { reservationId } : {}),
      }),
  };
}

describe('BudgetSettler charging a Realtime session', () => {
  it('charges a first response that comes over an hour after the session opened to the minute it was spent in', async () => {
    const s = setup();
    const opened = Date.UTC(2030, 0, 1, 12, 0, 30);
    s.at(opened);
    const session = s.open(300);
    const answered = opened + 61 * MINUTE;
    await s.runUntil(session, answered);
    await s.settler.handle([s.response(300, session)]);

    assert.deepEqual(
      await s.balance(LimitKind.TokenBudgetPerMinute, answered),
      { used: 300, reserved: 0 },
      'the minute it was spent in is charged',
    );
    assert.deepEqual(
      await s.balance(LimitKind.TokenBudgetPerMinute, opened),
      { used: 0, reserved: 0 },
      "the opening minute's hold is released, nothing charged there",
    );
    assert.deepEqual(
      await s.balance(LimitKind.UserTotalTokensPerDay, answered),
      { used: 300, reserved: 0 },
      'the day is charged once, its hold released',
    );
    // Spent to its limit now: every ingress marks the current minute, so the session (whose
    // budget check reads the view) ends and new calls are refused until the minute ends.
    const view = new ExhaustionView();
    for (const event of budgetStates(s.published.events)) view.apply(event);
    const minute = s.limitOf(LimitKind.TokenBudgetPerMinute, answered);
    assert.equal(exhaustedUntil(view, minute, answered, 300), minute.windowRef.endsAt);
    s.settler.close();
  });

  it('charges each later response to its own minute, and the day once each', async () => {
    const s = setup();
    const opened = Date.UTC(2030, 0, 1, 12, 0, 30);
    s.at(opened);
    const session = s.open(300);
    await s.runUntil(session, opened + 90 * MINUTE);
    const first = opened + 90 * MINUTE;
    await s.settler.handle([s.response(100, session)]);
    s.at(first + 2 * MINUTE);
    await s.settler.handle([s.response(40)]);
    const later = first + 2 * MINUTE;

    assert.equal((await s.balance(LimitKind.TokenBudgetPerMinute, first)).used, 100);
    assert.equal((await s.balance(LimitKind.TokenBudgetPerMinute, later)).used, 40);
    assert.deepEqual(await s.balance(LimitKind.UserTotalTokensPerDay, later), {
      used: 140,
      reserved: 0,
    });
    s.settler.close();
  });

  it('charges a first response after midnight to the new day, releasing the hold of the old one', async () => {
    const s = setup();
    const opened = Date.UTC(2030, 0, 1, 23, 59, 30);
    s.at(opened);
    const session = s.open(300);
    const answered = Date.UTC(2030, 0, 2, 0, 0, 20);
    await s.runUntil(session, answered);
    await s.settler.handle([s.response(200, session)]);

    assert.deepEqual(await s.balance(LimitKind.UserTotalTokensPerDay, answered), {
      used: 200,
      reserved: 0,
    });
    assert.deepEqual(await s.balance(LimitKind.UserTotalTokensPerDay, opened), {
      used: 0,
      reserved: 0,
    });
    assert.equal((await s.balance(LimitKind.TokenBudgetPerMinute, answered)).used, 200);
    s.settler.close();
  });

  it('charges a chat stream that ended half an hour later to the minute it ended in, as a response', async () => {
    const s = setup();
    const admitted = Date.UTC(2030, 0, 1, 12, 0, 30);
    s.at(admitted);
    const stream = s.open(300);
    await s.runUntil(stream, admitted + 30 * MINUTE);
    await s.settler.handle([
      usageOf({
        user: 'alice',
        tokens: 200,
        occurredAt: new Date(admitted + 30 * MINUTE),
        reservationId: stream,
      }),
    ]);
    assert.deepEqual(await s.balance(LimitKind.TokenBudgetPerMinute, admitted), {
      used: 0,
      reserved: 0,
    });
    assert.deepEqual(await s.balance(LimitKind.TokenBudgetPerMinute, admitted + 30 * MINUTE), {
      used: 200,
      reserved: 0,
    });
    s.settler.close();
  });
});
