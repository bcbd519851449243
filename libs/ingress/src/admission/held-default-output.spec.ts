import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimatePromptTokensUpperBound, type GatewayRequest } from '@aigw/contracts/data-plane';
import { admittedRequest } from './budget-admission';
import { admissionOn } from './admission-fixture';

// The default output admission holds for a request without max_tokens goes on with the
// admitted request (GatewayRequest.defaultMaxOutputTokens): a Claude adapter asks for it.

const BACKEND =
  '  - {name: b, provider: anthropic, model: claude-sonnet-4-5, modelNameOverride: chat}';

/** A chat request without max_tokens. */
const unbounded = (userKey: string): GatewayRequest => ({
  requestId: `r-${userKey}`,
  operation: 'chat',
  requestedModel: 'chat',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'chat', messages: [{ role: 'user', content: 'hi' }] },
  caller: { userKey },
  allowedModels: [],
  forwardHeaders: {},
});

describe('the default output admission held goes on with the request', () => {
  it('is the amount held for a request without max_tokens', async () => {
    const perMinute = '  tokenBudget: {perMinute: {limit: 10000}}';
    const { admission } = admissionOn(BACKEND, perMinute, undefined, {
      defaultMaxOutputTokens: 1000,
    });
    const request = unbounded('alice');
    const admitted = await admission.admit(request);
    const held = 10_000 - Number(admitted.headers['x-ratelimit-remaining-tokens']);
    assert.equal(held, estimatePromptTokensUpperBound(request.body) + 1000);
    const routed = admittedRequest(request, admitted);
    assert.equal(routed.defaultMaxOutputTokens, 1000);
    assert.equal(routed.reservationId, admitted.reservationId);
  });

  it('goes on when no limit binds the request too, so Claude answers alike either way', async () => {
    const { admission } = admissionOn(BACKEND, '', undefined, { defaultMaxOutputTokens: 1000 });
    const admitted = await admission.admit(unbounded('bob'));
    assert.equal(admitted.reservationId, undefined, 'nothing held');
    assert.equal(admittedRequest(unbounded('bob'), admitted).defaultMaxOutputTokens, 1000);
  });
});
