// A client names any model it likes on a route with a wildcard backend, newlines included.
// The models that may serve a request are remembered per requested model and allowed
// list: a name built to look like another request's model and allowed list must not hand
// that request its own chain, or a tier's callers are held on a model that is not theirs
// (no per-model hold, no dollar price) and a burst of them is admitted past the limit.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimatePromptTokensUpperBound, type GatewayRequest } from '@aigw/contracts/data-plane';
import { admissionOn, refusalOf } from './admission-fixture';

const setup = () =>
  admissionOn(
    `  - {name: limited, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}
  - {name: any, priority: 1, provider: openai}`,
    `  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 300}
  costControl:
    maxDailyCostPerUser: 1
    modelPricing:
      gpt-4-turbo: {inputPer1k: 1, outputPer1k: 1}`,
  );

const ask = (
  user: string,
  model: string,
  allowedModels: readonly string[] = [],
): GatewayRequest => ({
  requestId: 'r',
  operation: 'chat',
  requestedModel: model,
  stream: false,
  clientWantsStreamUsage: false,
  body: { model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 100 },
  caller: { userKey: user },
  allowedModels,
  forwardHeaders: {},
});

describe('BudgetAdmission and a model name shaped like a model and its allowed list', () => {
  it("still holds a tier's callers on the per-model limit of the model that serves them", async () => {
    const { admission } = setup();
    // Asked first, by anyone: the wildcard backend would pass "chat\nchat" upstream.
    await admission.admit(ask('mallory', 'chat\nchat'));
    const perRequest = estimatePromptTokensUpperBound(ask('x', 'chat').body) + 100;
    const fits = Math.floor(300 / perRequest);
    // Callers of a tier allowed `chat`: held on gpt-4-turbo's 300 tokens a minute.
    for (let i = 0; i < fits; i++) {
      const admitted = await admission.admit(ask(`caller-${i}`, 'chat', ['chat']));
      assert.equal(admitted.headers['x-ratelimit-limit-tokens'], '300', `caller ${i}`);
    }
    const refusal = await refusalOf(admission.admit(ask('one-too-many', 'chat', ['chat'])));
    assert.equal(refusal.httpStatus, 429);
    assert.match(refusal.message, /tokenRateLimit\.perModel\.tokensPerMinute/);
  });

  it('still prices their worst case on that model against the dollar cap', async () => {
    const { admission } = setup();
    await admission.admit(ask('mallory', 'chat\nchat'));
    // ~$0.1 a call at $1 per 1k tokens: ten fit in the $1 cap of one caller, not eleven.
    const perRequest = estimatePromptTokensUpperBound(ask('x', 'chat').body) + 100;
    const fits = Math.floor(1000 / perRequest);
    let admitted = 0;
    for (let i = 0; i <= fits; i++) {
      try {
        await admission.admit({ ...ask('alice', 'chat', ['chat']), requestId: `r${i}` });
        admitted++;
      } catch {
        break;
      }
    }
    assert.ok(admitted <= fits, `${admitted} calls of $${perRequest / 1000} held in a $1 cap`);
  });
});
