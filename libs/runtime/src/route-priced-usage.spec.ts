// Two routes that each name a backend `openai`, at different prices and URLs: a call's
// usage is priced, and the provider-adapter finds its backend, by (route, backend name);
// by the name alone (the first route naming it) for a peer of an older build.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from '@aigw/config';
import type { ProviderCall, TokenUsage } from '@aigw/contracts/data-plane';
import { upstreamTargetFor } from './data-plane-http/backend-targets';
import { configUsagePricing } from './usage-pricing';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - {name: openai, provider: vllm, baseUrl: "http://127.0.0.1:1/chat", model: gpt-4}
  costControl:
    modelPricing:
      gpt-4: {inputPer1k: 0.03, outputPer1k: 0.06}
      text-embedding-3-small: {inputPer1k: 9, outputPer1k: 9}
---
kind: AIGatewayRoute
metadata: {name: embed}
spec:
  backends:
  - {name: openai, provider: vllm, baseUrl: "http://127.0.0.1:1/embed", model: text-embedding-3-small}
  costControl:
    modelPricing:
      text-embedding-3-small: {inputPer1k: 0.5, outputPer1k: 0}
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
const config = parsed.config;
const usage: TokenUsage = {
  inputTokens: 1000,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'reported',
};
const embedding = { backend: 'openai', provider: 'vllm', model: 'text-embedding-3-small' };

describe('a backend name shared by two routes', () => {
  const price = configUsagePricing(() => config, {
    recordUnpricedCall: () => undefined,
    recordUnpricedServiceTier: () => undefined,
  });

  it('prices a call at the price of the route that served it', () => {
    assert.equal(price({} as ProviderCall, { ...embedding, route: 'embed' }, usage).dollars, 0.5);
  });

  it('prices a call that names no route by the first route naming the backend', () => {
    // The chat route's own (here deliberately different) price: as before routes were named.
    assert.equal(price({} as ProviderCall, embedding, usage).dollars, 9);
  });

  it("calls the backend of the route the router named, else the name's only entry", () => {
    const wire = { backendName: 'openai', provider: 'vllm', model: 'text-embedding-3-small' };
    const embed = upstreamTargetFor(config, { ...wire, routeName: 'embed' });
    assert.equal(embed.baseUrl, 'http://127.0.0.1:1/embed');
    assert.equal(embed.routeName, 'embed');
    const chat = upstreamTargetFor(config, { ...wire, routeName: 'chat' });
    assert.equal(chat.baseUrl, 'http://127.0.0.1:1/chat');
    assert.equal(upstreamTargetFor(config, wire).routeName, undefined);
  });
});
