import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { configFromYaml } from '@aigw/testing';
import {
  isSpecialRequest,
  runsServerTools,
  servesRequest,
  unservedProviderFeature,
} from './domain/operation-support';
import { FailoverRouter } from './failover-router';
import { chatWithExtras, ScriptedProviders, unavailable } from './testing/scripted-providers';

// A chat asking for Anthropic's server tools (web search...) goes to the chain's backends
// that run them only: Anthropic's own API, and Claude on Vertex AI for web search; failover
// skips the others; a chain with none is the client's 400 naming the tool.

const MIXED = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: server-tools}
spec:
  backends:
  - {name: openai, priority: 0, provider: openai, model: gpt-4o, modelNameOverride: searcher}
  - {name: bedrock, priority: 1, provider: bedrock, model: anthropic.claude-sonnet-4-5, modelNameOverride: searcher}
  - {name: vertex-claude, priority: 2, provider: vertex, model: claude-sonnet-4-5, modelNameOverride: searcher, project: proj-one, location: us-east5}
  - {name: claude, priority: 3, provider: anthropic, model: claude-sonnet-4-5, modelNameOverride: searcher}
  - {name: gemini, provider: google-gemini, model: gemini-2.5-flash}
  failover:
    on: [rateLimit, timeout, error]
`);

const SEARCH = { anthropic_server_tools: [{ type: 'web_search_20250305', name: 'web_search' }] };
const FETCH = { anthropic_server_tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] };

/** A chat of `model`, with these provider_extras (none: null). */
function chat(model: string, extras: Record<string, unknown> | null = SEARCH): GatewayRequest {
  return chatWithExtras(model, extras);
}

describe("Anthropic's server tools: which backends run them", () => {
  it('are run by Anthropic, and by Claude on Vertex for web search only', () => {
    const search = chat('m');
    const fetch = chat('m', FETCH);
    assert.equal(runsServerTools('anthropic', 'claude-sonnet-4-5', fetch), true);
    assert.equal(runsServerTools('vertex', 'claude-sonnet-4-5@20250929', search), true);
    assert.equal(runsServerTools('vertex', 'claude-sonnet-4-5@20250929', fetch), false);
    assert.equal(runsServerTools('vertex', 'gemini-2.5-pro', search), false);
    for (const provider of ['openai', 'bedrock', 'google-gemini', 'cohere', 'openai-compatible']) {
      assert.equal(runsServerTools(provider, 'claude-sonnet-4-5', search), false, provider);
    }
  });

  it('filter a chat only when it asks for one', () => {
    assert.equal(isSpecialRequest(chat('m')), true);
    assert.equal(isSpecialRequest(chat('m', { top_k: 3 })), false);
    assert.equal(servesRequest('openai', chat('m', null), 'gpt-4o'), true);
    assert.equal(servesRequest('openai', chat('m'), 'gpt-4o'), false);
  });
});

describe("FailoverRouter: Anthropic's server tools", () => {
  it('calls only the backends that run the tool, failing over from one to the next', async () => {
    const providers = new ScriptedProviders({ 'vertex-claude': unavailable });
    const router = new FailoverRouter({ config: () => MIXED, providers, sleep: async () => {} });
    const answer = await router.route(chat('searcher'), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'claude');
    assert.deepEqual(
      providers.calls.map((call) => call.target.backendName),
      ['vertex-claude', 'claude'],
    );
  });

  it('skips Claude on Vertex for web fetch', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    const answer = await router.route(chat('searcher', FETCH), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'claude');
    assert.equal(providers.calls.length, 1);
  });

  it('refuses with a 400 naming the tool and its runners when no backend runs it', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    await assert.rejects(
      router.route(chat('gemini-2.5-flash'), new AbortController().signal),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'tools' &&
        /the web_search server tool is run by Anthropic backends and Claude models on Vertex AI only, and no backend of "gemini-2.5-flash"/.test(
          error.message,
        ),
    );
    assert.equal(providers.calls.length, 0);
  });
});

describe('unservedProviderFeature', () => {
  it("is the 400 naming a provider-run tool, Anthropic's server tool or Gemini's built-in one", () => {
    const server = unservedProviderFeature(chat('searcher', FETCH));
    assert.equal(server?.code, DataPlaneErrorCode.InvalidRequest);
    assert.match(server?.message ?? '', /the web_fetch server tool is run by/);
    const gemini = unservedProviderFeature(
      chat('searcher', { gemini_tools: [{ googleSearch: {} }] }),
    );
    assert.equal(gemini?.code, DataPlaneErrorCode.InvalidRequest);
    assert.match(gemini?.message ?? '', /Gemini and Vertex Gemini backends only/);
    assert.equal(unservedProviderFeature(chat('searcher', null)), undefined);
  });
});
