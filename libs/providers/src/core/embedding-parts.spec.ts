import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { DataPlaneError, type ProviderCall, type TokenUsage } from '@aigw/contracts/data-plane';
import type { EmbeddingAsk } from './embedding-input';
import {
  boundedEmbeddingInputs,
  embeddingPartsAnswer,
  embeddingPartsOf,
  MAX_EMBEDDING_INPUTS,
  summedEmbeddingUsage,
} from './embedding-parts';
import { takeSpentUsage } from './spent-usage';

const call = {
  target: { backendName: 'b', provider: 'vertex', model: 'text-embedding-005' },
} as unknown as ProviderCall;
const ask = (inputs: string[], dimensions?: number): EmbeddingAsk => ({
  inputs,
  dimensions,
  encoding: 'float',
});
const usage = (inputTokens: number, source: TokenUsage['source'] = 'reported'): TokenUsage => ({
  inputTokens,
  outputTokens: 0,
  cachedInputTokens: 0,
  source,
});

describe('embeddings served in several calls', () => {
  it('takes up to MAX_EMBEDDING_INPUTS inputs and refuses more, naming input', () => {
    const most = Array.from({ length: MAX_EMBEDDING_INPUTS }, () => 'a');
    assert.equal(boundedEmbeddingInputs(most).length, MAX_EMBEDDING_INPUTS);
    assert.throws(
      () => boundedEmbeddingInputs([...most, 'a']),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.message === `input may hold at most 2048 inputs, not 2049` &&
        error.param === 'input',
    );
  });

  it('adds the parts up, estimated when any part was', () => {
    assert.deepEqual(
      summedEmbeddingUsage([
        { vectors: [], usage: usage(3) },
        { vectors: [], usage: usage(4) },
      ]),
      usage(7),
    );
    assert.deepEqual(
      summedEmbeddingUsage([
        { vectors: [], usage: usage(3) },
        { vectors: [], usage: usage(4, 'estimated') },
      ]),
      usage(7, 'estimated'),
    );
  });

  it('answers the parts as one list in input order, and refuses parts of different sizes', () => {
    const answer = embeddingPartsAnswer(call, ask(['a', 'b', 'c']), [
      { vectors: [[1, 2]], usage: usage(1) },
      {
        vectors: [
          [3, 4],
          [5, 6],
        ],
        usage: usage(2),
      },
    ]);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.usage, usage(3));
    assert.deepEqual(answer.servedBy, {
      backend: 'b',
      provider: 'vertex',
      model: 'text-embedding-005',
    });
    const data = (answer.body as { data: { index: number; embedding: number[] }[] }).data;
    assert.deepEqual(
      data.map((item) => [item.index, item.embedding]),
      [
        [0, [1, 2]],
        [1, [3, 4]],
        [2, [5, 6]],
      ],
    );
    assert.throws(
      () =>
        embeddingPartsAnswer(call, ask(['a', 'b']), [
          { vectors: [[1, 2]], usage: usage(1) },
          { vectors: [[3, 4, 5]], usage: usage(1) },
        ]),
      // Both calls answered, and were billed, though their answers do not fit together.
      (error: unknown) =>
        error instanceof DataPlaneError &&
        /one embedding per input/.test(error.message) &&
        isDeepStrictEqual(takeSpentUsage(error), usage(2)),
    );
  });
});

describe('embeddingPartsOf, a call failing part way', () => {
  it('starts no further call, waits for those in flight, and carries what answered', async () => {
    const throttled = new Error('throttled');
    let finishSlow!: () => void;
    const slow = new Promise<void>((resolve) => (finishSlow = resolve));
    const started: number[] = [];
    const parts = embeddingPartsOf([1, 2, 3, 4, 5], 2, async (call) => {
      started.push(call);
      if (call === 1) await slow;
      if (call === 2) throw throttled;
      return { vectors: [[call]], usage: usage(call) };
    });
    let settled = false;
    const failure = parts.then(
      () => assert.fail('a failed call failed nothing'),
      (error: unknown) => {
        settled = true;
        return error;
      },
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the call in flight is waited for');
    finishSlow();
    const error = await failure;
    assert.equal(error, throttled);
    assert.deepEqual(started, [1, 2]);
    assert.deepEqual(takeSpentUsage(error), usage(1));
  });

  it('fails with the error alone when no call answered', async () => {
    const refused = new Error('refused');
    await assert.rejects(
      embeddingPartsOf([1], 4, () => Promise.reject(refused)),
      (error: unknown) => error === refused && takeSpentUsage(error) === undefined,
    );
  });
});
