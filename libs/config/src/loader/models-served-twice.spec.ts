// A model named by two routes: every request for it goes to the first (routeForModel), so
// the later route's backends for it are never called, and the loader says so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeForModel } from '../domain/model-resolution';
import { loadedOf } from './loaded-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const route = (name: string, spec: string) =>
  `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

function servedTwiceWarnings(text: string): string[] {
  return loadedOf(text, options).warnings.filter((w) => w.includes('is also served by route'));
}

describe('a model served by two routes', () => {
  it('warns at the later route, naming the route that takes its requests', () => {
    const text = `${route(
      'team-a',
      '  backends:\n  - {name: openai-a, provider: openai, model: gpt-4, auth: {type: None}}\n',
    )}---\n${route(
      'team-b',
      '  backends:\n' +
        '  - {name: azure-b, provider: azure, model: gpt-4, baseUrl: "https://b.openai.azure.com", auth: {type: None}}\n' +
        '  - {name: claude-b, provider: anthropic, model: claude-3-opus, modelNameOverride: gpt-4, auth: {type: None}}\n',
    )}`;
    // What the warning says: a request for the model goes to the first route only.
    assert.equal(routeForModel(loadedOf(text, options).config, 'gpt-4')?.name, 'team-a');
    assert.deepEqual(servedTwiceWarnings(text), [
      `gw.yaml:15: document 2 (AIGatewayRoute "team-b"): spec.backends[0].model: "gpt-4" is also served by route "team-a", the first route naming it, which takes every request for it: route "team-b"'s backends for it are never called; serve each model from one route`,
    ]);
  });

  it('names modelNameOverride when that is what makes the model', () => {
    const text = `${route(
      'a',
      '  backends:\n  - {name: openai-a, provider: openai, model: gpt-4, auth: {type: None}}\n',
    )}---\n${route(
      'b',
      '  backends:\n  - {name: claude-b, provider: anthropic, model: claude-3-opus, modelNameOverride: gpt-4, auth: {type: None}}\n',
    )}`;
    const [warning] = servedTwiceWarnings(text);
    assert.match(warning, /spec\.backends\[0\]\.modelNameOverride: "gpt-4" is also served/);
  });

  it('says nothing when each route serves models of its own, or a wildcard meets a named one', () => {
    const text = `${route(
      'chat',
      '  backends:\n  - {name: openai-chat, provider: openai, model: gpt-4, auth: {type: None}}\n',
    )}---\n${route(
      'any',
      '  backends:\n  - {name: openai-any, provider: openai, auth: {type: None}}\n  - {name: openai-embed, provider: openai, model: text-embedding-3-small, auth: {type: None}}\n',
    )}`;
    assert.deepEqual(servedTwiceWarnings(text), []);
  });

  it('says nothing when the later route reaches its backends of that model by its own retry.fallbackOrder', () => {
    const text = `${route(
      'a',
      '  backends:\n  - {name: openai-a, provider: openai, model: gpt-4, auth: {type: None}}\n',
    )}---\n${route(
      'b',
      '  backends:\n' +
        '  - {name: openai-big, provider: openai, model: gpt-4o, auth: {type: None}}\n' +
        '  - {name: openai-b, provider: openai, model: gpt-4, auth: {type: None}}\n' +
        '  retry: {fallbackOrder: [gpt-4o, gpt-4]}\n',
    )}`;
    assert.deepEqual(servedTwiceWarnings(text), []);
  });
});
