import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateEmbeddingRequest } from '../openai/validate-openai-request';
import { DataPlaneError, DataPlaneErrorCode } from './data-plane.errors';
import { checkTextOrTokens, isTextOrTokens, TEXT_OR_TOKENS_EXPECTED } from './text-or-tokens';

const ACCEPTED: readonly unknown[] = ['', 'a', ['a', 'b'], [1, 2, 3], [[1, 2], [3]]];
const REFUSED: readonly unknown[] = [
  null,
  3,
  true,
  { text: 'a' },
  [],
  [1, 'a'],
  [['a']],
  [1.5],
  [Number.NaN],
  [[1], ['a']],
];

const refusal = (field: string, message: string) => (error: unknown) =>
  error instanceof DataPlaneError &&
  error.code === DataPlaneErrorCode.InvalidRequest &&
  error.param === field &&
  error.message === message;

describe('text or token ids (embeddings input, completions prompt)', () => {
  it('takes text, texts, token ids and lists of token ids', () => {
    for (const value of ACCEPTED) {
      assert.ok(isTextOrTokens(value), JSON.stringify(value));
      assert.doesNotThrow(() => checkTextOrTokens({ input: value }, 'input'));
    }
  });

  it('refuses anything else naming the field and the shapes it takes', () => {
    for (const value of REFUSED) {
      assert.ok(!isTextOrTokens(value), JSON.stringify(value));
      assert.throws(
        () => checkTextOrTokens({ prompt: value }, 'prompt'),
        refusal('prompt', `prompt must be ${TEXT_OR_TOKENS_EXPECTED}`),
        JSON.stringify(value),
      );
    }
  });

  it('says a missing field is required', () => {
    assert.throws(() => checkTextOrTokens({}, 'input'), refusal('input', "'input' is required"));
  });

  it('is the request DTO’s rule too, with the same message', () => {
    for (const input of ACCEPTED) {
      assert.ok(validateEmbeddingRequest({ model: 'e', input }).ok, JSON.stringify(input));
    }
    for (const input of REFUSED.filter((value) => value !== null)) {
      const result = validateEmbeddingRequest({ model: 'e', input });
      assert.ok(!result.ok, JSON.stringify(input));
      assert.equal(result.error[0]?.message, `input must be ${TEXT_OR_TOKENS_EXPECTED}`);
    }
  });
});
