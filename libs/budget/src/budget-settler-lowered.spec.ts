// A limit lowered by a config reload below what was already spent is crossed by no
// settlement: the settler must still announce it exhausted, or the split deployment's
// router (which diverts on the broadcast alone) keeps sending to a full model.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetState } from '@aigw/contracts';
import type { GatewayConfig } from '@aigw/config';
import { budgetStates, gpt4TurboRoute, settlerOf, usageOf } from './testing/budget-settler-fixture';

function config(modelTokens: number, userTokens: number): GatewayConfig {
  return gpt4TurboRoute(`
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: ${userTokens}, period: 1d}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: ${modelTokens}}
`);
}

function usage(user: string, tokens: number) {
  return usageOf({ user, tokens, requestId: `req-${Math.random()}` });
}

function setup() {
  let current = config(1_000, 1_000);
  const { published, settler } = settlerOf(() => current);
  const states = (state: BudgetState) =>
    budgetStates(published.events)
      .filter((e) => e.state === state)
      .map((e) => `${e.limitKind} ${e.budgetKey} ${e.limit}`);
  return {
    settler,
    states,
    reload: (model: number, user: number) => (current = config(model, user)),
  };
}

describe('BudgetSettler and a limit lowered below its spend', () => {
  it("announces a per-model limit exhausted at the reload that put it under the model's spend", async () => {
    const { settler, states, reload } = setup();
    // Should a minute end mid-test, its spend starts over: nothing to announce then.
    const minute = Math.floor(Date.now() / 60_000);
    await settler.checkReloadedLimits();
    await settler.handle([usage('alice', 600)]);
    await settler.checkReloadedLimits();
    assert.deepEqual(states(BudgetState.Exhausted), [], 'room left under 1000');

    reload(500, 1_000);
    await settler.checkReloadedLimits();
    if (Math.floor(Date.now() / 60_000) !== minute) return;
    assert.deepEqual(states(BudgetState.Exhausted), [
      'tokenRateLimit.perModel.tokensPerMinute gpt-4-turbo 500',
    ]);
    // Once per reload: checking again, or the next usage, does not say it again.
    await settler.checkReloadedLimits();
    await settler.handle([usage('bob', 10)]);
    assert.equal(states(BudgetState.Exhausted).length, 1);
  });

  it("announces a caller's limit exhausted at the next usage seen under the lowered limit", async () => {
    const { settler, states, reload } = setup();
    await settler.handle([usage('carol', 600)]);
    reload(100_000, 500);
    // Spent before this usage (600 of 500): no settlement crosses the limit.
    await settler.handle([usage('carol', 10)]);
    assert.deepEqual(states(BudgetState.Exhausted), ['tokenBudget.perUser carol 500']);
    await settler.handle([usage('carol', 10)]);
    assert.equal(states(BudgetState.Exhausted).length, 1, 'said once');
  });
});
