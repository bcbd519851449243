import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasStructuredOutputs } from './claude-output-format';

// Which Claude answers output_config.format natively (4.5 and later), in every naming
// a backend's model comes in; anything older keeps the forced answer tool.

describe('hasStructuredOutputs', () => {
  it('is true for Claude 4.5 and later: dated, aliased, dotted, and ids not yet known', () => {
    for (const model of [
      'claude-sonnet-4-5',
      'claude-sonnet-4-5-20250929',
      'claude-haiku-4-5-20251001',
      'claude-opus-4-5-20251101',
      'claude-opus-4-6',
      'claude-sonnet-4.5',
      'claude-sonnet-4-5@20250929',
      'claude-opus-5',
      'claude-sonnet-5-5',
      'claude-haiku-5-5-20270101',
      'claude-mythos-preview',
    ]) {
      assert.equal(hasStructuredOutputs(model), true, model);
    }
  });

  it('is false for earlier Claudes and for models that are not Claude', () => {
    for (const model of [
      'claude-sonnet-4-20250514',
      'claude-opus-4-1-20250805',
      'claude-opus-4-0',
      'claude-3-7-sonnet-latest',
      'claude-3-5-haiku-20241022',
      'claude-2.1',
      'gpt-4o',
    ]) {
      assert.equal(hasStructuredOutputs(model), false, model);
    }
  });
});
