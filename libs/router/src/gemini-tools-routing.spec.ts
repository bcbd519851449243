import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequest } from '@aigw/contracts/data-plane';
import { isSpecialRequest, runsGeminiTools, servesRequest } from './domain/operation-support';

// A chat asking for Gemini's built-in tools (googleSearch, codeExecution...) goes to the
// chain's Gemini backends only: failover skips the others rather than send them a request
// they would answer without the tool; a chain with none is the client's 400 naming it.

const TOOLS = { gemini_tools: [{ googleSearch: {} }, { codeExecution: {} }] };

/** A chat of `model`, with these provider_extras (none: null). */
function chat(model: string, extras: Record<string, unknown> | null = TOOLS): GatewayRequest {
  return {
    requestId: 'r1',
    operation: 'chat',
    requestedModel: model,
    stream: false,
    clientWantsStreamUsage: false,
    body: {
      model,
      messages: [{ role: 'user', content: 'hi' }],
      ...(extras ? { provider_extras: extras } : {}),
    },
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
  };
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
