import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, weightedTokens, type RouteConfig } from '@aigw/config';
import { amountsFor } from './budget-amounts';

function route(costs: string): RouteConfig {
  const parsed = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: openai, model: gpt-4}]
${costs}
  modelCosts:
  - {model: gpt-4, multiplier: 10}
  - {model: gpt-3.5-turbo, multiplier: 1}
  - {model: claude-3-opus, multiplier: 15}
  - {model: claude-3-sonnet, multiplier: 3}
  costControl:
    modelPricing:
      gpt-4: {inputPer1k: 0.01, outputPer1k: 0.03}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
  return parsed.config.routes[0];
}

// The spec's numbers: input weight 1, output weight 3, a model multiplier of 10.
const inputOutput = route(`  llmRequestCosts:
  - {type: InputToken, weight: 1}
  - {type: OutputToken, weight: 3}`);
const counts = { inputTokens: 100, outputTokens: 100 };

describe('usage cost: llmRequestCosts weights and modelCosts multipliers', () => {
  it('weighs input 1 and output 3: 100 in and 100 out cost 400 budget tokens', () => {
    assert.equal(weightedTokens(inputOutput, 'gpt-3.5-turbo', counts), 400);
    // A model modelCosts does not name is at the base cost too.
    assert.equal(weightedTokens(inputOutput, 'unlisted-model', counts), 400);
  });

  it("multiplies by the served model's modelCosts entry: 10x makes 4000", () => {
    assert.equal(weightedTokens(inputOutput, 'gpt-4', counts), 4000);
    assert.equal(weightedTokens(inputOutput, 'claude-3-opus', counts), 6000);
    assert.equal(weightedTokens(inputOutput, 'claude-3-sonnet', counts), 1200);
  });

  it('TotalToken weighs every token, alone or beside the others (as the spec lists all three)', () => {
    const total = route(`  llmRequestCosts:
  - {type: TotalToken, weight: 2}`);
    assert.equal(weightedTokens(total, 'gpt-3.5-turbo', counts), 400);
    assert.equal(weightedTokens(total, 'gpt-4', counts), 4000);
    const all = route(`  llmRequestCosts:
  - {type: InputToken, weight: 1}
  - {type: OutputToken, weight: 3}
  - {type: TotalToken, weight: 1}`);
    // 100 x 1 + 100 x 3 + 200 x 1
    assert.equal(weightedTokens(all, 'gpt-3.5-turbo', counts), 600);
    assert.equal(weightedTokens(all, 'gpt-4', counts), 6000);
  });

  it('without llmRequestCosts a token is a token, still times the model multiplier', () => {
    const plain = route('');
    assert.equal(weightedTokens(plain, 'gpt-3.5-turbo', counts), 200);
    assert.equal(weightedTokens(plain, 'gpt-4', counts), 2000);
  });

  it('budget amounts: weighted tokens for token budgets, raw counts for the rate limits', () => {
    assert.deepEqual(amountsFor(inputOutput, 'gpt-4', { inputTokens: 100, outputTokens: 50 }), {
      tokens: (100 * 1 + 50 * 3) * 10,
      inputTokens: 100,
      outputTokens: 50,
      totalTokens: 150,
      dollars: (100 / 1000) * 0.01 + (50 / 1000) * 0.03,
      requests: 1,
    });
    const cheap = amountsFor(inputOutput, 'gpt-3.5-turbo', counts);
    assert.equal(cheap.tokens, 400);
    assert.equal(cheap.totalTokens, 200, 'tokenRateLimit counts tokens unweighted');
    assert.equal(cheap.dollars, 0, 'a model with no modelPricing costs no dollars');
  });

  it('budget amounts: a call is one request whatever its size', () => {
    for (const size of [
      { inputTokens: 0, outputTokens: 0 },
      { inputTokens: 1, outputTokens: 1 },
      { inputTokens: 100_000, outputTokens: 30_000 },
    ]) {
      assert.equal(amountsFor(inputOutput, 'gpt-4', size).requests, 1);
    }
  });
});
