import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenUsage } from '@aigw/contracts/data-plane';
import { takeSpentUsage, withSpentUsage } from './spent-usage';

const USAGE: TokenUsage = {
  inputTokens: 7,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'reported',
};

describe('spent usage carried by a failure', () => {
  it('is read once, so an error object thrown again is not billed twice', () => {
    const error = new Error('throttled');
    assert.equal(withSpentUsage(error, USAGE), error, 'the same error, marked');
    assert.deepEqual(takeSpentUsage(error), USAGE);
    assert.equal(takeSpentUsage(error), undefined);
  });

  it('is nothing for an unmarked error or a thrown value that is not an object', () => {
    assert.equal(takeSpentUsage(new Error('other')), undefined);
    assert.equal(withSpentUsage('text', USAGE), 'text');
    assert.equal(takeSpentUsage('text'), undefined);
    assert.equal(takeSpentUsage(undefined), undefined);
  });
});
