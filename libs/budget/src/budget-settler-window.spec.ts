// Which window a settlement charges: the one its hold was taken in, which admission checked
// for room, not the one the call ended in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  admittedAtOf,
  balanceChangesOf,
  bindLimit,
  newReservationId,
  userLimits,
} from '@aigw/budget-core';
import { gpt4TurboRoute, settlerOf, usageOf } from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenBudget:
    perMinute: {limit: 300}
`);
const route = CONFIG.routes[0];
const MINUTE = 60_000;
// Recent minutes: the embedded store drops balances whose window ended an hour ago.
const firstMinute = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;

function usage(tokens: number, occurredAt: number, reservationId: string) {
  return usageOf({ user: 'alice', tokens, occurredAt: new Date(occurredAt), reservationId });
}

function setup() {
  const { store, settler } = settlerOf(CONFIG);
  const perMinute = (at: number) =>
    userLimits({ route, userKey: 'alice' }).map((l) => bindLimit(l, at));
  /** Holds `tokens` as admission does at `at`: the limits bound then, the id naming it. */
  const admit = (tokens: number, at: number, id = newReservationId(at)) => {
    const limits = perMinute(at);
    const amounts = {
      tokens,
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      dollars: 0,
      requests: 1,
    };
    const held = store.reserve(id, balanceChangesOf(limits, amounts), 600_000, at);
    assert.ok(!(held instanceof Promise) && held.ok, `admitted ${tokens} at ${at}`);
    return id;
  };
  const used = async (at: number) => {
    const [limit] = perMinute(at);
    const [balance] = await store.balances([limit], at);
    return balance.used;
  };
  return { settler, admit, used };
}

describe('BudgetSettler window of a settlement', () => {
  it('charges a call that ended in the next minute to the minute its hold was taken in', async () => {
    const { settler, admit, used } = setup();
    const late = firstMinute + 50_000;
    const next = firstMinute + MINUTE;
    // Three calls fill the first minute's 300 with holds; three more fill the next minute's.
    const first = [admit(100, late), admit(100, late), admit(100, late)];
    const second = [admit(100, next + 5_000), admit(100, next + 5_000), admit(100, next + 5_000)];
    // All six end in the next minute, each spending exactly what it held.
    const ended = next + 30_000;
    await settler.handle([...first, ...second].map((id) => usage(100, ended, id)));
    assert.equal(await used(late), 300, 'the first minute is charged what it admitted');
    assert.equal(await used(ended), 300, 'the next minute is not charged past its limit');
  });

  it('charges the minute the usage occurred in when the id does not say when it was held', async () => {
    const { settler, admit, used } = setup();
    const held = firstMinute + 50_000;
    const id = admit(100, held, randomUUID());
    await settler.handle([usage(100, firstMinute + MINUTE + 1_000, id)]);
    assert.equal(await used(held), 0);
    assert.equal(await used(firstMinute + MINUTE), 100);
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
