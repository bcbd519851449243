import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { decodeReasoning } from '../../responses/domain/encrypted-reasoning';
import { geminiFinishReason, geminiUsageMetadata, toGeminiResponse } from './gemini-response';

const facts = { model: 'my-virtual', stream: false, includeThoughts: false };
const usage: TokenUsage = {
  inputTokens: 12,
  outputTokens: 30,
  cachedInputTokens: 4,
  source: 'reported',
};

function completion(message: JsonObject, finish = 'stop', extra: JsonObject = {}): JsonObject {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
    ...extra,
  };
}

describe('Gemini answer translation', () => {
  it('answers text as a model candidate under the model asked for', () => {
    assert.deepEqual(toGeminiResponse(completion({ content: 'Hello!' }), usage, facts, 'req-1'), {
      candidates: [
        { content: { role: 'model', parts: [{ text: 'Hello!' }] }, finishReason: 'STOP', index: 0 },
      ],
      usageMetadata: {
        promptTokenCount: 12,
        candidatesTokenCount: 30,
        totalTokenCount: 42,
        cachedContentTokenCount: 4,
      },
      modelVersion: 'my-virtual',
      responseId: 'chatcmpl-1',
    });
  });

  it('answers tool calls as functionCall parts with their ids and signatures', () => {
    const answer = toGeminiResponse(
      completion(
        {
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'weather', arguments: '{"city":"Paris"}' },
              extra_content: { google: { thought_signature: 'sig' } },
            },
          ],
        },
        'tool_calls',
      ),
      usage,
      facts,
      'req-1',
    );
    const candidate = (answer.candidates as JsonObject[])[0];
    assert.equal(candidate.finishReason, 'STOP');
    assert.deepEqual((candidate.content as JsonObject).parts, [
      {
        functionCall: { name: 'weather', args: { city: 'Paris' }, id: 'call_1' },
        thoughtSignature: 'sig',
      },
    ]);
  });

  it('shows reasoning as a thought part only when thoughts were asked for, and counts its tokens apart', () => {
    const body = completion({ content: '42', reasoning_content: 'adding up' }, 'stop', {
      usage: { completion_tokens_details: { reasoning_tokens: 10 } },
    });
    const withThoughts = toGeminiResponse(body, usage, { ...facts, includeThoughts: true }, 'r');
    const parts = ((withThoughts.candidates as JsonObject[])[0].content as JsonObject).parts;
    assert.deepEqual(parts, [{ text: 'adding up', thought: true }, { text: '42' }]);
    assert.deepEqual(withThoughts.usageMetadata, {
      promptTokenCount: 12,
      candidatesTokenCount: 20,
      totalTokenCount: 42,
      cachedContentTokenCount: 4,
      thoughtsTokenCount: 10,
    });
    const without = toGeminiResponse(body, usage, facts, 'r');
    assert.deepEqual(((without.candidates as JsonObject[])[0].content as JsonObject).parts, [
      { text: '42' },
    ]);
  });

  it('answers each choice as a candidate, in order under its index (candidateCount as n)', () => {
    const answer = completion({ content: 'One' }, 'stop', {
      choices: [
        { index: 0, message: { role: 'assistant', content: 'One' }, finish_reason: 'stop' },
        { index: 1, message: { role: 'assistant', content: 'Two' }, finish_reason: 'length' },
      ],
    });
    const candidates = toGeminiResponse(answer, usage, facts, 'req-1').candidates;
    assert.deepEqual(candidates, [
      { content: { role: 'model', parts: [{ text: 'One' }] }, finishReason: 'STOP', index: 0 },
      {
        content: { role: 'model', parts: [{ text: 'Two' }] },
        finishReason: 'MAX_TOKENS',
        index: 1,
      },
    ]);
  });

  it("maps finish reasons to Gemini's", () => {
    assert.equal(geminiFinishReason('stop'), 'STOP');
    assert.equal(geminiFinishReason('length'), 'MAX_TOKENS');
    assert.equal(geminiFinishReason('content_filter'), 'SAFETY');
    assert.equal(geminiFinishReason('tool_calls'), 'STOP');
    assert.equal(geminiFinishReason('something_new'), 'OTHER');
  });

  it('closes with the policy stop a Gemini backend named (RECITATION, SPII, ...), not SAFETY', () => {
    const named = (reason: unknown, finish = 'content_filter') =>
      (
        toGeminiResponse(
          completion(
            { content: 'As the song', extra_content: { google: { finish_reason: reason } } },
            finish,
          ),
          usage,
          facts,
          'req-1',
        ).candidates as JsonObject[]
      )[0].finishReason;
    for (const reason of ['RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'LANGUAGE']) {
      assert.equal(named(reason), reason);
    }
    // Only a policy stop, and only where the answer was filtered: anything else is read as before.
    assert.equal(named('STOP'), 'SAFETY');
    assert.equal(named('<script>'), 'SAFETY');
    assert.equal(named(7), 'SAFETY');
    assert.equal(named('RECITATION', 'stop'), 'STOP');
  });

  it("answers a backend's refusal (content null, refusal set) as its text with finishReason SAFETY", () => {
    const answer = toGeminiResponse(
      completion({ content: null, refusal: "I can't help with that." }),
      usage,
      facts,
      'req-1',
    );
    assert.deepEqual(answer.candidates, [
      {
        content: { role: 'model', parts: [{ text: "I can't help with that." }] },
        finishReason: 'SAFETY',
        index: 0,
      },
    ]);
  });

  it('gives an empty answer its text part, and no cached count when nothing was cached', () => {
    const answer = toGeminiResponse(
      completion({ content: '' }, 'length'),
      { ...usage, cachedInputTokens: 0 },
      facts,
      'req-9',
    );
    const candidate = (answer.candidates as JsonObject[])[0];
    assert.deepEqual((candidate.content as JsonObject).parts, [{ text: '' }]);
    assert.equal(candidate.finishReason, 'MAX_TOKENS');
    assert.deepEqual(geminiUsageMetadata({ ...usage, cachedInputTokens: 0 }), {
      promptTokenCount: 12,
      candidatesTokenCount: 30,
      totalTokenCount: 42,
    });
  });

  it('refuses tool arguments that are not an object as a bad backend answer', () => {
    assert.throws(
      () =>
        toGeminiResponse(
          completion({
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }],
          }),
          usage,
          facts,
          'r',
        ),
      /not a JSON object/,
    );
  });

  it('answers a call the token limit cut off mid-arguments with args {} and MAX_TOKENS, not a 502', () => {
    const cut = completion(
      {
        tool_calls: [
          { id: 'c', type: 'function', function: { name: 'f', arguments: '{"q": "ha' } },
        ],
      },
      'length',
    );
    const candidate = (toGeminiResponse(cut, usage, facts, 'r').candidates as JsonObject[])[0];
    assert.deepEqual((candidate.content as JsonObject).parts, [
      { functionCall: { id: 'c', name: 'f', args: {} } },
    ]);
    assert.equal(candidate.finishReason, 'MAX_TOKENS');
  });

  it("carries a backend's signed thinking blocks in the first call's thoughtSignature", () => {
    const blocks = [
      { type: 'thinking', thinking: 'plan', signature: 'sig-claude' },
      { type: 'thinking', thinking: 'unsigned', signature: '' },
    ];
    const answer = toGeminiResponse(
      completion(
        {
          content: null,
          thinking_blocks: blocks,
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
            { id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
          ],
        },
        'tool_calls',
      ),
      usage,
      facts,
      'r',
    );
    const parts = ((answer.candidates as JsonObject[])[0].content as JsonObject)
      .parts as JsonObject[];
    assert.deepEqual(decodeReasoning(parts[0].thoughtSignature as string), [blocks[0]]);
    assert.equal(parts[1].thoughtSignature, undefined);
  });

  it("carries DeepSeek's reasoning text in the first call's thoughtSignature, unsigned", () => {
    const message = {
      content: null,
      reasoning_content: 'I need f.',
      tool_calls: [
        { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
        { id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
      ],
    };
    const partsFor = (answered: typeof facts & { reasoningTextBack?: true }): JsonObject[] =>
      (
        (
          toGeminiResponse(completion(message, 'tool_calls'), usage, answered, 'r')
            .candidates as JsonObject[]
        )[0].content as JsonObject
      ).parts as JsonObject[];
    const parts = partsFor({ ...facts, reasoningTextBack: true });
    assert.deepEqual(decodeReasoning(parts[0].thoughtSignature as string), [
      { type: 'thinking', thinking: 'I need f.', signature: '' },
    ]);
    assert.equal(parts[1].thoughtSignature, undefined);
    // Another backend's unsigned reasoning is nothing it checks: no signature.
    assert.equal(partsFor(facts)[0].thoughtSignature, undefined);
  });
});
