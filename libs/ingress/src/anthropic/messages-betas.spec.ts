import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicBetas, messagesBodyOptions } from './messages-betas';

describe('anthropic-beta header', () => {
  it('reads comma-separated and repeated values, spaces and empties dropped', () => {
    assert.deepEqual(anthropicBetas({}), []);
    assert.deepEqual(anthropicBetas({ 'anthropic-beta': 'a, b,,c ' }), ['a', 'b', 'c']);
    assert.deepEqual(anthropicBetas({ 'anthropic-beta': ['a', 'b,c'] as never }), ['a', 'b', 'c']);
  });

  it('says whether interleaved thinking was asked for', () => {
    const asked = { 'anthropic-beta': 'claude-code-20250219, interleaved-thinking-2025-05-14' };
    assert.equal(messagesBodyOptions(asked).interleavedThinking, true);
    assert.equal(messagesBodyOptions({ 'anthropic-beta': 'x' }).interleavedThinking, false);
  });
});
