// Settlement of request-count limits (tokenRateLimit.*.requestsPerMinute): one request per usage event.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, modelLimits, userLimits, type LocalBudgetStore } from '@aigw/budget-core';
import {
  BudgetAdjustmentAction,
  BudgetState,
  BudgetUnit,
  createBudgetAdjusted,
  LimitKind,
} from '@aigw/contracts';
import { parseBudgetAdjustment } from './admin/budget-adjustment.dto';
import {
  budgetStates as states,
  gpt4TurboRoute,
  settlerOf,
  usageOf,
} from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenRateLimit:
    perUser: {requestsPerMinute: 3}
    perModel:
      gpt-4-turbo: {requestsPerMinute: 5}
`);
const route = CONFIG.routes[0];

// One minute for the whole test, so no window boundary falls inside it.
const at = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;

function usage(
  user: string,
  tokens: number,
  options: { cacheHit?: boolean; reservationId?: string } = {},
) {
  return usageOf({ user, tokens, occurredAt: new Date(at), ...options });
}

const setup = () => settlerOf(CONFIG);

const userRequests = (user: string) =>
  bindLimit(
    userLimits({ route, userKey: user }).find((l) => l.kind === LimitKind.UserRequestsPerMinute)!,
    at,
  );
const modelRequests = () =>
  bindLimit(
    modelLimits(route, 'gpt-4-turbo').find((l) => l.kind === LimitKind.ModelRequestsPerMinute)!,
    at,
  );

async function balance(store: LocalBudgetStore, limit: { key: string; limit: number }) {
  return (await store.balances([{ key: limit.key, limit: limit.limit }], at))[0];
}

describe('BudgetSettler: requestsPerMinute', () => {
  it('spends one request per usage event, whatever its tokens, and announces it in requests', async () => {
    const { store, published, settler } = setup();
    await settler.handle([usage('alice', 10), usage('alice', 5000)]);
    assert.equal((await balance(store, userRequests('alice'))).used, 2);
    const remaining = states(published.events).find(
      (e) => e.limitKind === LimitKind.UserRequestsPerMinute,
    );
    assert.ok(remaining);
    assert.equal(remaining.state, BudgetState.Remaining);
    assert.equal(remaining.remaining, 1);
    assert.equal(remaining.limit, 3);
    assert.equal(remaining.unit, BudgetUnit.Requests);

    published.events.length = 0;
    await settler.handle([usage('alice', 10)]);
    const exhausted = states(published.events).filter((e) => e.state === BudgetState.Exhausted);
    assert.deepEqual(
      exhausted.map((e) => [e.limitKind, e.budgetKey, e.unit]),
      [[LimitKind.UserRequestsPerMinute, 'alice', BudgetUnit.Requests]],
    );
  });

  it("the model's request limit counts every caller's calls", async () => {
    const { store, published, settler } = setup();
    await settler.handle(['a', 'b', 'c', 'd', 'e'].map((user) => usage(user, 10)));
    assert.equal((await balance(store, modelRequests())).used, 5);
    const exhausted = states(published.events).find(
      (e) => e.state === BudgetState.Exhausted && e.limitKind === LimitKind.ModelRequestsPerMinute,
    );
    assert.equal(exhausted?.budgetKey, 'gpt-4-turbo');
    assert.equal(exhausted?.unit, BudgetUnit.Requests);
  });

  it('settles the hold admission took: one held becomes one spent', async () => {
    const { store, settler } = setup();
    const limit = userRequests('alice');
    const held = store.reserve(
      'hold-1',
      [{ key: limit.key, amount: 1, limit: 3, windowEndsAt: limit.windowRef.endsAt }],
      600_000,
      at,
    );
    assert.ok(held.ok);
    assert.deepEqual(await balance(store, limit), {
      key: limit.key,
      limit: 3,
      used: 0,
      reserved: 1,
    });
    await settler.handle([usage('alice', 10, { reservationId: 'hold-1' })]);
    assert.deepEqual(await balance(store, limit), {
      key: limit.key,
      limit: 3,
      used: 1,
      reserved: 0,
    });
  });

  it('a reused answer counts as a call only when its billing charges for it', async () => {
    const { store, settler } = setup();
    // AI_GATEWAY_REUSE_BILLING=none (the default): billed no tokens, not admitted, not counted.
    await settler.handle([usage('alice', 0, { cacheHit: true })]);
    assert.equal((await balance(store, userRequests('alice'))).used, 0);
    assert.equal((await balance(store, modelRequests())).used, 0);
    // full or a fraction: billed tokens, admitted like a call, counted as one.
    await settler.handle([usage('alice', 40, { cacheHit: true })]);
    assert.equal((await balance(store, userRequests('alice'))).used, 1);
  });

  it('an operator credit gives requests back and announces the limit recovered', async () => {
    const { store, published, settler } = setup();
    await settler.handle([usage('alice', 10), usage('alice', 10), usage('alice', 10)]);
    published.events.length = 0;
    const parsed = parseBudgetAdjustment('alice', BudgetAdjustmentAction.Credit, {
      limit: LimitKind.UserRequestsPerMinute,
      amount: 2,
    });
    assert.ok(parsed.ok);
    const { value } = parsed;
    await settler.handle([
      createBudgetAdjusted(
        {
          partitionKey: 'alice',
          userKey: 'alice',
          action: value.action,
          limitKind: value.limitKind,
          amount: value.amount,
        },
        { occurredAt: new Date(at + 1_000) },
      ),
    ]);
    assert.equal((await balance(store, userRequests('alice'))).used, 1);
    assert.deepEqual(
      states(published.events).map((e) => [e.limitKind, e.state, e.remaining, e.unit]),
      [[LimitKind.UserRequestsPerMinute, BudgetState.Recovered, 2, BudgetUnit.Requests]],
    );
  });

  it('a credit of a request limit is a whole number of requests', () => {
    const parsed = parseBudgetAdjustment('alice', BudgetAdjustmentAction.Credit, {
      limit: LimitKind.UserRequestsPerMinute,
      amount: 1.5,
    });
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.ok ? [] : parsed.issues, [
      {
        path: 'amount',
        message:
          'a credit of tokenRateLimit.perUser.requestsPerMinute is a whole number of requests',
      },
    ]);
  });
});
