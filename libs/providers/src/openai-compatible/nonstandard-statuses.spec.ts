import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FakeOpenAiUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { OpenAiCompatibleAdapter } from './openai-compatible.adapter';

// Statuses outside HTTP's own that providers of this family document. Groq answers 498
// when its flex tier is at capacity ("try again later", console.groq.com/docs/flex-processing),
// and Groq and Cohere answer 499 for a request cancelled on their side (retryable, by their
// error pages). Neither is the client's request at fault, which a 4xx was taken for.

const request: GatewayRequest = gatewayChatRequest(
  { model: 'llama-3.3-70b-versatile', service_tier: 'flex' },
  { requestedModel: 'llama-3.3-70b-versatile' },
);

describe('statuses of their own that OpenAI-compatible providers answer', () => {
  const upstream = new FakeOpenAiUpstream();
  const adapter = new OpenAiCompatibleAdapter();
  let target: UpstreamTarget;

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'groq', model: 'llama-3.3-70b-versatile', baseUrl: upstream.baseUrl },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'gsk_test_key_123456' },
    );
  });
  after(() => upstream.stop());

  const failure = async (status: number, body: unknown): Promise<DataPlaneError> => {
    upstream.next({ kind: 'status', status, body });
    const error: unknown = await adapter
      .invoke({ request, target, signal: new AbortController().signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof DataPlaneError, String(error));
    return error;
  };

  it("takes Groq's 498 (flex tier at capacity) as a rate limit: failed over, a client's 429", async () => {
    const error = await failure(498, {
      error: { message: 'Flex tier capacity exceeded', type: 'capacity_exceeded' },
    });
    assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited);
    assert.equal(error.trigger, 'rateLimit');
    assert.equal(error.httpStatus, 429);
    assert.equal(error.upstreamStatus, 498);
  });

  it('takes a 499 (cancelled at the provider) as the backend failing, not the request', async () => {
    const error = await failure(499, { error: { message: 'Request cancelled' } });
    assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
    assert.equal(error.trigger, 'error');
    assert.equal(error.upstreamStatus, 499);
  });
  it("takes Groq's 413 over its tokens-per-minute limit as a rate limit, not the client's request", async () => {
    // Groq answers a request larger than the plan's tokens per minute with 413 and the code
    // rate_limit_exceeded (OpenAI answers the same case 429): another backend can serve it.
    const error = await failure(413, {
      error: {
        message:
          'Request too large for model `llama-3.3-70b-versatile` in organization ' +
          '`org_01kgg5588eftc8k70aes4864eb` service tier `on_demand` on tokens per minute ' +
          '(TPM): Limit 12000, Requested 14137, please reduce your message size and try again.',
        type: 'tokens',
        code: 'rate_limit_exceeded',
      },
    });
    assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited);
    assert.equal(error.trigger, 'rateLimit');
    assert.equal(error.httpStatus, 429);
    assert.equal(error.upstreamStatus, 413);
    assert.match(error.message, /Request too large for model/);
  });

  it('keeps a 413 without a rate-limit code as the request refused', async () => {
    const error = await failure(413, {
      error: { message: 'Request Entity Too Large', type: 'invalid_request_error' },
    });
    assert.equal(error.code, DataPlaneErrorCode.UpstreamRejected);
    assert.equal(error.httpStatus, 400);
  });
});
