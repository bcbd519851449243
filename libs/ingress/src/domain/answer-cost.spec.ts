import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGatewayConfig } from '@aigw/config';
import { dollarText, pricedDollars } from './answer-cost';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: priced, provider: openai, model: gpt-4o}
  - {name: free, priority: 1, provider: openai, model: llama-3}
  - {name: listed, priority: 2, provider: openai, model: gpt-4o-mini}
  - {name: cached, priority: 3, provider: anthropic, model: claude-sonnet-4-5}
  costControl:
    modelPricing:
      gpt-4o: {inputPer1k: 0.0025, outputPer1k: 0.01}
      claude-sonnet-4-5: {inputPer1k: 0.003, cachedInputPer1k: 0.0003, outputPer1k: 0.015}
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error('config');
const config = parsed.config;
const usage = {
  inputTokens: 1200,
  outputTokens: 300,
  cachedInputTokens: 0,
  source: 'reported' as const,
};

test("prices an answer by its route's modelPricing for the model that served it", () => {
  const dollars = pricedDollars(
    config,
    { backend: 'priced', provider: 'openai', model: 'gpt-4o' },
    usage,
  );
  assert.ok(dollars !== undefined && Math.abs(dollars - (1.2 * 0.0025 + 0.3 * 0.01)) < 1e-12);
  // No price for the model, or a backend no route has: unknown, not free.
  assert.equal(
    pricedDollars(config, { backend: 'free', provider: 'openai', model: 'llama-3' }, usage),
    undefined,
  );
  assert.equal(
    pricedDollars(config, { backend: 'gone', provider: 'openai', model: 'gpt-4o' }, usage),
    undefined,
  );
  assert.equal(
    pricedDollars(config, { backend: 'priced', provider: 'openai', model: 'constructor' }, usage),
    undefined,
  );
});

test('prices cache reads at cachedInputPer1k, and an unpriced model from the catalog', () => {
  const cachedUsage = { ...usage, cachedInputTokens: 1000 };
  const served = { backend: 'cached', provider: 'anthropic', model: 'claude-sonnet-4-5' };
  const dollars = pricedDollars(config, served, cachedUsage);
  assert.ok(dollars !== undefined);
  assert.ok(Math.abs(dollars - (0.2 * 0.003 + 1 * 0.0003 + 0.3 * 0.015)) < 1e-12);
  // No modelPricing entry, but a list price for its provider: a cost, not an unknown.
  const listed = { backend: 'listed', provider: 'openai', model: 'gpt-4o-mini' };
  assert.ok((pricedDollars(config, listed, usage) ?? 0) > 0);
});

test('writes dollars as plain decimals', () => {
  assert.equal(dollarText(0.006), '0.006');
  assert.equal(dollarText(0.0000123), '0.0000123');
  assert.equal(dollarText(0.00000001), '0');
  assert.equal(dollarText(0), '0');
  assert.equal(dollarText(12.5), '12.5');
  assert.equal(dollarText(3), '3');
});
