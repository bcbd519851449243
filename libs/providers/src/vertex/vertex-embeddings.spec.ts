import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneErrorCode, type DataPlaneError } from '@aigw/contracts/data-plane';
import { countTokens } from '../core/tokenizer';
import { summedEmbeddingUsage } from '../core/embedding-parts';
import { readPredictAnswer, TOKENS_PER_PREDICT, vertexPredictCalls } from './vertex-embeddings';

const ask = (inputs: string[]) => ({ inputs, dimensions: undefined, encoding: 'float' as const });

describe('vertexPredictCalls', () => {
  it("keeps each call under Vertex's 20,000-token cap, in input order", () => {
    const text = 'lorem ipsum dolor sit amet '.repeat(300);
    const inputs = Array.from({ length: 30 }, (_, i) => `${i} ${text}`);
    const calls = vertexPredictCalls('text-embedding-005', ask(inputs), {});
    assert.ok(calls.length > 1, 'split by tokens, though far fewer than 250 inputs');
    for (const call of calls) {
      const tokens = call.texts.reduce((sum, t) => sum + countTokens(t), 0);
      assert.ok(tokens <= TOKENS_PER_PREDICT, `${tokens} tokens in one call`);
    }
    assert.deepEqual(
      calls.flatMap((call) => call.texts),
      inputs,
    );
  });

  it('sends an input alone past the cap in a call of its own', () => {
    const huge = 'word '.repeat(30_000);
    const calls = vertexPredictCalls('text-embedding-005', ask(['a', huge, 'b']), {});
    assert.deepEqual(
      calls.map((call) => call.texts.length),
      [1, 1, 1],
    );
  });

  it("sends a Gemini client's taskType and per-input titles (provider_extras) on each instance", () => {
    const body = {
      provider_extras: { task_type: 'RETRIEVAL_DOCUMENT', title: ['First', null, 'Third'] },
    };
    const batched = vertexPredictCalls('text-embedding-005', ask(['a', 'b', 'c']), body);
    assert.deepEqual(batched[0].body.instances, [
      { content: 'a', task_type: 'RETRIEVAL_DOCUMENT', title: 'First' },
      { content: 'b', task_type: 'RETRIEVAL_DOCUMENT' },
      { content: 'c', task_type: 'RETRIEVAL_DOCUMENT', title: 'Third' },
    ]);
    const single = vertexPredictCalls('gemini-embedding-001', ask(['a', 'b', 'c']), body);
    assert.deepEqual(
      single.map((call) => call.body.instances),
      [
        [{ content: 'a', task_type: 'RETRIEVAL_DOCUMENT', title: 'First' }],
        [{ content: 'b', task_type: 'RETRIEVAL_DOCUMENT' }],
        [{ content: 'c', task_type: 'RETRIEVAL_DOCUMENT', title: 'Third' }],
      ],
    );
    const topLevel = vertexPredictCalls('text-embedding-005', ask(['a']), {
      task_type: 'RETRIEVAL_QUERY',
      title: 'T',
    });
    assert.deepEqual(topLevel[0].body.instances, [
      { content: 'a', task_type: 'RETRIEVAL_QUERY', title: 'T' },
    ]);
  });

  it('refuses more than 2048 inputs, as OpenAI does', () => {
    assert.throws(
      () => vertexPredictCalls('gemini-embedding-001', ask(Array(2049).fill('x')), {}),
      (error: DataPlaneError) =>
        error.code === DataPlaneErrorCode.InvalidRequest && /at most 2048/.test(error.message),
    );
  });
});

describe('readPredictAnswer', () => {
  const answer = (metadata: Record<string, unknown> | undefined) => ({
    predictions: [
      { embeddings: { values: [0.1, 0.2], statistics: { token_count: 3 } } },
      { embeddings: { values: [0.3, 0.4], statistics: { token_count: 4 } } },
    ],
    ...(metadata === undefined ? {} : { metadata }),
  });
  const call = { body: {}, texts: ['hello there', 'general kenobi'] };

  it("carries Vertex's billable characters, which its text-embedding models are billed by", () => {
    const first = readPredictAnswer(call, answer({ billableCharacterCount: 24 }), undefined);
    assert.equal(first?.usage.inputTokens, 7);
    assert.equal(first?.usage.characters, 24);
    const second = readPredictAnswer(call, answer({ billableCharacterCount: 10 }), undefined);
    assert.equal(summedEmbeddingUsage([first, second!]).characters, 34);
  });

  it('counts no characters where Vertex reports none (gemini-embedding, billed by the token)', () => {
    const part = readPredictAnswer(call, answer(undefined), undefined);
    assert.equal(part?.usage.characters, undefined);
    assert.equal(summedEmbeddingUsage([part!]).characters, undefined);
    assert.equal('characters' in summedEmbeddingUsage([part!]), false);
  });
});
