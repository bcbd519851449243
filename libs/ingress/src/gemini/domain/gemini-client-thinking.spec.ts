import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { translateGeminiRequest } from './gemini-request';

// A Gemini client's thinkingConfig that the canonical request cannot hold as it came:
// its thoughts asked for with the model's own thinking, and a budget under the canonical
// floor (Anthropic's 1,024). Both ride in provider_extras for Gemini backends.

const call = { model: 'my-virtual', stream: false };

function translated(thinkingConfig: Record<string, unknown>) {
  return translateGeminiRequest(
    { contents: [{ parts: [{ text: 'x' }] }], generationConfig: { thinkingConfig } },
    call,
  );
}

describe("Gemini request translation: the client's own thinkingConfig", () => {
  it('carries includeThoughts asked alone, with no thinking of its own asked', () => {
    const { chat, facts } = translated({ includeThoughts: true });
    assert.equal(facts.includeThoughts, true);
    assert.equal(chat.thinking, undefined);
    assert.equal(chat.reasoning_effort, undefined);
    assert.deepEqual(chat.provider_extras, { include_thoughts: true });
  });

  it('carries a budget under the canonical floor as it came, the floor held', () => {
    const { chat } = translated({ thinkingBudget: 512, includeThoughts: true });
    // The budget admission and other backends read the canonical thinking.
    assert.deepEqual(chat.thinking, { type: 'enabled', budget_tokens: 1024 });
    assert.deepEqual(chat.provider_extras, { thinking_budget: 512 });
  });

  it('carries nothing more for what the canonical request holds', () => {
    for (const config of [
      { thinkingBudget: 2048 },
      { thinkingBudget: 0 },
      { thinkingBudget: -1 },
      { thinkingLevel: 'LOW' },
      { includeThoughts: false },
    ]) {
      assert.equal(translated(config).chat.provider_extras, undefined, JSON.stringify(config));
    }
  });
});
