// A backend name in two routes: usage is priced and settled by (route, backend name), but
// cooldowns and drains are kept by name alone, so the loader says so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadedOf } from './loaded-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const route = (name: string, backends: string) =>
  `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: ${name}\nspec:\n  backends:\n${backends}`;

/** The shared-name warnings of a file with two routes, chat and embed, one backend each. */
function sharedNameWarnings(chatBackend: string, embedBackend: string): string[] {
  const text = `${route('chat', `  - ${chatBackend}\n`)}---\n${route('embed', `  - ${embedBackend}\n`)}`;
  return loadedOf(text, options).warnings.filter((w) => w.includes('also a backend of'));
}

describe('a backend name shared by routes', () => {
  it('warns on the later route, naming the first', () => {
    const warnings = sharedNameWarnings(
      '{name: openai, provider: openai, model: gpt-4, auth: {type: None}}',
      '{name: openai, provider: openai, model: text-embedding-3-small, auth: {type: None}}',
    );
    assert.deepEqual(warnings, [
      'gw.yaml:15: document 2 (AIGatewayRoute "embed"): spec.backends[0].name: "openai" is also a backend of route "chat": cooldowns and drains are kept by backend name, so they apply to both; give it a name of its own',
    ]);
  });

  it('distinct names across routes load without that warning', () => {
    const warnings = sharedNameWarnings(
      '{name: openai-chat, provider: openai, model: gpt-4, auth: {type: None}}',
      '{name: openai-embed, provider: openai, model: text-embedding-3-small, auth: {type: None}}',
    );
    assert.deepEqual(warnings, []);
  });
});
