import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import {
  FakeAnthropicUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { parseChatRequest } from '../core/chat-request';
import { withoutGatewayExtensions } from '../core/openai-extensions';
import { AnthropicAdapter } from './anthropic.adapter';

// A Messages client's `inference_geo` (where Claude may run: "us" keeps inference in the
// US, for data residency) rides in provider_extras. Only Anthropic's own API takes it; a
// backend that cannot keep the answer in that geography refuses it by name, never answering
// from anywhere as if the client had not asked.

const US_ONLY = { provider_extras: { inference_geo: 'us' } };

const refusesGeo = (error: unknown): boolean =>
  error instanceof DataPlaneError &&
  error.param === 'inference_geo' &&
  /inference_geo/.test(error.message);

describe("AnthropicAdapter with a Messages client's inference_geo", () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();

  before(() => upstream.start());
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('sends it to Anthropic as sent', async () => {
    await adapter.invoke({
      request: gatewayChatRequest(US_ONLY),
      target: upstreamTarget(
        { provider: 'anthropic', model: 'claude-opus-4-6', baseUrl: upstream.baseUrl },
        { headerName: 'x-api-key', value: 'sk-ant-secret' },
      ),
      signal: new AbortController().signal,
    });
    const sent = upstream.calls[0]?.body as JsonObject;
    assert.equal(sent.inference_geo, 'us');
    assert.equal(sent.provider_extras, undefined);
  });

  it('reports where the call ran (usage.inference_geo), plain and streamed, for its price', async () => {
    for (const stream of [false, true]) {
      upstream.reset();
      const answer = await adapter.invoke({
        request: gatewayChatRequest({ ...US_ONLY, stream }),
        target: upstreamTarget(
          { provider: 'anthropic', model: 'claude-opus-4-6', baseUrl: upstream.baseUrl },
          { headerName: 'x-api-key', value: 'sk-ant-secret' },
        ),
        signal: new AbortController().signal,
      });
      if (answer.kind === 'stream') for await (const chunk of answer.events) void chunk;
      assert.equal((await answer.usage).inferenceGeo, 'us', `stream: ${stream}`);
    }
  });
});

describe('inference_geo on backends that cannot honour it', () => {
  const body = (extras: JsonObject): JsonObject =>
    gatewayChatRequest({ provider_extras: extras }).body;

  it('is refused by name on translating backends (Bedrock, Vertex, Gemini, Cohere)', () => {
    assert.throws(() => parseChatRequest(body({ inference_geo: 'us' })), refusesGeo);
  });

  it('is refused by name on OpenAI-format backends', () => {
    assert.throws(() => withoutGatewayExtensions(body({ inference_geo: 'us' })), refusesGeo);
  });

  it('passes as nothing where it asks for the default, "global"', () => {
    assert.doesNotThrow(() => parseChatRequest(body({ inference_geo: 'global' })));
    const sent = withoutGatewayExtensions(body({ inference_geo: 'global' }));
    assert.equal(sent.provider_extras, undefined);
    assert.equal(sent.inference_geo, undefined);
  });

  it('must be a string', () => {
    assert.throws(
      () => parseChatRequest(body({ inference_geo: 7 })),
      (error: unknown) => error instanceof DataPlaneError && error.param === 'inference_geo',
    );
  });
});
