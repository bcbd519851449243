import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { configFromYaml } from '@aigw/testing';
import { isSpecialRequest, runsGeminiTools, servesRequest } from './domain/operation-support';
import { FailoverRouter } from './failover-router';
import { chatWithExtras, ScriptedProviders, unavailable } from './testing/scripted-providers';

// A chat asking for Gemini's built-in tools (googleSearch, codeExecution...) goes to the
// chain's Gemini backends only: failover skips the others rather than send them a request
// they would answer without the tool; a chain with none is the client's 400 naming it.

const MIXED = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: search}
spec:
  backends:
  - {name: openai, priority: 0, provider: openai, model: gpt-4o, modelNameOverride: searcher}
  - {name: vertex-claude, priority: 1, provider: vertex, model: claude-sonnet-4-5, modelNameOverride: searcher, project: proj-one, location: us-east5}
  - {name: gemini, priority: 2, provider: google-gemini, model: gemini-2.5-flash, modelNameOverride: searcher}
  - {name: vertex-gemini, priority: 3, provider: vertex, model: gemini-2.5-pro, modelNameOverride: searcher, project: proj-one, location: us-central1}
  - {name: claude, provider: anthropic, model: claude-haiku-4-5}
  failover:
    on: [rateLimit, timeout, error]
`);

const TOOLS = { gemini_tools: [{ googleSearch: {} }, { codeExecution: {} }] };

/** A chat of `model`, with these provider_extras (none: null). */
function chat(model: string, extras: Record<string, unknown> | null = TOOLS): GatewayRequest {
  return chatWithExtras(model, extras);
}

describe("Gemini's built-in tools: which backends run them", () => {
  it('are run by Gemini and Vertex Gemini, not Claude on Vertex nor any other provider', () => {
    assert.equal(runsGeminiTools('google-gemini', 'gemini-2.5-flash'), true);
    assert.equal(runsGeminiTools('gemini', 'gemini-2.5-flash'), true);
    assert.equal(runsGeminiTools('vertex', 'gemini-2.5-pro'), true);
    assert.equal(runsGeminiTools('vertex', 'publishers/google/models/gemini-2.5-pro'), true);
    assert.equal(runsGeminiTools('vertex', 'claude-sonnet-4-5@20250929'), false);
    assert.equal(runsGeminiTools('vertex', 'publishers/anthropic/models/claude-x'), false);
    for (const provider of ['openai', 'anthropic', 'bedrock', 'azure', 'openai-compatible']) {
      assert.equal(runsGeminiTools(provider, 'gemini-2.5-flash'), false, provider);
    }
  });

  it('filter a chat only when it asks for one', () => {
    assert.equal(isSpecialRequest(chat('m')), true);
    assert.equal(isSpecialRequest(chat('m', { top_k: 3 })), false);
    assert.equal(isSpecialRequest(chat('m', null)), false);
    assert.equal(servesRequest('openai', chat('m', null), 'gpt-4o'), true);
    assert.equal(servesRequest('openai', chat('m'), 'gpt-4o'), false);
  });
});

describe("FailoverRouter: Gemini's built-in tools", () => {
  it('calls only the Gemini backends of the chain, failing over from one to the next', async () => {
    const providers = new ScriptedProviders({ gemini: unavailable });
    const router = new FailoverRouter({ config: () => MIXED, providers, sleep: async () => {} });
    const answer = await router.route(chat('searcher'), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'vertex-gemini');
    assert.deepEqual(
      providers.calls.map((call) => call.target.backendName),
      ['gemini', 'vertex-gemini'],
    );
  });

  it('keeps the whole chain for a chat without them', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    const answer = await router.route(chat('searcher', null), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'openai');
  });

  it('refuses with a 400 naming the tool when no backend runs it, calling none', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    await assert.rejects(
      router.route(chat('claude-haiku-4-5'), new AbortController().signal),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'tools' &&
        /the googleSearch tool is run by Gemini and Vertex Gemini backends only/.test(
          error.message,
        ),
    );
    assert.equal(providers.calls.length, 0);
  });
});
