// Where the configuration identifies users more than one way, a batch's bill is charged to
// its owner's budget key on the batch's route (impliedBudgetKey): `header:x-user-id:alice`
// here, not `alice`. Its check and hold must read that budget, or they miss the owner's
// spend and count batches of every identification of `alice` as one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  bindLimit,
  ExhaustionView,
  LocalBudgetStore,
  userLimits,
  type BoundLimit,
} from '@aigw/budget-core';
import { routeForModel } from '@aigw/config';
import { DataPlaneErrorCode, type DataPlaneError } from '@aigw/contracts/data-plane';
import { BudgetAdmission } from '../admission/budget-admission';
import { BatchEstimator } from './batch-estimate';
import { BatchHolds } from './batch-holds';
import { batchUsageEvent } from './batch-settlement';
import { batchApis } from './testing/batch-apis';
import {
  KEYED_ROUTE_YAML,
  oneBatchRoute,
  parsedConfig,
  PRICED_BATCH_ROUTE_YAML,
} from './testing/one-batch-route';
import { oneRequestUsage } from './testing/one-request-usage';
import { heldOnBatchRoute } from './testing/held-record';

/** $0.01 a day for each user of the batch route; the other route keys users by API key. */
const config = parsedConfig(`${PRICED_BATCH_ROUTE_YAML}${KEYED_ROUTE_YAML}  costControl:
    maxDailyCostPerUser: 0.01
`);
const route = routeForModel(config, 'gpt-batch')!;
const ALICE = 'header:x-user-id:alice';
const NOW = Date.UTC(2026, 11, 4, 1);

function setup() {
  const clock = () => NOW;
  const budgets = new LocalBudgetStore(':memory:', clock);
  const dollars = (userKey: string): BoundLimit =>
    bindLimit(
      userLimits({ route, userKey }).find((limit) => limit.unit === 'dollars')!,
      NOW,
    );
  const balance = async (userKey: string) => {
    const limit = dollars(userKey);
    const [found] = await budgets.balances([{ key: limit.key, limit: limit.limit }], NOW);
    return { used: found.used, reserved: found.reserved };
  };
  /** Spends `amount` of `userKey`'s day, as settling a chat call's usage does. */
  const spend = async (userKey: string, amount: number) => {
    const limit = dollars(userKey);
    const change = { key: limit.key, amount, limit: limit.limit };
    budgets.settle(
      `spent-${userKey}`,
      undefined,
      [{ ...change, windowEndsAt: limit.windowRef.endsAt }],
      NOW,
    );
  };
  const holds = new BatchHolds({
    config: () => config,
    store: budgets,
    priceFactor: 0.5,
    now: clock,
  });
  return { budgets, balance, spend, holds };
}

/** A batch input file of alice's, one line asking for `maxTokens` of output. */
function inputFile(maxTokens: number) {
  const estimator = new BatchEstimator(100);
  estimator.add('/v1/chat/completions', {
    model: 'gpt-batch',
    messages: [{ role: 'user', content: 'q' }],
    max_tokens: maxTokens,
  });
  return heldOnBatchRoute('file', 'f1', NOW, {
    object: { object: 'file', purpose: 'batch' },
    estimate: estimator.estimate,
  });
}

const refusedForBudget = (error: DataPlaneError) => {
  assert.equal(error.code, DataPlaneErrorCode.BudgetExceeded);
  return true;
};

describe("a batch's check and hold read its owner's budget where users are identified two ways", () => {
  it('holds against the budget its bill is charged to, not the bare user id', async () => {
    const t = setup();
    const file = inputFile(1000);
    const id = await t.holds.hold(file, file.estimate);
    assert.ok(id, 'a limit binds alice');
    const held = await t.balance(ALICE);
    assert.ok(held.reserved > 0.0039 && held.reserved < 0.0045, `held ${held.reserved}`);
    assert.deepEqual(await t.balance('alice'), { used: 0, reserved: 0 });
  });

  it("refuses a batch the owner's spend leaves no room for", async () => {
    const t = setup();
    // $0.009 of alice's $0.01 spent by her calls: the batch's $0.004 does not fit.
    await t.spend(ALICE, 0.009);
    const file = inputFile(1000);
    await assert.rejects(t.holds.hold(file, file.estimate), refusedForBudget);
    // Another identification's alice is another budget: hers does not bind this one.
    const other = setup();
    await other.spend('apikey:alice', 0.01);
    assert.ok(await other.holds.hold(file, file.estimate));
  });

  it("checks the owner's budget before creating a batch", async () => {
    const t = setup();
    const admission = new BudgetAdmission(() => config, t.budgets, new ExhaustionView(), {
      defaultMaxOutputTokens: 100,
      holdMs: 60_000,
      now: () => NOW,
    });
    const { billing } = batchApis(
      { send: async () => assert.fail('the backend is not called') },
      { config: () => config, admission },
    );
    const file = inputFile(10);
    await billing.checkBudget(file, undefined); // room: admitted
    // Her calls overshot her day (a stream's usage past its hold): spent.
    await t.spend(ALICE, 0.011);
    await assert.rejects(billing.checkBudget(file, undefined), refusedForBudget);
  });

  it('bills a batch to that budget by name, partitioned by it as a call is', () => {
    const batch = { ...heldOnBatchRoute('batch', 'b1', NOW), tier: undefined };
    const usage = oneRequestUsage();
    const { event } = batchUsageEvent(config, batch, usage, 0.5);
    assert.equal(event.userId, 'alice');
    assert.equal(event.budgetKey, ALICE);
    assert.equal(event.partitionKey, ALICE);
    // Users identified one way: the user id is the budget key, as it always was.
    const single = batchUsageEvent(oneBatchRoute(), batch, usage, 0.5).event;
    assert.equal(single.budgetKey, undefined);
    assert.equal(single.partitionKey, 'alice');
  });
});
