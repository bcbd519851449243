import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimatePromptTokensUpperBound } from '@aigw/contracts/data-plane';
import { BatchEstimator } from './batch-estimate';

describe('a batch input file estimate', () => {
  it("sums each line's prompt estimate and the output it may produce", () => {
    const chat = { model: 'm', messages: [{ role: 'user', content: 'hello there' }] };
    const estimator = new BatchEstimator(500);
    estimator.add('/v1/chat/completions', { ...chat, max_tokens: 100 });
    estimator.add('/v1/chat/completions', { ...chat, max_completion_tokens: 30, n: 2 });
    estimator.add('/v1/chat/completions', chat); // no bound: the default
    estimator.add('/v1/responses', { model: 'm', input: 'hi', max_output_tokens: 7 });
    estimator.add('/v1/embeddings', { model: 'm', input: 'some words' });
    const prompts =
      3 * estimatePromptTokensUpperBound(chat) +
      // A Responses line as the chat messages a single Responses call becomes.
      estimatePromptTokensUpperBound({ messages: [{ role: 'user', content: 'hi' }] }) +
      estimatePromptTokensUpperBound({ model: 'm', input: 'some words' });
    assert.deepEqual(estimator.estimate, {
      inputTokens: prompts,
      outputTokens: 100 + 30 * 2 + 500 + 7,
      requests: 5,
      largestPromptTokens: Math.max(
        estimatePromptTokensUpperBound(chat),
        estimatePromptTokensUpperBound({ model: 'm', input: 'some words' }),
      ),
      urls: ['/v1/chat/completions', '/v1/responses', '/v1/embeddings'],
    });
    assert.ok(prompts > 0);
  });

  it('takes a bound that is not a positive number as no bound', () => {
    const estimator = new BatchEstimator(64);
    estimator.add('/v1/chat/completions', { messages: [], max_tokens: 'lots', n: -1 });
    estimator.add('/v1/chat/completions', { messages: [], max_tokens: 0 });
    assert.equal(estimator.estimate.outputTokens, 128);
  });

  it("counts a Responses line's instructions, which a single Responses call is held for", () => {
    const instructions = 'x'.repeat(40_000);
    const estimator = new BatchEstimator(1);
    estimator.add('/v1/responses', { model: 'm', input: 'hi', instructions, max_output_tokens: 1 });
    const bare = estimatePromptTokensUpperBound({ model: 'm', input: 'hi' });
    const withInstructions = estimatePromptTokensUpperBound({
      model: 'm',
      messages: [
        { role: 'system', content: instructions },
        { role: 'user', content: 'hi' },
      ],
    });
    assert.ok(withInstructions > bare + 5_000);
    assert.ok(
      estimator.estimate.inputTokens >= withInstructions - 8,
      `${estimator.estimate.inputTokens} leaves out the instructions`,
    );
  });
});
