import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequest, JsonObject, UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  FakeOpenAiUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { OpenAiCompatibleAdapter } from './openai-compatible.adapter';

// Mistral's /v1/embeddings names the size `output_dimension` (codestral-embed takes one) and
// refuses any field it does not define (422 "Extra inputs are not permitted"): OpenAI's
// `dimensions`, and the `user` some clients send, were passed on and refused.

function embeddings(body: JsonObject): GatewayRequest {
  return gatewayChatRequest(
    {},
    {
      operation: 'embeddings',
      requestedModel: 'codestral-embed',
      body: { model: 'codestral-embed', input: ['def fib(n):'], ...body },
    },
  );
}

describe('embeddings on Mistral', () => {
  const upstream = new FakeOpenAiUpstream();
  const adapter = new OpenAiCompatibleAdapter();
  let target: UpstreamTarget;

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'mistral', model: 'codestral-embed', baseUrl: upstream.baseUrl },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'mistral-test-key' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const sent = async (body: JsonObject, provider = 'mistral'): Promise<JsonObject> => {
    await adapter.invoke({
      request: embeddings(body),
      target: { ...target, provider },
      signal: new AbortController().signal,
    });
    return upstream.calls[0].body;
  };

  it('sends dimensions as output_dimension and no user, with the encoding asked', async () => {
    const body = await sent({ dimensions: 256, user: 'u-1', encoding_format: 'base64' });
    assert.equal(body.output_dimension, 256);
    assert.equal('dimensions' in body, false);
    assert.equal('user' in body, false);
    assert.equal(body.encoding_format, 'base64');
  });

  it("keeps the client's own output_dimension, and other providers' bodies as they came", async () => {
    assert.equal((await sent({ dimensions: 256, output_dimension: 512 })).output_dimension, 512);
    upstream.reset();
    // Three: the size the fake answers, as a server that takes dimensions would.
    const together = await sent({ dimensions: 3, user: 'u-1' }, 'together');
    assert.equal(together.dimensions, 3);
    assert.equal(together.user, 'u-1');
  });
});
