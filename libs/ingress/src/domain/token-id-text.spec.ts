import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTokenIds, tokenizerOf } from './token-id-text';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { encode } = require('gpt-tokenizer/encoding/cl100k_base') as {
  encode: (text: string) => number[];
};

describe('tokenizerOf', () => {
  it("knows cl100k for OpenAI's models that take token ids, snapshots and fine-tunes too", () => {
    for (const model of [
      'text-embedding-3-small',
      'text-embedding-3-large',
      'text-embedding-ada-002',
      'gpt-3.5-turbo-instruct',
      'gpt-3.5-turbo-instruct-0914',
      'davinci-002',
      'babbage-002',
      'ft:davinci-002:acme::abc123',
    ]) {
      assert.equal(tokenizerOf('openai', model), 'cl100k_base', model);
    }
  });

  it('knows no tokenizer for other models, other providers or an Azure deployment', () => {
    for (const model of ['text-embedding-3-smallish', 'gpt-4o', 'text-davinci-003', 'my-embed']) {
      assert.equal(tokenizerOf('openai', model), undefined, model);
    }
    for (const provider of ['azure', 'vllm', 'openai-compatible', 'cohere', 'local'] as const) {
      assert.equal(tokenizerOf(provider, 'text-embedding-3-small'), undefined, provider);
    }
  });
});

describe('decodeTokenIds', () => {
  it('reads ids back as the text they encode, multi-byte characters and special tokens too', () => {
    for (const text of ['my ssn is 123-45-6789', 'é日本 ✓', '']) {
      assert.deepEqual(decodeTokenIds('cl100k_base', encode(text)), { text });
    }
    assert.deepEqual(decodeTokenIds('cl100k_base', [100257]), { text: '<|endoftext|>' });
  });

  it('names the first id the vocabulary lacks: negative, past its end, a gap, a fraction', () => {
    const ok = encode('hello world');
    for (const bad of [-1, 100256, 100261, 100277, 2 ** 40, 1.5]) {
      assert.deepEqual(
        decodeTokenIds('cl100k_base', [...ok, bad, 7]),
        { outOfVocabulary: ok.length },
        String(bad),
      );
    }
  });
});
