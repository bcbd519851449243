import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { base64Embedding, chatCompletion, ChunkFactory, embeddingList } from './openai-output';

const decode = (text: string): number[] => {
  const bytes = Buffer.from(text, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
};

describe('embedding encodings', () => {
  it('encodes a vector as base64 little-endian float32, as OpenAI does', () => {
    // 1 as a little-endian float32 is 00 00 80 3f.
    assert.equal(base64Embedding([1]), Buffer.from([0, 0, 0x80, 0x3f]).toString('base64'));
    assert.deepEqual(decode(base64Embedding([0.5, -2, 0])), [0.5, -2, 0]);
    assert.equal(base64Embedding([]), '');
  });

  it('lists vectors as numbers unless base64 is asked for', () => {
    const usage = {
      inputTokens: 3,
      outputTokens: 0,
      cachedInputTokens: 0,
      source: 'estimated' as const,
    };
    const floats = embeddingList('m', [[0.25, 1]], usage);
    assert.deepEqual(floats.data, [{ object: 'embedding', index: 0, embedding: [0.25, 1] }]);
    const encoded = embeddingList('m', [[0.25, 1]], usage, 'base64');
    const [entry] = encoded.data as { embedding: string }[];
    assert.deepEqual(decode(entry.embedding), [0.25, 1]);
    assert.deepEqual(encoded.usage, { prompt_tokens: 3, total_tokens: 3 });
  });
});

describe('tool calls with a Gemini thought signature', () => {
  const usage = {
    inputTokens: 1,
    outputTokens: 1,
    cachedInputTokens: 0,
    source: 'reported' as const,
  };
  const call = { id: 'call_1', name: 'get_weather', argumentsJson: '{"city":"Paris"}' };

  it("carries the signature as the call's extra_content.google.thought_signature, and nothing without one", () => {
    const completion = chatCompletion({
      id: 'x',
      model: 'm',
      text: '',
      toolCalls: [
        { ...call, thoughtSignature: 'CqUBAdHtim9s' },
        { ...call, id: 'call_2' },
      ],
      finishReason: 'tool_calls',
      usage,
    });
    const [choice] = completion.choices as { message: { tool_calls: unknown[] } }[];
    assert.deepEqual(choice.message.tool_calls, [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        extra_content: { google: { thought_signature: 'CqUBAdHtim9s' } },
      },
      {
        id: 'call_2',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ]);
  });

  it("streams the signature on the call's first delta entry", () => {
    const chunks = new ChunkFactory('x', 'm');
    const delta = (chunk: Record<string, unknown>) =>
      (chunk.choices as { delta: { tool_calls: unknown[] } }[])[0].delta.tool_calls[0];
    assert.deepEqual(delta(chunks.toolCallStart(0, 'call_1', 'get_weather', 'CqUBAdHtim9s')), {
      index: 0,
      id: 'call_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
      extra_content: { google: { thought_signature: 'CqUBAdHtim9s' } },
    });
    assert.ok(!('extra_content' in (delta(chunks.toolCallStart(1, 'call_2', 'f')) as object)));
  });
});
