import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { configureBuiltinPrices, parseGatewayConfig } from '@aigw/config';
import type { ProviderCall, TokenUsage } from '@aigw/contracts/data-plane';
import { configUsagePricing } from './usage-pricing';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: own, provider: anthropic, model: claude-sonnet-4-5}
  - {name: listed, priority: 1, provider: openai, model: gpt-4o-mini}
  - {name: local, priority: 2, provider: vllm, baseUrl: "http://127.0.0.1:1/v1", model: llama-3}
  - {name: gpt5, priority: 3, provider: openai, model: gpt-5}
  - {name: nano, priority: 4, provider: openai, model: gpt-5-nano}
  costControl:
    modelPricing:
      claude-sonnet-4-5: {inputPer1k: 0.003, cachedInputPer1k: 0.0003, outputPer1k: 0.015}
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
const config = parsed.config;
const call = {} as ProviderCall;
const usage: TokenUsage = {
  inputTokens: 10_000,
  cachedInputTokens: 9_000,
  outputTokens: 100,
  source: 'reported',
};

function pricingWithCounter() {
  const unpriced: string[] = [];
  const unpricedTiers: string[] = [];
  const price = configUsagePricing(() => config, {
    recordUnpricedCall: (model) => unpriced.push(model),
    recordUnpricedServiceTier: (model, tier) => unpricedTiers.push(`${model} ${tier}`),
  });
  return { price, unpriced, unpricedTiers };
}

afterEach(() => configureBuiltinPrices({ enabled: true }));

describe('configUsagePricing', () => {
  it('prices cache reads at the route’s cachedInputPer1k', () => {
    const { price, unpriced } = pricingWithCounter();
    const cost = price(
      call,
      { backend: 'own', provider: 'anthropic', model: 'claude-sonnet-4-5' },
      usage,
    );
    assert.ok(Math.abs(cost.dollars - (1 * 0.003 + 9 * 0.0003 + 0.1 * 0.015)) < 1e-12);
    assert.equal(cost.weightedTokens, 10_100);
    assert.deepEqual(unpriced, []);
  });

  it("prices the usage event's web searches too, which budgets then settle with", () => {
    const { price } = pricingWithCounter();
    const served = { backend: 'own', provider: 'anthropic', model: 'claude-sonnet-4-5' };
    const searched: TokenUsage = { ...usage, serverToolRequests: { web_search: 3, web_fetch: 1 } };
    const tokens = price(call, served, usage).dollars;
    // Anthropic's $10 per 1000 searches (the price names no webSearchPer1k); fetches are free.
    assert.ok(Math.abs(price(call, served, searched).dollars - (tokens + 0.03)) < 1e-12);
    // Budget tokens weigh tokens only.
    assert.equal(price(call, served, searched).weightedTokens, 10_100);
  });

  it('prices a model the route does not from the catalog, for the provider that served it', () => {
    const { price, unpriced } = pricingWithCounter();
    const served = { backend: 'listed', provider: 'openai', model: 'gpt-4o-mini' };
    assert.ok(price(call, served, usage).dollars > 0);
    assert.deepEqual(unpriced, []);
  });

  it('counts a call with no price anywhere, by the model that served it', () => {
    const { price, unpriced } = pricingWithCounter();
    const cost = price(call, { backend: 'local', provider: 'vllm', model: 'llama-3' }, usage);
    assert.equal(cost.dollars, 0);
    // A backend a reload removed: no route, no price.
    price(call, { backend: 'gone', provider: 'openai', model: 'gpt-4o-mini' }, usage);
    configureBuiltinPrices({ enabled: false });
    price(call, { backend: 'listed', provider: 'openai', model: 'gpt-4o-mini' }, usage);
    assert.deepEqual(unpriced, ['llama-3', 'gpt-4o-mini', 'gpt-4o-mini']);
  });

  it('prices an OpenAI call at the service tier its answer names: priority dearer, flex half', () => {
    const { price, unpricedTiers } = pricingWithCounter();
    const served = { backend: 'gpt5', provider: 'openai', model: 'gpt-5' };
    const plain: TokenUsage = {
      inputTokens: 1_000_000,
      cachedInputTokens: 0,
      outputTokens: 1_000_000,
      source: 'reported',
    };
    // gpt-5: $1.25 + $10 standard; priority $2.50 + $20 (OpenAI's priority price list).
    const standard = price(call, served, { ...plain, serviceTier: 'default' }).dollars;
    assert.ok(Math.abs(standard - 11.25) < 1e-9, `standard ${standard}`);
    const priority = price(call, served, { ...plain, serviceTier: 'priority' }).dollars;
    assert.ok(Math.abs(priority - 22.5) < 1e-9, `priority ${priority}`);
    const flex = price(call, served, { ...plain, serviceTier: 'flex' }).dollars;
    assert.ok(Math.abs(flex - 5.625) < 1e-9, `flex ${flex}`);
    assert.deepEqual(unpricedTiers, []);
  });

  it('counts a call served at a tier its price has no factor for, billed at standard rates', () => {
    const { price, unpricedTiers } = pricingWithCounter();
    // gpt-5-nano has no priority price in OpenAI's list.
    const served = { backend: 'nano', provider: 'openai', model: 'gpt-5-nano' };
    const standard = price(call, served, usage).dollars;
    assert.equal(price(call, served, { ...usage, serviceTier: 'priority' }).dollars, standard);
    price(call, served, { ...usage, serviceTier: 'default' });
    assert.deepEqual(unpricedTiers, ['gpt-5-nano priority']);
  });
});
