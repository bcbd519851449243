import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAtLeast, readClaudeModel, type ClaudeModel } from './claude-models';
import { claudeSamplingRule, type ClaudeSamplingRule } from './claude-sampling';
import { thinksWithinBudgetOnly } from './anthropic-thinking';

const claude = (family: string | undefined, major?: number, minor = 0): ClaudeModel => ({
  ...(family === undefined ? {} : { family }),
  ...(major === undefined ? {} : { version: { major, minor } }),
});

/** [id, what it names, its sampling rule, whether it thinks within a budget only] */
const IDS: readonly [string, ClaudeModel | undefined, ClaudeSamplingRule, boolean][] = [
  // Claude 1 and 2
  ['claude-instant-1.2', claude('instant', 1, 2), 'all', true],
  ['anthropic.claude-instant-v1', claude('instant', 1), 'all', true],
  ['claude-2.1', claude(undefined, 2, 1), 'all', true],
  ['anthropic.claude-v2', claude(undefined, 2), 'all', true],
  ['anthropic.claude-v2:1', claude(undefined, 2, 1), 'all', true],
  ['anthropic.claude-v2:1:200k', claude(undefined, 2, 1), 'all', true],
  ['anthropic.claude-v2:0:100k', claude(undefined, 2), 'all', true],
  ['claude-v2', claude(undefined, 2), 'all', true],
  ['claude-v2.1', claude(undefined, 2, 1), 'all', true],
  ['anthropic.claude-v2.1', claude(undefined, 2, 1), 'all', true],
  ['claude-instant-v1', claude('instant', 1), 'all', true],
  // Claude 3.x: the version first
  ['claude-3-opus-20240229', claude('opus', 3), 'all', true],
  ['claude-3-haiku-20240307', claude('haiku', 3), 'all', true],
  ['claude-3-5-haiku-latest', claude('haiku', 3, 5), 'all', true],
  ['claude-3-5-sonnet-v2@20241022', claude('sonnet', 3, 5), 'all', true],
  ['claude-3-7-sonnet-20250219', claude('sonnet', 3, 7), 'all', true],
  ['claude-3.7-sonnet', claude('sonnet', 3, 7), 'all', true],
  ['anthropic.claude-3-haiku-20240307-v1:0', claude('haiku', 3), 'all', true],
  ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', claude('sonnet', 3, 7), 'all', true],
  [
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0',
    claude('sonnet', 3, 5),
    'all',
    true,
  ],
  // Claude 4: the family first, a date no minor
  ['claude-sonnet-4-20250514', claude('sonnet', 4), 'all', true],
  ['claude-opus-4-0', claude('opus', 4), 'all', true],
  ['claude-sonnet-4@20250514', claude('sonnet', 4), 'all', true],
  ['anthropic.claude-sonnet-4-20250514-v1:0', claude('sonnet', 4), 'all', true],
  ['apac.anthropic.claude-sonnet-4-20250514-v1:0', claude('sonnet', 4), 'all', true],
  // Claude 4.1 to 4.6: temperature or top_p; 4.6 thinks adaptively
  ['claude-opus-4-1', claude('opus', 4, 1), 'temperature-or-top-p', true],
  ['claude-opus-4-1-20250805', claude('opus', 4, 1), 'temperature-or-top-p', true],
  ['claude-opus-4-1@20250805', claude('opus', 4, 1), 'temperature-or-top-p', true],
  ['Claude-Sonnet-4-5', claude('sonnet', 4, 5), 'temperature-or-top-p', true],
  ['claude-sonnet-4.5', claude('sonnet', 4, 5), 'temperature-or-top-p', true],
  ['claude-haiku-4-5@20251001', claude('haiku', 4, 5), 'temperature-or-top-p', true],
  [
    'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
    claude('sonnet', 4, 5),
    'temperature-or-top-p',
    true,
  ],
  [
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0',
    claude('haiku', 4, 5),
    'temperature-or-top-p',
    true,
  ],
  ['claude-opus-4-5-20251101', claude('opus', 4, 5), 'temperature-or-top-p', true],
  ['claude-opus-4-6', claude('opus', 4, 6), 'temperature-or-top-p', false],
  ['anthropic.claude-opus-4-6-v1', claude('opus', 4, 6), 'temperature-or-top-p', false],
  ['eu.anthropic.claude-sonnet-4-6', claude('sonnet', 4, 6), 'temperature-or-top-p', false],
  // Opus 4.7 and later: no sampling, adaptive thinking
  ['claude-opus-4-7', claude('opus', 4, 7), 'none', false],
  ['claude-opus-4-7-20260416', claude('opus', 4, 7), 'none', false],
  ['claude-opus-4-7@20260416', claude('opus', 4, 7), 'none', false],
  ['us.anthropic.claude-opus-4-7-v1:0', claude('opus', 4, 7), 'none', false],
  [
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-7',
    claude('opus', 4, 7),
    'none',
    false,
  ],
  ['claude-haiku-4-6', claude('haiku', 4, 6), 'none', false],
  ['claude-opus-4-10', claude('opus', 4, 10), 'none', false],
  ['claude-sonnet-5', claude('sonnet', 5), 'none', false],
  ['claude-haiku-5-5', claude('haiku', 5, 5), 'none', false],
  ['claude-opus-6-20280101', claude('opus', 6), 'none', false],
  ['anthropic.claude-fable-5-1', claude('fable', 5, 1), 'none', false],
  // A Claude whose id names no version is taken as the latest
  ['claude-mythos-preview', claude('mythos'), 'none', false],
  ['claude', claude(undefined), 'none', false],
  // Not Claude: not judged
  ['deepseek-chat', undefined, 'all', false],
  ['amazon.nova-pro-v1:0', undefined, 'all', false],
  [
    'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3',
    undefined,
    'all',
    false,
  ],
];

describe('Claude model ids, in every naming', () => {
  for (const [id, named, rule, budgetOnly] of IDS) {
    it(`reads ${id}`, () => {
      assert.deepEqual(readClaudeModel(id), named);
      assert.equal(claudeSamplingRule(id), rule, 'sampling');
      assert.equal(thinksWithinBudgetOnly(id), budgetOnly, 'thinking');
    });
  }
});

describe('Claude versions compared', () => {
  it('orders by major, then minor, and takes an unknown version as the latest', () => {
    assert.ok(isAtLeast({ major: 4, minor: 6 }, 4, 6));
    assert.ok(isAtLeast({ major: 5, minor: 0 }, 4, 6));
    assert.ok(!isAtLeast({ major: 4, minor: 5 }, 4, 6));
    assert.ok(!isAtLeast({ major: 3, minor: 7 }, 4));
    assert.ok(isAtLeast(undefined, 4, 6));
  });
});
