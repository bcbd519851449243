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

test('an OpenAI chat usage block reads its audio tokens, which gpt-audio bills above text', () => {
  // gpt-4o-audio-preview / gpt-audio: audio_tokens are parts of prompt_tokens and
  // completion_tokens (OpenAI's CompletionUsage), priced at input_audio / output_audio rates.
  const usage = openAiUsage(
    {
      prompt_tokens: 120,
      completion_tokens: 300,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 250, text_tokens: 50 },
    },
    'chat',
  );
  assert.deepEqual(usage, {
    inputTokens: 120,
    outputTokens: 300,
    cachedInputTokens: 0,
    audioInputTokens: 100,
    audioOutputTokens: 250,
    source: 'reported',
  });
});

test('an OpenAI usage block never makes more audio tokens than the counts they are part of', () => {
  const usage = openAiUsage(
    {
      prompt_tokens: 10,
      completion_tokens: 5,
      prompt_tokens_details: { audio_tokens: 40 },
      completion_tokens_details: { audio_tokens: 9 },
    },
    'chat',
  );
  assert.equal(usage?.audioInputTokens, 10);
  assert.equal(usage?.audioOutputTokens, 5);
  // No audio, junk or zero: no audio fields at all (text calls' usage stays as it was).
  for (const audio of [0, -3, '7', null]) {
    const plain = openAiUsage(
      {
        prompt_tokens: 10,
        completion_tokens: 5,
        prompt_tokens_details: { audio_tokens: audio },
        completion_tokens_details: { audio_tokens: audio },
      },
      'chat',
    );
    assert.ok(plain && !('audioInputTokens' in plain) && !('audioOutputTokens' in plain));
  }
});
