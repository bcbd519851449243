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
  costControl:
    modelPricing:
      gpt-4o: {inputPer1k: 0.0025, outputPer1k: 0.01}
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

test('writes dollars as plain decimals', () => {
  assert.equal(dollarText(0.006), '0.006');
  assert.equal(dollarText(0.0000123), '0.0000123');
  assert.equal(dollarText(0.00000001), '0');
  assert.equal(dollarText(0), '0');
  assert.equal(dollarText(12.5), '12.5');
  assert.equal(dollarText(3), '3');
});
