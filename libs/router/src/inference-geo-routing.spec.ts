import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { configFromYaml } from '@aigw/testing';
import { isSpecialRequest, servesRequest } from './domain/operation-support';
import { FailoverRouter } from './failover-router';
import { chatWithExtras, ScriptedProviders, unavailable } from './testing/scripted-providers';

// A Messages client's inference_geo other than "global" (data residency) is kept by
// Anthropic's own API only: the chain's other backends are skipped up front, so a Bedrock
// primary never answers the client's residency with a 400 its Anthropic standby would
// have served, and a failover never trades the primary's 529 for that 400.

const MIXED = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: geo}
spec:
  backends:
  - {name: bedrock, priority: 0, provider: bedrock, model: anthropic.claude-sonnet-4-5, modelNameOverride: resident}
  - {name: claude, priority: 1, provider: anthropic, model: claude-sonnet-4-5, modelNameOverride: resident}
  - {name: claude-eu, priority: 2, provider: anthropic, model: claude-sonnet-4-5, modelNameOverride: resident}
  - {name: gpt, provider: openai, model: gpt-4o}
  failover:
    on: [rateLimit, timeout, error]
`);

const US = { inference_geo: 'us' };

describe('inference_geo: which backends keep it', () => {
  it('filters a chat only when it names a geography other than global', () => {
    assert.equal(isSpecialRequest(chatWithExtras('m', US)), true);
    assert.equal(isSpecialRequest(chatWithExtras('m', { inference_geo: 'global' })), false);
    assert.equal(servesRequest('anthropic', chatWithExtras('m', US), 'claude-sonnet-4-5'), true);
    for (const provider of ['bedrock', 'vertex', 'openai', 'google-gemini', 'cohere']) {
      assert.equal(servesRequest(provider, chatWithExtras('m', US), 'claude-sonnet-4-5'), false);
    }
  });
});

describe('FailoverRouter: inference_geo', () => {
  it('skips a backend that cannot keep the geography, failing over among those that can', async () => {
    const providers = new ScriptedProviders({ claude: unavailable });
    const router = new FailoverRouter({ config: () => MIXED, providers, sleep: async () => {} });
    const answer = await router.route(chatWithExtras('resident', US), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'claude-eu');
    assert.deepEqual(
      providers.calls.map((call) => call.target.backendName),
      ['claude', 'claude-eu'],
    );
  });

  it('calls every backend for the default geography', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    const global = chatWithExtras('resident', { inference_geo: 'global' });
    const answer = await router.route(global, new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'bedrock');
  });

  it('refuses with a 400 naming inference_geo when no backend keeps it', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    await assert.rejects(
      router.route(chatWithExtras('gpt-4o', US), new AbortController().signal),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'inference_geo' &&
        /inference_geo "us" is kept by Anthropic backends only, and no backend of "gpt-4o"/.test(
          error.message,
        ),
    );
    assert.equal(providers.calls.length, 0);
  });
});
