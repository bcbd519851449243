// A call is priced by the config in force when it started: a reload that removes or
// reprices its route while it streams must not price it at nothing, or at the new price.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { ProviderCall, TokenUsage } from '@aigw/contracts/data-plane';
import { configUsagePricing } from './usage-pricing';

function load(text: string): GatewayConfig {
  const parsed = parseGatewayConfig(text, { missingSecrets: 'warn', env: {} });
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
  return parsed.config;
}

const route = (name: string, backend: string, inputPer1k: number) =>
  `kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends:
  - {name: ${backend}, provider: vllm, baseUrl: "http://127.0.0.1:1/v1", model: m}
  costControl:
    modelPricing:
      m: {inputPer1k: ${inputPer1k}, outputPer1k: 0}
`;
const usage: TokenUsage = {
  inputTokens: 1000,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'reported',
};
const served = { backend: 'local', provider: 'vllm', model: 'm', route: 'chat' };
const call = {} as ProviderCall;

describe('usage priced across a config reload', () => {
  it('a call started before a reload is priced by the config it started on', () => {
    let current = load(route('chat', 'local', 2));
    const unpriced: string[] = [];
    const pricing = configUsagePricing(() => current, {
      recordUnpricedCall: (model) => unpriced.push(model),
      recordUnpricedServiceTier: () => undefined,
    });
    const removedMidCall = pricing.forCall(call);
    const repricedMidCall = pricing.forCall(call);

    current = load(route('other', 'elsewhere', 5));
    assert.equal(removedMidCall(call, served, usage).dollars, 2);
    current = load(route('chat', 'local', 7));
    assert.equal(repricedMidCall(call, served, usage).dollars, 2);
    assert.deepEqual(unpriced, []);

    // A call starting now gets the prices now.
    assert.equal(pricing.forCall(call)(call, served, usage).dollars, 7);
    assert.equal(pricing(call, served, usage).dollars, 7);
  });
});
