// Usage and adjustments where users are identified two ways (a JWT route and a header
// route): each identification's user has a budget of its own under a qualified key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, userLimits } from '@aigw/budget-core';
import { BudgetAdjustmentAction, createBudgetAdjusted, LimitKind } from '@aigw/contracts';
import { configFromYaml } from '@aigw/testing';
import { adjustableLimits } from './adjustable-limits';
import { withAdjustments } from './budget-rebuild';
import { exhaustions, gpt4TurboRoute, settlerOf, usageOf } from './testing/budget-settler-fixture';

// Route `r` (gpt-4-turbo) identifies users by the x-user-id header; route `secured` by the
// `sub` of tokens its provider `corp` verified. Both give each user 100 tokens a month.
const TWO_WAYS = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, provider: openai, model: gpt-4-turbo}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 100, period: 30d}
---
kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends:
  - {name: secure, provider: openai, model: gpt-4o}
  userIdentification:
    jwt: {claim: sub, provider: corp}
  tokenBudget:
    perUser: {limit: 100, period: 30d}
---
kind: SecurityPolicy
metadata: {name: corp}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: secured}]
  jwt:
    providers:
    - name: corp
      issuer: https://corp.example
      remoteJWKS: {uri: "https://corp.example/jwks"}
`);

const HEADER_ALICE = 'header:x-user-id:alice';
const JWT_ALICE = 'jwt:corp:sub:alice';

/** The used balance of `budgetKey`'s monthly token budget. */
async function usedOf(store: ReturnType<typeof settlerOf>['store'], budgetKey: string) {
  const route = TWO_WAYS.routes[0];
  const [limit] = userLimits({ route, userKey: budgetKey }).filter(
    (l) => l.kind === LimitKind.TokenBudgetPerUser,
  );
  const now = Date.now();
  const [balance] = await store.balances([bindLimit(limit, now)], now);
  return balance.used;
}

describe('BudgetSettler: one user id identified two ways', () => {
  it("settles usage under the event's budget key", async () => {
    const { store, published, settler } = settlerOf(TWO_WAYS);
    await settler.handle([
      usageOf({ user: 'alice', budgetKey: HEADER_ALICE, tokens: 100, requestId: 'spoof' }),
    ]);
    // The header's alice spent her month; the announcement names her budget key.
    const [spent] = exhaustions(published.events);
    assert.equal(spent.budgetKey, HEADER_ALICE);
    assert.equal(await usedOf(store, HEADER_ALICE), 100);
    assert.equal(await usedOf(store, JWT_ALICE), 0, "the JWT user's budget is untouched");
    assert.equal(await usedOf(store, 'alice'), 0, 'the bare id is no budget here');
  });

  it("charges an older build's event (no budget key) to its route's one identification", async () => {
    // A rebuild after the upgrade: the header route's usage lands on the key read now.
    const { store, settler } = settlerOf(TWO_WAYS);
    await settler.handle([usageOf({ user: 'alice', tokens: 40, requestId: 'old' })]);
    assert.equal(await usedOf(store, HEADER_ALICE), 40);
    assert.equal(await usedOf(store, JWT_ALICE), 0);
    assert.equal(await usedOf(store, 'alice'), 0);
    // With one identification the user id is the key, as it always was.
    const single = settlerOf(
      gpt4TurboRoute('  tokenBudget:\n    perUser: {limit: 100, period: 30d}\n'),
    );
    await single.settler.handle([usageOf({ user: 'alice', tokens: 40, requestId: 'old' })]);
    assert.equal(await usedOf(single.store, 'alice'), 40);
  });

  it('a reset of a plain user id gives back its budget under each identification', async () => {
    const { store, settler } = settlerOf(TWO_WAYS);
    await settler.handle([
      usageOf({ user: 'alice', budgetKey: HEADER_ALICE, tokens: 30, requestId: 'a' }),
      usageOf({ user: 'alice', budgetKey: JWT_ALICE, tokens: 50, requestId: 'b' }),
    ]);
    const reset = (userKey: string) =>
      createBudgetAdjusted({
        partitionKey: userKey,
        userKey,
        action: BudgetAdjustmentAction.Reset,
      });
    // A qualified key names that budget alone.
    await settler.handle([reset(HEADER_ALICE)]);
    assert.equal(await usedOf(store, HEADER_ALICE), 0);
    assert.equal(await usedOf(store, JWT_ALICE), 50);
    await settler.handle([usageOf({ user: 'alice', budgetKey: HEADER_ALICE, tokens: 30 })]);
    // The plain id names both.
    await settler.handle([reset('alice')]);
    assert.equal(await usedOf(store, HEADER_ALICE), 0);
    assert.equal(await usedOf(store, JWT_ALICE), 0);
  });
});

describe('withAdjustments: a budget rebuild where users are identified two ways', () => {
  it('puts a reset of the plain id, or of the budget key, before the usage that followed it', async () => {
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second));
    const before = usageOf({ user: 'alice', budgetKey: JWT_ALICE, tokens: 30, occurredAt: at(1) });
    const after = usageOf({ user: 'alice', budgetKey: JWT_ALICE, tokens: 20, occurredAt: at(5) });
    const reset = (userKey: string, second: number) =>
      createBudgetAdjusted(
        { partitionKey: userKey, userKey, action: BudgetAdjustmentAction.Reset },
        { occurredAt: at(second) },
      );
    const plain = reset('alice', 2);
    const qualified = reset(JWT_ALICE, 3);
    const log = withAdjustments(
      { replay: async (onBatch) => onBatch([before, after]) },
      async () => [qualified, plain],
    );
    const order: string[] = [];
    await log.replay(async (batch) => void order.push(...batch.map((e) => e.eventId)));
    assert.deepEqual(order, [before.eventId, plain.eventId, qualified.eventId, after.eventId]);
  });
});

describe('adjustableLimits', () => {
  it('binds a plain id under each identification, a qualified key alone', () => {
    const keysOf = (name: string) =>
      adjustableLimits(TWO_WAYS, name, LimitKind.TokenBudgetPerUser, Date.now()).map(
        (limit) => limit.subject,
      );
    assert.deepEqual(keysOf('alice').sort(), [HEADER_ALICE, JWT_ALICE]);
    assert.deepEqual(keysOf(JWT_ALICE), [JWT_ALICE]);
    // Never qualified: no identification named the caller.
    assert.deepEqual(keysOf('anonymous'), ['anonymous']);
  });

  it('with one identification binds the user id itself, as before', () => {
    const single = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 100, period: 30d}
`);
    const limits = adjustableLimits(single, 'alice', undefined, Date.now());
    assert.deepEqual(
      limits.map((limit) => limit.subject),
      ['alice'],
    );
  });
});
