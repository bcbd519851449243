// Which window a settlement charges: the one its usage was reported in (as most gateways
// charge, and as Realtime responses are), whose limits are still enforced, however long ago
// the call's hold was taken; the hold is given back in the windows it was taken in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  admittedAtOf,
  balanceChangesOf,
  bindLimit,
  newReservationId,
  userLimits,
  windowAt,
} from '@aigw/budget-core';
import { LimitKind } from '@aigw/contracts';
import { gpt4TurboRoute, settlerOf, usageOf } from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenBudget:
    perMinute: {limit: 300}
    perUser: {limit: 100000, period: 30d}
  tokenRateLimit:
    perUser: {totalTokensPerDay: 10000}
`);
const route = CONFIG.routes[0];
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HOLD_MS = 600_000;
// Recent minutes: the embedded store drops balances whose window ended an hour ago.
const firstMinute = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;

function usage(tokens: number, occurredAt: number, reservationId: string) {
  return usageOf({ user: 'alice', tokens, occurredAt: new Date(occurredAt), reservationId });
}

function setup() {
  const { store, settler, metrics } = settlerOf(CONFIG);
  const bound = (at: number) =>
    userLimits({ route, userKey: 'alice' }).map((l) => bindLimit(l, at));
  /** Holds `tokens` as admission does at `at`: the limits bound then, the id naming it. */
  const admit = (tokens: number, at: number, id = newReservationId(at), holdMs = HOLD_MS) => {
    const amounts = {
      tokens,
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: tokens,
      dollars: 0,
      requests: 1,
    };
    const held = store.reserve(id, balanceChangesOf(bound(at), amounts), holdMs, at);
    assert.ok(!(held instanceof Promise) && held.ok, `admitted ${tokens} at ${at}`);
    return id;
  };
  /** Used and reserved of the limit of `kind` in its window at `at`. */
  const balance = async (kind: LimitKind, at: number) => {
    const limit = bound(at).find((l) => l.kind === kind);
    assert.ok(limit, `a ${kind} limit`);
    const [found] = await store.balances([limit], at);
    return [found.used, found.reserved];
  };
  const lateSettlements = async () => {
    const line = (await metrics.metrics())
      .split('\n')
      .find((l) => l.startsWith('ai_gateway_budget_late_settlements_total{kind="call"}'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  return { settler, admit, balance, lateSettlements };
}

describe('BudgetSettler window of a settlement', () => {
  it('charges a call that ended in the next minute to that minute, its hold given back', async () => {
    const { settler, admit, balance } = setup();
    const held = firstMinute + 50_000;
    const ended = firstMinute + MINUTE + 30_000;
    await settler.handle([usage(100, ended, admit(100, held))]);
    assert.deepEqual(await balance(LimitKind.TokenBudgetPerMinute, held), [0, 0]);
    assert.deepEqual(await balance(LimitKind.TokenBudgetPerMinute, ended), [100, 0]);
  });

  it('charges a call settled hours after its admission to the minute it was reported in, once', async () => {
    const { settler, admit, balance } = setup();
    // A reasoning model, a big stream, a stream kept open: its minute's grace long over.
    const held = firstMinute - 2 * HOUR;
    const ended = firstMinute + 10_000;
    const id = admit(100, held);
    const event = usage(100, ended, id);
    await settler.handle([event]);
    for (const kind of [LimitKind.TokenBudgetPerMinute, LimitKind.UserTotalTokensPerDay]) {
      assert.deepEqual(await balance(kind, ended), [100, 0], `${kind} charged when reported`);
    }
    // Redelivered (the consumer reads at least once): applied once.
    await settler.handle([event]);
    assert.deepEqual(await balance(LimitKind.TokenBudgetPerMinute, ended), [100, 0]);
    assert.deepEqual(await balance(LimitKind.UserTotalTokensPerDay, ended), [100, 0]);
  });

  for (const [name, kind, length] of [
    ['day', LimitKind.UserTotalTokensPerDay, DAY],
    ['30 days', LimitKind.TokenBudgetPerUser, 30 * DAY],
  ] as const) {
    it(`charges a call running across the end of its ${name} to the ${name} it ended in`, async () => {
      const { settler, admit, balance } = setup();
      const boundary = windowAt({ unit: 'fixed', ms: length, text: name }, Date.now()).startsAt;
      const held = boundary - 30 * MINUTE;
      // Past the ended window's grace: charged there, it would be dropped at once.
      const ended = boundary + 70 * MINUTE;
      await settler.handle([usage(100, ended, admit(100, held))]);
      assert.deepEqual(await balance(kind, held), [0, 0], 'the hold given back');
      assert.deepEqual(await balance(kind, ended), [100, 0]);
    });
  }

  it('charges the minute the usage occurred in when the id does not say when it was held', async () => {
    const { settler, admit, balance } = setup();
    const held = firstMinute + 50_000;
    const id = admit(100, held, randomUUID());
    await settler.handle([usage(100, firstMinute + MINUTE + 1_000, id)]);
    assert.deepEqual(await balance(LimitKind.TokenBudgetPerMinute, held), [0, 0]);
    assert.deepEqual(await balance(LimitKind.TokenBudgetPerMinute, firstMinute + MINUTE), [100, 0]);
  });

  it('never charges a window before the admission (a producer whose clock runs behind)', async () => {
    const { settler, admit, balance } = setup();
    const held = firstMinute + MINUTE + 1_000;
    await settler.handle([usage(100, firstMinute + 59_000, admit(100, held))]);
    assert.deepEqual(await balance(LimitKind.TokenBudgetPerMinute, firstMinute), [0, 0]);
    assert.deepEqual(await balance(LimitKind.TokenBudgetPerMinute, held), [100, 0]);
  });

  it('counts the settlements whose hold had lapsed, once each', async () => {
    const { settler, admit, lateSettlements } = setup();
    const held = firstMinute + 1_000;
    const inForce = admit(10, held);
    const outlived = admit(10, held, newReservationId(held), 5_000);
    await settler.handle([usage(10, held + 20_000, inForce)]);
    assert.equal(await lateSettlements(), 0);
    const late = usage(10, held + 20_000, outlived);
    await settler.handle([late, late]);
    assert.equal(await lateSettlements(), 1);
  });
});

describe('reservation ids', () => {
  it('name the time they were made at, and only UUIDv7 ids say one', () => {
    const at = Date.UTC(2026, 11, 31, 23, 59, 59, 987);
    const id = newReservationId(at);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(newReservationId(at), id, 'random past the time');
    assert.equal(admittedAtOf(id), at);
    assert.equal(admittedAtOf(randomUUID()), undefined);
    assert.equal(admittedAtOf('batch-0193ac3e-5f00-7000-8000-000000000000'), undefined);
    assert.equal(admittedAtOf(undefined), undefined);
  });
});
