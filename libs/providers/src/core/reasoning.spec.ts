import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { thinkingBudget, type EffortBudgets } from './reasoning';

const budgets: EffortBudgets = {
  minimal: 1024,
  low: 2000,
  medium: 3000,
  high: 4000,
  xhigh: 5000,
  max: 6000,
};

describe('thinkingBudget', () => {
  it("is the client's budget, the adapter's for an effort, 0 for off, undefined when not asked", () => {
    assert.equal(thinkingBudget({ kind: 'budget', budgetTokens: 5000 }, budgets), 5000);
    assert.equal(thinkingBudget({ kind: 'effort', effort: 'medium' }, budgets), 3000);
    assert.equal(thinkingBudget({ kind: 'off' }, budgets), 0);
    assert.equal(thinkingBudget(undefined, budgets), undefined);
    // Adaptive thinking at its effort, else at the default (high).
    assert.equal(thinkingBudget({ kind: 'adaptive', effort: 'low' }, budgets), 2000);
    assert.equal(thinkingBudget({ kind: 'adaptive' }, budgets), 4000);
  });
});
