import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { configFromYaml } from '@aigw/testing';
import { isSpecialRequest, servesRequest } from './domain/operation-support';
import { FailoverRouter } from './failover-router';
import { chatWithExtras, ScriptedProviders, unavailable } from './testing/scripted-providers';

// A chat asking for image output (a Gemini client's responseModalities IMAGE) goes to the
// chain's Gemini backends only, as Gemini's built-in tools do: another backend would answer
// the text alone, the image asked for left out; a chain with none is the client's 400.

const MIXED = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: painter}
spec:
  backends:
  - {name: openai, priority: 0, provider: openai, model: gpt-4o, modelNameOverride: painter}
  - {name: vertex-claude, priority: 1, provider: vertex, model: claude-sonnet-4-5, modelNameOverride: painter, project: proj-one, location: us-east5}
  - {name: gemini, priority: 2, provider: google-gemini, model: gemini-2.5-flash-image, modelNameOverride: painter}
  - {name: vertex-gemini, priority: 3, provider: vertex, model: gemini-2.5-flash-image, modelNameOverride: painter, project: proj-one, location: us-central1}
  - {name: claude, provider: anthropic, model: claude-haiku-4-5}
  failover:
    on: [rateLimit, timeout, error]
`);

const IMAGE = { response_modalities: ['TEXT', 'IMAGE'] };

describe('image output: which requests are filtered', () => {
  it('a chat asking for IMAGE, not one asking for TEXT alone', () => {
    assert.equal(isSpecialRequest(chatWithExtras('m', IMAGE)), true);
    assert.equal(isSpecialRequest(chatWithExtras('m', { response_modalities: ['TEXT'] })), false);
    assert.equal(servesRequest('openai', chatWithExtras('m', IMAGE), 'gpt-4o'), false);
    assert.equal(servesRequest('vertex', chatWithExtras('m', IMAGE), 'claude-sonnet-4-5'), false);
    assert.equal(servesRequest('google-gemini', chatWithExtras('m', IMAGE), 'gemini-x'), true);
  });
});

describe('FailoverRouter: image output', () => {
  it('calls only the Gemini backends of the chain, failing over from one to the next', async () => {
    const providers = new ScriptedProviders({ gemini: unavailable });
    const router = new FailoverRouter({ config: () => MIXED, providers, sleep: async () => {} });
    const answer = await router.route(
      chatWithExtras('painter', IMAGE),
      new AbortController().signal,
    );
    assert.equal(answer.servedBy.backend, 'vertex-gemini');
    assert.deepEqual(
      providers.calls.map((call) => call.target.backendName),
      ['gemini', 'vertex-gemini'],
    );
  });

  it('refuses with a 400 naming generationConfig.responseModalities when no backend makes images, calling none', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    await assert.rejects(
      router.route(chatWithExtras('claude-haiku-4-5', IMAGE), new AbortController().signal),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'generationConfig.responseModalities' &&
        /responseModalities IMAGE is answered by Gemini and Vertex Gemini backends only/.test(
          error.message,
        ),
    );
    assert.equal(providers.calls.length, 0);
  });
});

describe('FailoverRouter: image output kept in a geography', () => {
  it('refuses with a 400 naming both, not blaming the model, since no backend can do both', async () => {
    // Gemini backends make images, and only Anthropic's own API keeps an inference_geo:
    // the request is the client's contradiction, whatever backends the model has.
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    await assert.rejects(
      router.route(
        chatWithExtras('painter', { ...IMAGE, inference_geo: 'us' }),
        new AbortController().signal,
      ),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'inference_geo' &&
        /responseModalities IMAGE/.test(error.message) &&
        /no backend does both/.test(error.message) &&
        !/no backend of "painter"/.test(error.message),
      'the 400 names the contradiction',
    );
    assert.equal(providers.calls.length, 0);
  });

  it('refuses the same for a Gemini built-in tool with an inference_geo', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    await assert.rejects(
      router.route(
        chatWithExtras('painter', { gemini_tools: [{ googleSearch: {} }], inference_geo: 'us' }),
        new AbortController().signal,
      ),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.param === 'inference_geo' &&
        /googleSearch/.test(error.message) &&
        /no backend does both/.test(error.message),
    );
    assert.equal(providers.calls.length, 0);
  });
});
