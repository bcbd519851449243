// A batch's hold whose reservation ran in the store but whose reply was lost (a Redis
// command timeout, a dropped connection): the batch is refused with a 503 and never
// created, so nothing would ever settle or release its hold, which holds the batch's whole
// estimate on the owner's daily budgets for 36 hours. Admission gives such a hold back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, LocalBudgetStore, userLimits } from '@aigw/budget-core';
import { routeForModel } from '@aigw/config';
import { DataPlaneErrorCode, type DataPlaneError } from '@aigw/contracts/data-plane';
import { configFromYaml } from '@aigw/testing';
import { BatchHolds } from './batch-holds';

const config = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, model: up, modelNameOverride: gpt-batch}
  userIdentification: {header: x-user-id}
  costControl:
    maxDailyCostPerUser: 0.01
    modelPricing:
      up: {inputPer1k: 0.002, outputPer1k: 0.008}
`);

describe('BatchHolds when the reservation reply is lost', () => {
  it('gives back the hold the store may have taken, and answers 503', async () => {
    const now = Date.UTC(2026, 11, 4, 1);
    const budgets = new LocalBudgetStore(':memory:', () => now);
    const reserve = budgets.reserve.bind(budgets);
    budgets.reserve = (id, changes, holdMs, at) => {
      reserve(id, changes, holdMs, at); // ran in the store...
      throw new Error('Command timed out'); // ...and its reply never came
    };
    const holds = new BatchHolds({
      config: () => config,
      store: budgets,
      priceFactor: 0.5,
      now: () => now,
    });
    await assert.rejects(
      holds.hold(
        { owner: 'alice', model: 'gpt-batch', upstreamModel: 'up' },
        { inputTokens: 1000, outputTokens: 500, requests: 1 },
      ),
      (error: DataPlaneError) => error.code === DataPlaneErrorCode.BudgetUnavailable,
    );
    await new Promise((resolve) => setImmediate(resolve));
    const route = routeForModel(config, 'gpt-batch')!;
    const limit = bindLimit(userLimits({ route, userKey: 'alice' })[0], now);
    const [balance] = await budgets.balances([limit], now);
    assert.equal(balance.reserved, 0, 'nothing stays held for a batch that was never created');
  });
});
