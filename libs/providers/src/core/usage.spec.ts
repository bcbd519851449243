import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAiUsage, reportedTokens, sumTokens, tokenCount } from './usage';

const JUNK = [-5, -0.5, Number.NaN, Infinity, -Infinity, '12', null, undefined, {}, [3]];

test('a token count is a whole non-negative safe number, or undefined when it is no count', () => {
  assert.equal(tokenCount(12), 12);
  assert.equal(tokenCount(0), 0);
  assert.ok(Object.is(tokenCount(-0), 0), '-0 is a plain 0');
  assert.equal(tokenCount(10.2), 11); // a fraction rounds up: never bill less
  assert.equal(tokenCount(1e300), Number.MAX_SAFE_INTEGER);
  for (const junk of JUNK) {
    assert.equal(tokenCount(junk), undefined, JSON.stringify(junk) ?? 'undefined');
  }
});

test('a reported token count becomes a whole non-negative number the usage event accepts', () => {
  assert.equal(reportedTokens(12), 12);
  assert.equal(reportedTokens(10.2), 11);
  for (const junk of [...JUNK, 0]) {
    assert.equal(reportedTokens(junk), 0, JSON.stringify(junk) ?? 'undefined');
  }
  assert.equal(reportedTokens(1e300), Number.MAX_SAFE_INTEGER);
});

test('token counts add up, never past what a number holds exactly', () => {
  assert.equal(sumTokens(), 0);
  assert.equal(sumTokens(3, 4, 5), 12);
  const max = Number.MAX_SAFE_INTEGER;
  assert.equal(sumTokens(max, max, max), max);
  assert.equal(sumTokens(2 ** 52, 2 ** 52), max);
});

test('an OpenAI usage block with fractional counts reads as whole counts', () => {
  assert.deepEqual(
    openAiUsage(
      { prompt_tokens: 7.5, completion_tokens: 3, prompt_tokens_details: { cached_tokens: '2' } },
      'chat',
    ),
    { inputTokens: 8, outputTokens: 3, cachedInputTokens: 0, source: 'reported' },
  );
});

test('an OpenAI usage block without usable prompt and completion counts is no usage', () => {
  for (const usage of [
    { prompt_tokens: 7, completion_tokens: -3 },
    { prompt_tokens: '7', completion_tokens: 3 },
    { prompt_tokens: 7, completion_tokens: null },
    { prompt_tokens: 7 },
    { completion_tokens: 3 },
    { prompt_tokens: Infinity, completion_tokens: 3 },
    [7, 3],
    null,
  ]) {
    assert.equal(openAiUsage(usage, 'chat'), undefined, JSON.stringify(usage));
  }
});

test('an OpenAI embeddings usage block has no completion count', () => {
  assert.deepEqual(openAiUsage({ prompt_tokens: 4, total_tokens: 4 }, 'embeddings'), {
    inputTokens: 4,
    outputTokens: 0,
    cachedInputTokens: 0,
    source: 'reported',
  });
  assert.equal(openAiUsage({ prompt_tokens: -4, total_tokens: 4 }, 'embeddings'), undefined);
});
