import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isUsageOnlyChunk, withUsageCost } from './usage-cost-field';

describe('usage.cost', () => {
  it('adds the cost to a copy of the usage, rounded to a tenth of a micro-dollar', () => {
    const answer = { id: 'a', usage: { prompt_tokens: 12, completion_tokens: 7 } };
    const priced = withUsageCost(answer, 0.000005999999999999999);
    assert.deepEqual(priced, {
      id: 'a',
      usage: { prompt_tokens: 12, completion_tokens: 7, cost: 0.000006 },
    });
    assert.deepEqual(answer.usage, { prompt_tokens: 12, completion_tokens: 7 }, 'not mutated');
  });

  it('leaves an answer without a usage object as it is', () => {
    const bytes = Buffer.from('audio');
    assert.equal(withUsageCost(bytes, 1), bytes);
    const noUsage = { id: 'b' };
    assert.equal(withUsageCost(noUsage, 1), noUsage);
    const nullUsage = { id: 'c', usage: null };
    assert.equal(withUsageCost(nullUsage, 1), nullUsage);
    assert.equal(withUsageCost('text', 1), 'text');
  });

  it('tells the closing usage-only chunk from content chunks', () => {
    assert.equal(isUsageOnlyChunk({ choices: [], usage: { prompt_tokens: 1 } }), true);
    assert.equal(
      isUsageOnlyChunk({ choices: [{ index: 0, delta: {} }], usage: { prompt_tokens: 1 } }),
      false,
      'usage on a chunk with a choice is not held back',
    );
    assert.equal(isUsageOnlyChunk({ choices: [{ index: 0, delta: { content: 'x' } }] }), false);
    assert.equal(isUsageOnlyChunk({ choices: [], usage: null }), false);
  });
});
