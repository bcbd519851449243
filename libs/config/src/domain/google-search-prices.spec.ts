// Grounding with Google Search was billed at nothing: the catalog lists Gemini's tokens only,
// and a grounded Gemini 2.x call (billed by the prompt, not the query) would have cost each
// of its queries at Anthropic's $10 per 1,000 had its searches been counted at all.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { parseGatewayConfig } from '../loader/load-config';
import { builtinPrice, configureBuiltinPrices } from './builtin-prices';
import { dollarsAt } from './usage-cost';

afterEach(() => configureBuiltinPrices({ enabled: true }));

const searched = (queries: number) => ({
  inputTokens: 0,
  outputTokens: 0,
  serverToolRequests: { web_search: queries },
});
const near = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} != ${expected}`);

describe('the price of grounding with Google Search', () => {
  it('gives Gemini 2.x $35 per 1,000 grounded prompts, once a call however many queries', () => {
    configureBuiltinPrices({ enabled: true });
    for (const provider of ['google-gemini', 'vertex']) {
      const price = builtinPrice(provider, 'gemini-2.5-flash');
      assert.ok(price, provider);
      assert.equal(price.groundedPromptPer1k, 35, provider);
      near(dollarsAt({ ...price, inputPer1k: 0, outputPer1k: 0 }, searched(3)), 0.035);
      near(dollarsAt({ ...price, inputPer1k: 0, outputPer1k: 0 }, searched(1)), 0.035);
    }
    assert.equal(
      builtinPrice('vertex', 'publishers/google/models/gemini-2.0-flash')?.groundedPromptPer1k,
      35,
    );
  });

  it('gives Gemini 3 $14 per 1,000 search queries', () => {
    configureBuiltinPrices({ enabled: true });
    for (const provider of ['google-gemini', 'vertex']) {
      const price = builtinPrice(provider, 'gemini-3-flash-preview');
      assert.ok(price, provider);
      assert.equal(price.webSearchPer1k, 14, provider);
      assert.equal(price.groundedPromptPer1k, undefined, provider);
      near(dollarsAt({ ...price, inputPer1k: 0, outputPer1k: 0 }, searched(3)), 0.042);
    }
  });

  it("leaves Claude on Vertex at Anthropic's search price, and other providers alone", () => {
    configureBuiltinPrices({ enabled: true });
    const claude = builtinPrice('vertex', 'claude-sonnet-4-5');
    assert.ok(claude);
    assert.equal(claude.webSearchPer1k, undefined);
    assert.equal(claude.groundedPromptPer1k, undefined);
    assert.equal(builtinPrice('openai', 'gpt-4o')?.groundedPromptPer1k, undefined);
  });

  it('takes groundedPromptPer1k from modelPricing, 0 to stop charging', () => {
    const pricing = (rest: string) =>
      'kind: AIGatewayRoute\nmetadata: {name: r}\nspec:\n  costControl:\n    modelPricing:\n' +
      `      gemini-2.5-flash: {inputPer1k: 0, outputPer1k: 0${rest}}\n`;
    const options = { missingSecrets: 'warn', env: {} } as const;
    const bad = parseGatewayConfig(pricing(', groundedPromptPer1k: -1'), options);
    assert.ok(!bad.ok);
    assert.match(
      bad.errors.map((error) => error.format()).join('\n'),
      /groundedPromptPer1k: expected US dollars per 1000 grounded prompts \(a number >= 0\)/,
    );
    const free = parseGatewayConfig(pricing(', groundedPromptPer1k: 0'), options);
    assert.ok(free.ok, JSON.stringify(!free.ok && free.errors.map((e) => e.format())));
    const price = free.config.routes[0].costControl?.modelPricing['gemini-2.5-flash'];
    assert.ok(price);
    assert.equal(price.groundedPromptPer1k, 0);
    assert.equal(dollarsAt(price, searched(4)), 0);
  });
});
