import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAiUsage, reportedTokens } from './usage';

test('a reported token count becomes a whole non-negative number the usage event accepts', () => {
  assert.equal(reportedTokens(12), 12);
  assert.equal(reportedTokens(10.2), 11); // a fraction rounds up: never bill less
  for (const junk of [-5, 0, Number.NaN, Infinity, '12', null, undefined, {}]) {
    assert.equal(reportedTokens(junk), 0, JSON.stringify(junk) ?? 'undefined');
  }
  assert.equal(reportedTokens(1e300), Number.MAX_SAFE_INTEGER);
});

test('an OpenAI usage block with odd numbers still reads as whole counts', () => {
  assert.deepEqual(
    openAiUsage({
      prompt_tokens: 7.5,
      completion_tokens: -3,
      prompt_tokens_details: { cached_tokens: '2' },
    }),
    { inputTokens: 8, outputTokens: 0, cachedInputTokens: 0, source: 'reported' },
  );
});
