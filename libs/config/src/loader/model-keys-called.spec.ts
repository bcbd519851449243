// tokenRateLimit.perModel and modelCosts apply to the model a backend calls: an entry naming
// a model no backend of its route calls is never enforced, and the loader says so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { weightedTokens } from '../domain/usage-cost';
import { loadedOf } from './loaded-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const route = (spec: string) =>
  `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n  backends:\n  - {name: openai, provider: openai, model: gpt-4-turbo, auth: {type: None}}\n  - {name: claude, provider: anthropic, model: claude-3-sonnet, modelNameOverride: gpt-4, auth: {type: None}}\n${spec}`;

const uncalledWarnings = (text: string) =>
  loadedOf(text, options).warnings.filter((w) => w.includes('no backend of route'));

describe('model keys of limits and multipliers', () => {
  it('warns about a perModel limit and a modelCosts entry naming a model no backend calls', () => {
    const text = route(
      '  tokenRateLimit:\n    perModel:\n      gpt4-turbo: {tokensPerMinute: 2000}\n      gpt-4-turbo: {tokensPerMinute: 5000}\n' +
        '  modelCosts:\n  - {model: claude-3-sonnet, multiplier: 3}\n  - {model: gpt-4, multiplier: 10}\n',
    );
    // What the warnings say: the client-facing name gets no multiplier on the model it reaches.
    const { config } = loadedOf(text, options);
    const counts = { inputTokens: 10, outputTokens: 0 };
    assert.equal(weightedTokens(config.routes[0], 'claude-3-sonnet', counts), 30);
    assert.equal(weightedTokens(config.routes[0], 'gpt-4-turbo', counts), 10);
    assert.deepEqual(uncalledWarnings(text), [
      'gw.yaml:11: document 1 (AIGatewayRoute "r"): spec.tokenRateLimit.perModel["gpt4-turbo"]: no backend of route "r" calls model "gpt4-turbo" (they call "gpt-4-turbo", "claude-3-sonnet"), so this limit never applies; name the model a backend calls (its model, not its modelNameOverride)',
      'gw.yaml:15: document 1 (AIGatewayRoute "r"): spec.modelCosts[1].model: no backend of route "r" calls model "gpt-4" (they call "gpt-4-turbo", "claude-3-sonnet"), so this multiplier never applies; name the model a backend calls (its model, not its modelNameOverride)',
    ]);
  });

  it('says nothing when every entry names a model a backend calls', () => {
    const text = route(
      '  tokenRateLimit:\n    perModel:\n      claude-3-sonnet: {tokensPerMinute: 2000}\n' +
        '  modelCosts:\n  - {model: gpt-4-turbo, multiplier: 10}\n',
    );
    assert.deepEqual(uncalledWarnings(text), []);
  });

  it('says nothing on a route with a wildcard backend, which calls whatever model it is asked for', () => {
    const text =
      'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: any\nspec:\n' +
      '  backends:\n  - {name: openai, provider: openai, auth: {type: None}}\n' +
      '  tokenRateLimit:\n    perModel:\n      gpt-4o: {tokensPerMinute: 2000}\n';
    assert.deepEqual(uncalledWarnings(text), []);
  });
});
