import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneErrorCode, type GatewayRequest } from '@aigw/contracts/data-plane';
import {
  FakeGeminiUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { GeminiAdapter } from './gemini.adapter';

// A wildcard backend (no `model`) sends the client's model name upstream as it came: the
// name must stay one path segment of the model's URL, never reach another endpoint of
// Google's API with the gateway's key.
describe('GeminiAdapter: the model name in the URL', () => {
  const upstream = new FakeGeminiUpstream();
  const adapter = new GeminiAdapter();
  before(() => upstream.start());
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const invokeAs = async (model: string, request: GatewayRequest) => {
    const target = upstreamTarget(
      { provider: 'google-gemini', model, baseUrl: upstream.baseUrl },
      { headerName: 'x-goog-api-key', value: 'AIzaSecretKey123456' },
    );
    await adapter
      .invoke({ request, target, signal: new AbortController().signal })
      .catch(() => undefined);
    assert.equal(upstream.calls.length, 1);
    return upstream.calls[0];
  };
  const chat = () => gatewayChatRequest({ messages: [{ role: 'user', content: 'Hi' }] });

  for (const model of [
    'gemini-2.5-flash/../../../v1/files',
    'models/../../files',
    'tunedModels/x/../../../cachedContents',
    'gemini-2.5-flash:countTokens?',
    'gemini-2.5-flash#',
    'gemini%2F..%2F..%2Fother',
  ]) {
    it(`keeps ${JSON.stringify(model)} within the models path, with no query or fragment`, async () => {
      const call = await invokeAs(model, chat());
      assert.match(call.path, /^\/v1beta\/(models|tunedModels)\/[^/]+:generateContent$/);
      assert.deepEqual(call.query, {});
    });
  }

  it('still sends a plain, models/ or tunedModels/ name as the path Google documents', async () => {
    assert.equal(
      (await invokeAs('gemini-2.5-flash', chat())).path,
      '/v1beta/models/gemini-2.5-flash:generateContent',
    );
    upstream.reset();
    assert.equal(
      (await invokeAs('models/gemini-2.5-flash', chat())).path,
      '/v1beta/models/gemini-2.5-flash:generateContent',
    );
    upstream.reset();
    assert.equal(
      (await invokeAs('tunedModels/my-model-123', chat())).path,
      '/v1beta/tunedModels/my-model-123:generateContent',
    );
  });

  it('refuses a name with a lone surrogate as an invalid model, calling nothing', async () => {
    const target = upstreamTarget(
      { provider: 'google-gemini', model: 'gemini-\ud800', baseUrl: upstream.baseUrl },
      { headerName: 'x-goog-api-key', value: 'AIzaSecretKey123456' },
    );
    const refused = await adapter
      .invoke({ request: chat(), target, signal: new AbortController().signal })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.equal(
      (refused as { code?: unknown }).code,
      DataPlaneErrorCode.InvalidRequest,
      String(refused),
    );
    assert.equal((refused as { param?: unknown }).param, 'model');
    assert.equal(upstream.calls.length, 0);
  });
});
