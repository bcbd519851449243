import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { base64Embedding, embeddingList } from './openai-output';

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
