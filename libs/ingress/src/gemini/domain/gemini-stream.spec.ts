import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { GeminiStreamTranslator } from './gemini-stream';

const facts = { model: 'my-virtual', stream: true, includeThoughts: false };
const usage: TokenUsage = {
  inputTokens: 3,
  outputTokens: 4,
  cachedInputTokens: 0,
  source: 'reported',
};

/** An OpenAI chunk with one choice's delta text and, when given, its finish_reason. */
function chunk(index: number, content: string, finish: string | null = null): JsonObject {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    choices: [{ index, delta: { content }, finish_reason: finish }],
  };
}

/** Each candidate's finishReason in the closing event, by index. */
function closingFinishes(translator: GeminiStreamTranslator): Record<number, unknown> {
  const [closing] = translator.finish(usage);
  const candidates = closing.candidates as JsonObject[];
  return Object.fromEntries(candidates.map((c) => [c.index as number, c.finishReason]));
}

describe('Gemini stream translation', () => {
  it("closes each candidate with its choice's finish reason", () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    translator.push(chunk(0, 'A', 'stop'));
    translator.push(chunk(1, 'B', 'length'));
    assert.deepEqual(closingFinishes(translator), { 0: 'STOP', 1: 'MAX_TOKENS' });
  });

  it('closes a candidate the backend never finished as FINISH_REASON_UNSPECIFIED, not STOP', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    translator.push(chunk(0, 'A', 'stop'));
    // Choice 1 spoke but its stream ended without a finish_reason: it was cut.
    translator.push(chunk(1, 'B'));
    assert.deepEqual(closingFinishes(translator), { 0: 'STOP', 1: 'FINISH_REASON_UNSPECIFIED' });
  });

  it("streams a backend's refusal as text parts and closes its candidate with SAFETY", () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    const refusal = (text: string): JsonObject => ({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { content: null, refusal: text }, finish_reason: null }],
    });
    const events = [...translator.push(refusal("I can't")), ...translator.push(refusal(' help.'))];
    assert.deepEqual(
      events.map((event) => (event.candidates as JsonObject[])[0].content),
      [
        { role: 'model', parts: [{ text: "I can't" }] },
        { role: 'model', parts: [{ text: ' help.' }] },
      ],
    );
    translator.push(chunk(0, '', 'stop'));
    assert.deepEqual(closingFinishes(translator), { 0: 'SAFETY' });
  });

  it('closes a refused candidate the backend never finished with SAFETY too', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    translator.push({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { content: null, refusal: "I can't" }, finish_reason: null }],
    });
    // Cut before a finish_reason: the refusal already said why the model stopped.
    translator.push(chunk(1, 'B'));
    assert.deepEqual(closingFinishes(translator), { 0: 'SAFETY', 1: 'FINISH_REASON_UNSPECIFIED' });
  });
});
