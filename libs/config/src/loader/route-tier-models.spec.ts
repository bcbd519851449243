// A route's own tier allowing a model its route does not serve (a typo): its callers can
// never be allowed that model, and the loader says so, as it does for the global tiers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadedOf } from './loaded-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const route = (backends: string, allowed: string) =>
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n' +
  `  backends:\n${backends}` +
  '  userTiers:\n  - name: free\n    selector: {header: x-plan, value: free}\n    tokenBudget: {daily: 1000}\n' +
  `    allowedModels: ${allowed}\n`;

const OPENAI = '  - {name: openai, provider: openai, model: gpt-4o-mini, auth: {type: None}}\n';

const tierWarnings = (text: string) =>
  loadedOf(text, options).warnings.filter((w) => w.includes('does not serve'));

describe("a route's own tier allowing models", () => {
  it('warns about a model its route does not serve, naming the tier', () => {
    const text = route(OPENAI, '[gpt-4o-mini, gpt4o-mini]');
    assert.deepEqual(tierWarnings(text), [
      'gw.yaml:12: document 1 (AIGatewayRoute "r"): spec.userTiers[0].allowedModels: tier "free" allows "gpt4o-mini", which route "r" does not serve',
    ]);
  });

  it('says nothing when the route serves every model the tier allows, or any model', () => {
    assert.deepEqual(tierWarnings(route(OPENAI, '[gpt-4o-mini]')), []);
    const wildcard = '  - {name: openai, provider: openai, auth: {type: None}}\n';
    assert.deepEqual(tierWarnings(route(wildcard, '[gpt-4o, gpt-4o-mini]')), []);
  });
});
