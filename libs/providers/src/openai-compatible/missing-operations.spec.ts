import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type Operation,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FakeOpenAiUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { OpenAiCompatibleAdapter } from './openai-compatible.adapter';

// Mistral and Groq have no text completions API, Groq and DeepSeek no embeddings API, and
// DeepSeek serves completions (FIM) only under its beta base URL (api-docs.deepseek.com).
// Called anyway, the provider's 404 read as "this backend lacks its model": the call failed
// over, the client got a 502, and a few such calls cooled the backend down for every chat.

function request(operation: Operation): GatewayRequest {
  const body = operation === 'embeddings' ? { input: 'hello' } : { prompt: 'def fib(n):' };
  return gatewayChatRequest({}, { operation, requestedModel: 'm', body: { model: 'm', ...body } });
}

describe('operations a provider of the OpenAI-compatible family does not offer', () => {
  const upstream = new FakeOpenAiUpstream();
  const adapter = new OpenAiCompatibleAdapter();
  let target: UpstreamTarget;

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'mistral', model: 'm', baseUrl: upstream.baseUrl },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'test-key-123456' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const invoke = (operation: Operation, provider: string, baseUrl = upstream.baseUrl) =>
    adapter.invoke({
      request: request(operation),
      target: { ...target, provider, baseUrl },
      signal: new AbortController().signal,
    });

  for (const [provider, operation] of [
    ['mistral', 'completions'],
    ['groq', 'completions'],
    ['deepseek', 'completions'],
    ['groq', 'embeddings'],
    ['deepseek', 'embeddings'],
  ] as const) {
    it(`refuses ${operation} on ${provider} with a 400 naming both, without a call`, async () => {
      await assert.rejects(
        invoke(operation, provider),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.trigger === undefined &&
          error.message.includes(provider) &&
          error.message.includes(operation),
      );
      assert.equal(upstream.calls.length, 0);
    });
  }

  it('calls DeepSeek completions under its beta base URL, and the others that serve them', async () => {
    const beta = upstream.baseUrl.replace(/\/v1$/, '/beta');
    await invoke('completions', 'deepseek', beta).catch(() => undefined);
    assert.equal(upstream.calls[0]?.path, '/beta/completions');
    for (const [provider, operation] of [
      ['together', 'completions'],
      ['vllm', 'completions'],
      ['mistral', 'embeddings'],
    ] as const) {
      upstream.reset();
      await invoke(operation, provider);
      assert.equal(upstream.calls.length, 1, `${provider} ${operation}`);
    }
  });
});
