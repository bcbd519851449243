import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  reasoningTextOf,
  isReasoningEffort,
  normalizedThinking,
  normalizedThinkingBlock,
  MIN_THINKING_BUDGET,
} from './reasoning';

describe('reasoning fields', () => {
  it('takes thinking as Anthropic does: a whole budget of at least 1024, adaptive, or disabled', () => {
    assert.deepEqual(normalizedThinking({ type: 'enabled', budget_tokens: 2048, extra: 1 }), {
      type: 'enabled',
      budget_tokens: 2048,
    });
    assert.deepEqual(normalizedThinking({ type: 'disabled', budget_tokens: 5 }), {
      type: 'disabled',
    });
    assert.deepEqual(normalizedThinking({ type: 'adaptive', budget_tokens: 5 }), {
      type: 'adaptive',
    });
    assert.deepEqual(normalizedThinking({ type: 'adaptive', display: 'summarized' }), {
      type: 'adaptive',
      display: 'summarized',
    });
    // A budget's display too (Anthropic takes it on both), e.g. a Messages client's choice.
    assert.deepEqual(
      normalizedThinking({ type: 'enabled', budget_tokens: 2048, display: 'omitted' }),
      { type: 'enabled', budget_tokens: 2048, display: 'omitted' },
    );
    for (const bad of [
      { type: 'adaptive', display: 'full' },
      { type: 'enabled', budget_tokens: 2048, display: 'full' },
      { type: 'enabled' },
      { type: 'enabled', budget_tokens: MIN_THINKING_BUDGET - 1 },
      { type: 'enabled', budget_tokens: 2048.5 },
      { type: 'enabled', budget_tokens: '2048' },
      { type: 'auto' },
      'enabled',
      null,
      [],
    ]) {
      assert.equal(normalizedThinking(bad), undefined, JSON.stringify(bad));
    }
  });

  it('rebuilds thinking blocks with their known fields, a missing signature as empty', () => {
    assert.deepEqual(
      normalizedThinkingBlock({ type: 'thinking', thinking: 'hm', signature: 's' }),
      {
        type: 'thinking',
        thinking: 'hm',
        signature: 's',
      },
    );
    assert.deepEqual(normalizedThinkingBlock({ type: 'thinking', thinking: 'hm' }), {
      type: 'thinking',
      thinking: 'hm',
      signature: '',
    });
    assert.deepEqual(normalizedThinkingBlock({ type: 'redacted_thinking', data: 'ZW5j', x: 1 }), {
      type: 'redacted_thinking',
      data: 'ZW5j',
    });
    for (const bad of [
      { type: 'thinking' },
      { type: 'thinking', thinking: 'hm', signature: 7 },
      { type: 'redacted_thinking', data: '' },
      { type: 'text', text: 'hi' },
      'thinking',
    ]) {
      assert.equal(normalizedThinkingBlock(bad), undefined, JSON.stringify(bad));
    }
  });

  it('knows the reasoning efforts adapters can map', () => {
    for (const effort of ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']) {
      assert.ok(isReasoningEffort(effort));
    }
    assert.ok(!isReasoningEffort('extreme'));
    assert.ok(!isReasoningEffort(3));
  });

  it('reads reasoning text from reasoning_content, or the reasoning field others write', () => {
    assert.equal(reasoningTextOf({ reasoning_content: 'a', reasoning: 'b' }), 'a');
    assert.equal(reasoningTextOf({ reasoning: 'b' }), 'b');
    assert.equal(reasoningTextOf({ reasoning_content: '' }), undefined);
    assert.equal(reasoningTextOf({ reasoning: { effort: 'low' } }), undefined);
    assert.equal(reasoningTextOf({ content: 'x' }), undefined);
  });
});
