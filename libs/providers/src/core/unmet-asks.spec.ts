import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FakeAnthropicUpstream,
  FakeCohereUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { AnthropicAdapter } from '../anthropic/anthropic.adapter';
import { CohereAdapter } from '../cohere/cohere.adapter';
import { parseChatRequest } from './chat-request';

const user = [{ role: 'user', content: 'Weather in Paris?' }];

const WEATHER_FUNCTION = {
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
};

/** Requests whose answer would lack what they ask for, with the field each 400 names. */
const UNMET: readonly { readonly body: JsonObject; readonly param: string }[] = [
  { body: { functions: [WEATHER_FUNCTION] }, param: 'functions' },
  { body: { function_call: { name: 'get_weather' } }, param: 'function_call' },
  { body: { modalities: ['text', 'audio'] }, param: 'modalities' },
  { body: { audio: { voice: 'alloy', format: 'mp3' } }, param: 'audio' },
  { body: { web_search_options: {} }, param: 'web_search_options' },
];

function refusal(param: string): (error: unknown) => boolean {
  return (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    error.httpStatus === 400 &&
    error.param === param &&
    error.message.includes(param);
}

describe('parseChatRequest and asks a translating backend could only drop', () => {
  it('refuses each, naming its field, rather than answering without it', () => {
    for (const { body, param } of UNMET) {
      assert.throws(() => parseChatRequest({ messages: user, ...body }), refusal(param), param);
    }
  });

  it('takes what asks for nothing a text answer lacks', () => {
    for (const body of [
      { functions: [] },
      { functions: null, function_call: null },
      { function_call: 'none' },
      { function_call: 'auto' },
      { modalities: ['text'] },
      { audio: null },
      { web_search_options: null },
    ]) {
      assert.doesNotThrow(
        () => parseChatRequest({ messages: user, ...body }),
        JSON.stringify(body),
      );
    }
  });
});

describe('translating adapters refuse asks they could only drop, before any call', () => {
  const anthropic = new FakeAnthropicUpstream();
  const cohere = new FakeCohereUpstream();
  let targets: { adapter: AnthropicAdapter | CohereAdapter; target: UpstreamTarget }[] = [];

  before(async () => {
    await Promise.all([anthropic.start(), cohere.start()]);
    targets = [
      {
        adapter: new AnthropicAdapter(),
        target: upstreamTarget(
          { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: anthropic.baseUrl },
          { headerName: 'x-api-key', value: 'sk-ant-secret' },
        ),
      },
      {
        adapter: new CohereAdapter(),
        target: upstreamTarget(
          { provider: 'cohere', model: 'command-a-03-2025', baseUrl: cohere.baseUrl },
          { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'co-secret' },
        ),
      },
    ];
  });
  after(() => Promise.all([anthropic.stop(), cohere.stop()]));
  beforeEach(() => {
    anthropic.reset();
    cohere.reset();
  });

  it('answers a 400 naming the field, and the provider is never called', async () => {
    for (const { adapter, target } of targets) {
      for (const { body, param } of UNMET) {
        const request: GatewayRequest = gatewayChatRequest({ messages: user, ...body });
        await assert.rejects(
          adapter.invoke({ request, target, signal: new AbortController().signal }),
          refusal(param),
          `${target.provider}: ${param}`,
        );
      }
    }
    assert.equal(anthropic.calls.length, 0);
    assert.equal(cohere.calls.length, 0);
  });
});
