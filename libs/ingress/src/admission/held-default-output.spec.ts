import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimatePromptTokensUpperBound, type GatewayRequest } from '@aigw/contracts/data-plane';
import { admittedRequest } from './budget-admission';
import { admissionOn } from './admission-fixture';

// The output admission holds for a request without max_tokens goes on with the admitted
// request (GatewayRequest.heldOutputTokens): a Claude adapter asks for it as it is. The
// default it came from goes on too (defaultMaxOutputTokens), for an adapter of an older
// build, which reckons the output from it.

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
    assert.equal(routed.heldOutputTokens, 1000);
    assert.equal(routed.defaultMaxOutputTokens, 1000);
    assert.equal(routed.reservationId, admitted.reservationId);
  });

  it('goes on when no limit binds the request too, so Claude answers alike either way', async () => {
    const { admission } = admissionOn(BACKEND, '', undefined, { defaultMaxOutputTokens: 1000 });
    const admitted = await admission.admit(unbounded('bob'));
    assert.equal(admitted.reservationId, undefined, 'nothing held');
    const routed = admittedRequest(unbounded('bob'), admitted);
    assert.equal(routed.heldOutputTokens, 1000);
    assert.equal(routed.defaultMaxOutputTokens, 1000);
  });

  it('is left out for a request with max_tokens: the client’s own is sent', async () => {
    const { admission } = admissionOn(BACKEND, '', undefined, { defaultMaxOutputTokens: 1000 });
    const bounded = { ...unbounded('carol'), body: { ...unbounded('carol').body, max_tokens: 7 } };
    const routed = admittedRequest(bounded, await admission.admit(bounded));
    assert.equal(Object.hasOwn(routed, 'heldOutputTokens'), false);
    assert.equal(routed.defaultMaxOutputTokens, 1000);
  });
});

describe('a request that asks for reasoning is held its room when it sets no max_tokens', () => {
  const perDay = '  tokenBudget: {perUser: {limit: 1000000, period: 1d}}';
  const messages = [{ role: 'user', content: 'Think it over' }];
  let users = 0;
  /**
   * The output held for a request of `fields`, and what goes on for the adapter: the output
   * held (stamped) and the default it came from (carried).
   */
  const held = async (fields: Record<string, unknown>, defaultMaxOutputTokens = 1000) => {
    const { admission } = admissionOn(BACKEND, perDay, undefined, { defaultMaxOutputTokens });
    const request: GatewayRequest = {
      ...unbounded(`u${++users}`),
      body: { model: 'chat', messages, ...fields },
    };
    const admitted = await admission.admit(request);
    const remaining = Number(admitted.headers['x-ratelimit-remaining-tokens']);
    const routed = admittedRequest(request, admitted);
    return {
      output: 1_000_000 - remaining - estimatePromptTokensUpperBound(request.body),
      stamped: routed.heldOutputTokens,
      carried: routed.defaultMaxOutputTokens,
    };
  };

  it('holds 16384 for an effort in each dialect the edges write, and for adaptive thinking', async () => {
    // Chat's reasoning_effort (the Responses edge's reasoning.effort and Gemini's
    // thinkingLevel arrive as it), the Messages edge's output_config.effort, and adaptive
    // thinking (Gemini's thinkingBudget -1 too).
    for (const fields of [
      { reasoning_effort: 'low' },
      { reasoning_effort: 'high' },
      { output_config: { effort: 'medium' } },
      { thinking: { type: 'adaptive' } },
      { thinking: { type: 'adaptive' }, reasoning_effort: 'max' },
    ]) {
      assert.deepEqual(
        await held(fields),
        { output: 16_384, stamped: 16_384, carried: 1000 },
        JSON.stringify(fields),
      );
    }
  });

  it("holds a client's thinking budget and the reasoning default after it", async () => {
    const thinking = { type: 'enabled', budget_tokens: 2048 };
    const budgeted = { output: 2048 + 16_384, stamped: 2048 + 16_384, carried: 1000 };
    assert.deepEqual(await held({ thinking }), budgeted);
    // Thinking the client set wins over an effort of none, as the adapters read it.
    assert.deepEqual(await held({ thinking, reasoning_effort: 'none' }), budgeted);
  });

  it('holds what the client bounded the output to, reasoning or not', async () => {
    // Nothing stamped: the adapter sends the client's own.
    assert.deepEqual(await held({ reasoning_effort: 'high', max_tokens: 2000 }), {
      output: 2000,
      stamped: undefined,
      carried: 1000,
    });
    assert.deepEqual(await held({ thinking: { type: 'adaptive' }, max_completion_tokens: 3000 }), {
      output: 3000,
      stamped: undefined,
      carried: 1000,
    });
  });

  it('holds the plain default for a request without reasoning, or with it turned off', async () => {
    for (const fields of [
      {},
      { reasoning_effort: 'none' },
      { output_config: { effort: 'none' } },
      { thinking: { type: 'disabled' } },
      { thinking: { type: 'disabled' }, reasoning_effort: 'high' },
      { thinking: { type: 'adaptive' }, reasoning_effort: 'none' },
      { output_config: { format: { type: 'json_schema', schema: {} } } },
    ]) {
      assert.deepEqual(
        await held(fields),
        { output: 1000, stamped: 1000, carried: 1000 },
        JSON.stringify(fields),
      );
    }
  });

  it('stamps the output held for each choice, not for them all', async () => {
    assert.deepEqual(await held({ n: 2, reasoning_effort: 'low' }), {
      output: 2 * 16_384,
      stamped: 16_384,
      carried: 1000,
    });
  });

  it('keeps a configured default above 16384 for reasoning too', async () => {
    assert.deepEqual(await held({ reasoning_effort: 'high' }, 20_000), {
      output: 20_000,
      stamped: 20_000,
      carried: 20_000,
    });
    assert.deepEqual(await held({ thinking: { type: 'enabled', budget_tokens: 1024 } }, 20_000), {
      output: 1024 + 20_000,
      stamped: 1024 + 20_000,
      carried: 20_000,
    });
  });
});
