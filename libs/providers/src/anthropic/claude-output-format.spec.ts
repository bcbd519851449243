import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasStructuredOutputs } from './claude-output-format';

// Which Claude answers output_config.format natively (4.5 and later; 4.6 and later on
// Vertex AI), in every naming a backend's model comes in; anything older keeps the forced
// answer tool.

describe('hasStructuredOutputs', () => {
  it('is true for Claude 4.5 and later: dated, aliased, dotted, and ids not yet known', () => {
    for (const model of [
      'claude-sonnet-4-5',
      'claude-sonnet-4-5-20250929',
      'claude-haiku-4-5-20251001',
      'claude-opus-4-5-20251101',
      'claude-opus-4-6',
      'claude-sonnet-4.5',
      'claude-sonnet-4-5@20250929',
      'claude-opus-5',
      'claude-sonnet-5-5',
      'claude-haiku-5-5-20270101',
      'claude-mythos-preview',
    ]) {
      assert.equal(hasStructuredOutputs(model, 'anthropic'), true, model);
    }
  });

  it('is false for earlier Claudes and for models that are not Claude', () => {
    for (const model of [
      'claude-sonnet-4-20250514',
      'claude-opus-4-1-20250805',
      'claude-opus-4-0',
      'claude-3-7-sonnet-latest',
      'claude-3-5-haiku-20241022',
      'claude-2.1',
      'gpt-4o',
    ]) {
      assert.equal(hasStructuredOutputs(model, 'anthropic'), false, model);
    }
  });

  it('is from 4.5 on Bedrock and from 4.6 on Vertex AI, in their model ids', () => {
    const cases: [string, 'bedrock' | 'vertex', boolean][] = [
      ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'bedrock', true],
      ['anthropic.claude-opus-4-1-20250805-v1:0', 'bedrock', false],
      ['claude-opus-4-6', 'vertex', true],
      ['claude-sonnet-4-5@20250929', 'vertex', false],
    ];
    for (const [model, platform, native] of cases) {
      assert.equal(hasStructuredOutputs(model, platform), native, `${model} on ${platform}`);
    }
  });
});
