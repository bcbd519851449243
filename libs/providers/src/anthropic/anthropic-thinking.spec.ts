import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { thinksWithinBudgetOnly } from './anthropic-thinking';

describe('which Claude thinks within a budget only', () => {
  it('knows the models from before adaptive thinking, in every naming', () => {
    for (const model of [
      'claude-3-7-sonnet-20250219',
      'claude-3-5-haiku-latest',
      'claude-sonnet-4-20250514',
      'claude-opus-4-1-20250805',
      'claude-opus-4-1',
      'claude-sonnet-4-5',
      'claude-haiku-4-5',
      'claude-sonnet-4-5@20250929',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
    ]) {
      assert.ok(thinksWithinBudgetOnly(model), model);
    }
  });

  it('takes Claude 4.6 and later, and models newer than this code, as adaptive', () => {
    for (const model of [
      'claude-sonnet-4-6',
      'claude-opus-4-6',
      'anthropic.claude-opus-4-6-v1',
      'claude-opus-4-7',
      'claude-sonnet-5',
      'anthropic.claude-fable-5-1',
      'claude-mythos-preview',
    ]) {
      assert.ok(!thinksWithinBudgetOnly(model), model);
    }
  });
});
