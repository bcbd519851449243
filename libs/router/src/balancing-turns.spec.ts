// The weighted turn through the FailoverRouter: each route keeps its own, whatever its
// backends are named, and a reload that changes their weights spreads calls by the new
// weights at once, with no run to one backend paying back the old ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayConfig } from '@aigw/config';
import type { GatewayAnswer, ProviderCall } from '@aigw/contracts/data-plane';
import { configFromYaml } from '@aigw/testing';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { BackendHealth } from './domain/backend-health';
import { FailoverRouter } from './failover-router';

/** Backends that all answer at once. */
const answering = {
  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    const { backendName: backend, provider, model } = call.target;
    return {
      kind: 'json',
      status: 200,
      body: {},
      usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
      servedBy: { backend, provider, model },
    };
  },
};

async function servedBy(router: FailoverRouter, model: string): Promise<string> {
  const request = gatewayChatRequest({ model }, { requestedModel: model });
  const answer = await router.route(request, new AbortController().signal);
  return answer.servedBy.backend;
}

/** The longest run of one backend in a row. */
function longestRun(backends: readonly string[]): number {
  let longest = 0;
  for (let i = 0, run = 0; i < backends.length; i++) {
    run = i > 0 && backends[i] === backends[i - 1] ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

describe('FailoverRouter: weighted turns', () => {
  it('keeps a turn per route: two routes naming their backends alike each spread their calls', async () => {
    // Backend names are unique only within a route: regions are named alike in each.
    const config = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: large}
spec:
  backends:
  - {name: east, priority: 0, provider: openai, model: gpt-4o}
  - {name: west, priority: 0, provider: openai, model: gpt-4o}
---
kind: AIGatewayRoute
metadata: {name: small}
spec:
  backends:
  - {name: east, priority: 0, provider: openai, model: gpt-4o-mini}
  - {name: west, priority: 0, provider: openai, model: gpt-4o-mini}
`);
    const router = new FailoverRouter({ config: () => config, providers: answering });
    const served: Record<string, string[]> = { 'gpt-4o': [], 'gpt-4o-mini': [] };
    for (let i = 0; i < 50; i++) {
      for (const model of ['gpt-4o', 'gpt-4o-mini'])
        served[model].push(await servedBy(router, model));
    }
    for (const [model, backends] of Object.entries(served)) {
      const east = backends.filter((b) => b === 'east').length;
      assert.equal(east, 25, `${model}: ${east} of 50 calls to east`);
      assert.equal(longestRun(backends), 1, `${model}: ${backends.join()}`);
    }
  });

  it('spreads by the new weights at once after a reload changes them', async () => {
    const withWeight = (weight: number): GatewayConfig =>
      configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: big, priority: 0, weight: ${weight}, provider: openai, model: gpt-4o}
  - {name: small, priority: 0, weight: 1, provider: openai, model: gpt-4o}
`);
    let config = withWeight(1000);
    const router = new FailoverRouter({ config: () => config, providers: answering });
    const before: string[] = [];
    for (let i = 0; i < 500; i++) before.push(await servedBy(router, 'gpt-4o'));
    assert.equal(before.filter((b) => b === 'small').length, 0);
    config = withWeight(1); // now equal shares
    const after: string[] = [];
    for (let i = 0; i < 20; i++) after.push(await servedBy(router, 'gpt-4o'));
    assert.equal(after.filter((b) => b === 'small').length, 10, after.join());
    assert.equal(longestRun(after), 1, after.join());
  });
});

describe('FailoverRouter: weighted turns with a backend out of rotation', () => {
  it('shares its calls among the rest by their weights, not all to the one after it', async () => {
    const config = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4o}
  - {name: b, priority: 0, provider: openai, model: gpt-4o}
  - {name: c, priority: 0, provider: openai, model: gpt-4o}
`);
    const health = new BackendHealth();
    const router = new FailoverRouter({ config: () => config, providers: answering, health });
    health.drain('c', { reason: 'maintenance' });
    const served: string[] = [];
    for (let i = 0; i < 300; i++) served.push(await servedBy(router, 'gpt-4o'));
    const count = (name: string) => served.filter((b) => b === name).length;
    assert.deepEqual({ a: count('a'), b: count('b'), c: count('c') }, { a: 150, b: 150, c: 0 });
    assert.equal(longestRun(served), 1, served.slice(0, 12).join());
  });
});
