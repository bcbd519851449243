import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteConfig } from './gateway-config';
import { dollarCost, usageCost } from './usage-cost';

const route = (modelPricing: unknown): RouteConfig =>
  ({
    name: 'r',
    llmRequestCosts: [],
    modelCosts: [],
    costControl: { modelPricing },
  }) as unknown as RouteConfig;

const counts = { inputTokens: 1000, outputTokens: 2000 };

describe('dollarCost', () => {
  it('prices a model from its own entry', () => {
    const r = route({ 'gpt-4': { inputPer1k: 0.03, outputPer1k: 0.06 } });
    assert.equal(dollarCost(r, 'gpt-4', counts), 0.03 + 0.12);
  });

  it('costs 0, not NaN, for a model named like an Object.prototype member', () => {
    const r = route({ 'gpt-4': { inputPer1k: 0.03, outputPer1k: 0.06 } });
    for (const model of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      assert.equal(dollarCost(r, model, counts), 0, model);
      assert.equal(usageCost(r, model, counts).dollars, 0, model);
    }
  });

  it('still prices a model literally configured as "constructor"', () => {
    const pricing = Object.fromEntries([['constructor', { inputPer1k: 1, outputPer1k: 1 }]]);
    assert.equal(dollarCost(route(pricing), 'constructor', counts), 3);
  });
});
