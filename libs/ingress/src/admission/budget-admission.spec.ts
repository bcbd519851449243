import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import {
  bindLimit,
  BudgetRefusal,
  HELD_FULL_RETRY_AFTER_MS,
  ExhaustionView,
  LocalBudgetStore,
  modelBudgetGate,
  modelLimits,
  userLimits,
  type BudgetStore,
} from '@aigw/budget-core';
import { BudgetState, BudgetUnit, createBudgetStateChanged, LimitKind } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  estimatePromptTokensUpperBound,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { admittedRequest, BUDGET_STORE_RETRY_AFTER_MS, BudgetAdmission } from './budget-admission';
import { admissionOn, refusalOf } from './admission-fixture';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: openai, model: m}]
  tokenBudget: {perUser: {limit: 1000, period: 1d}, perMinute: {limit: 300}}
  costControl: {maxDailyCostPerUser: 0.5, modelPricing: {m: {inputPer1k: 1, outputPer1k: 1}}}
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error('config');
const config: GatewayConfig = parsed.config;

function request(userKey: string, maxTokens: number): GatewayRequest {
  return {
    requestId: 'r',
    operation: 'chat',
    requestedModel: 'm',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'm', messages: [], max_tokens: maxTokens },
    caller: { userKey },
    allowedModels: [],
    forwardHeaders: {},
  };
}

describe('BudgetAdmission', () => {
  const start = Date.UTC(2026, 0, 1, 12, 0, 30);

  function setup() {
    let now = start;
    const admission = new BudgetAdmission(
      () => config,
      new LocalBudgetStore(':memory:'),
      new ExhaustionView(),
      { defaultMaxOutputTokens: 100, holdMs: 600_000, now: () => now },
    );
    return { admission, advance: (ms: number) => (now += ms) };
  }

  it('sends the tightest token limit left after the hold, never the dollar one', async () => {
    const { admission } = setup();
    const first = await admission.admit(request('u1', 100));
    assert.equal(first.headers['x-ratelimit-limit-tokens'], '300');
    const held = 300 - Number(first.headers['x-ratelimit-remaining-tokens']);
    assert.ok(held >= 100, `held ${held}`);
    assert.equal(first.headers['x-ratelimit-reset-tokens'], '30s');
    const second = await admission.admit(request('u1', 100));
    assert.equal(Number(second.headers['x-ratelimit-remaining-tokens']), 300 - 2 * held);
  });

  it('refuses what the window cannot hold, and admits again in the next window', async () => {
    const { admission, advance } = setup();
    await admission.admit(request('u2', 250));
    await assert.rejects(admission.admit(request('u2', 250)), DataPlaneError);
    assert.equal(
      (await admission.admit(request('u3', 250))).headers['x-ratelimit-limit-tokens'],
      '300',
    );
    advance(30_000);
    const next = await admission.admit(request('u2', 250));
    assert.equal(next.headers['x-ratelimit-reset-tokens'], '1m');
  });

  it('answers 400, not 429, to a request whose worst case exceeds a whole window', async () => {
    const { admission } = setup();
    // perMinute allows 300 tokens a window: 400 output tokens can never fit, however late.
    const tooLarge = await admission.admit(request('u4', 400)).then(
      () => assert.fail('admitted a request larger than the window'),
      (error: unknown) => error,
    );
    assert.ok(tooLarge instanceof DataPlaneError);
    assert.equal(tooLarge.httpStatus, 400);
    assert.equal(tooLarge.code, DataPlaneErrorCode.InvalidRequest);
    assert.equal(tooLarge.param, 'max_tokens');
    assert.match(tooLarge.message, /tokenBudget\.perMinute allows in a whole window \(300\)/);
    // Nothing was held for it: the caller's window is still whole.
    const next = await admission.admit(request('u4', 100));
    assert.ok(Number(next.headers['x-ratelimit-remaining-tokens']) >= 300 - 100 - 50);
  });

  it('says what to shrink in an image or embeddings request larger than the window', async () => {
    const { admission } = setup();
    const refusal = (over: Partial<GatewayRequest>) =>
      admission.admit({ ...request('u5', 1), ...over }).then(
        () => assert.fail('admitted a request larger than the window'),
        (error: unknown) => error as DataPlaneError,
      );
    // Ten high-quality images hold 10 x 6,240 output tokens: never within 300 a minute.
    const images = await refusal({
      operation: 'images',
      body: { model: 'm', prompt: 'a lighthouse', n: 10, quality: 'high' },
    });
    assert.equal(images.httpStatus, 400);
    assert.equal(images.param, 'n');
    assert.match(images.message, /ask for fewer, smaller or lower-quality images$/);
    assert.doesNotMatch(images.message, /max_tokens/);
    const embeddings = await refusal({
      operation: 'embeddings',
      body: { model: 'm', input: 'word '.repeat(400) },
    });
    assert.equal(embeddings.param, 'input');
    assert.match(embeddings.message, /send less input$/);
  });

  it('holds max_tokens for each of the n choices a request asks for', async () => {
    const { admission } = setup();
    const single = await admission.admit(request('u5', 50));
    const withChoices = await admission.admit({
      ...request('u6', 50),
      body: { model: 'm', messages: [], max_tokens: 50, n: 4 },
    });
    const held = (admitted: typeof single) =>
      300 - Number(admitted.headers['x-ratelimit-remaining-tokens']);
    assert.equal(held(withChoices) - held(single), 3 * 50);
    // Four choices of 100 cannot fit the 300-token minute at all: a 400, not a 429.
    await assert.rejects(
      admission.admit({
        ...request('u7', 100),
        body: { model: 'm', messages: [], max_tokens: 100, n: 4 },
      }),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 400,
    );
  });

  it("holds a legacy completion's max_tokens for each prompt of its list, as each is completed", async () => {
    const { admission } = setup();
    const completion = (userKey: string, prompt: unknown, extra: object = {}) =>
      admission.admit({
        ...request(userKey, 50),
        operation: 'completions',
        body: { model: 'm', prompt, max_tokens: 50, ...extra },
      });
    const held = (admitted: Awaited<ReturnType<typeof completion>>) =>
      300 - Number(admitted.headers['x-ratelimit-remaining-tokens']);
    // Prompts as token ids (a token each in the estimate), so only the choices differ.
    const one = held(await completion('u8', [[1]]));
    assert.equal(held(await completion('u9', [[1], [2], [3]])) - one, 2 * 50 + 2);
    // One list of ids is one prompt.
    assert.equal(held(await completion('u10', [1, 2, 3])) - one, 2);
    // n (or best_of) choices of each prompt: 2 x 3 choices of 50 outrun the 300-token minute.
    await assert.rejects(
      completion('u11', [[1], [2]], { n: 3 }),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 400,
    );
  });

  it('refuses with a 503 and a Retry-After, not an internal error, when the store cannot be reached', async () => {
    const down: BudgetStore = new LocalBudgetStore(':memory:');
    down.reserve = () => Promise.reject(new Error('Connection is closed.'));
    const admission = new BudgetAdmission(() => config, down, new ExhaustionView(), {
      defaultMaxOutputTokens: 100,
      holdMs: 600_000,
      now: () => start,
    });
    const refusal = await admission.admit(request('u9', 10)).then(
      () => assert.fail('admitted without the store'),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof DataPlaneError);
    assert.equal(refusal.code, DataPlaneErrorCode.BudgetUnavailable);
    assert.equal(refusal.httpStatus, 503);
    assert.equal(refusal.toOpenAiBody().error.code, 'budget_store_unavailable');
    assert.equal(refusal.retryAfterMs, BUDGET_STORE_RETRY_AFTER_MS);
    assert.doesNotMatch(refusal.message, /Connection is closed/, 'the cause stays in the logs');
  });

  it('refuses a key the broadcast said is exhausted with no call to the store', async () => {
    const calls: string[] = [];
    // Any call would be a network round trip on Redis: this store counts and refuses them.
    const unreachable: BudgetStore = {
      reserve: async () => {
        calls.push('reserve');
        throw new Error('the store was called');
      },
      release: async () => {
        calls.push('release');
        throw new Error('the store was called');
      },
      settle: async () => {
        calls.push('settle');
        throw new Error('the store was called');
      },
      adjust: async () => {
        calls.push('adjust');
        throw new Error('the store was called');
      },
      balances: async () => {
        calls.push('balances');
        throw new Error('the store was called');
      },
    };
    const view = new ExhaustionView();
    const admission = new BudgetAdmission(() => config, unreachable, view, {
      defaultMaxOutputTokens: 100,
      holdMs: 600_000,
      now: () => start,
    });
    const perUser = userLimits({ route: config.routes[0], userKey: 'spent' })
      .map((limit) => bindLimit(limit, start))
      .find((limit) => limit.kind === LimitKind.TokenBudgetPerUser)!;
    view.apply(
      createBudgetStateChanged({
        requestId: null,
        partitionKey: 'spent',
        budgetKey: 'spent',
        limitKind: LimitKind.TokenBudgetPerUser,
        windowId: perUser.windowRef.id,
        state: BudgetState.Exhausted,
        remaining: 0,
        limit: 1000,
        unit: BudgetUnit.Tokens,
        resetAt: new Date(perUser.windowRef.endsAt).toISOString(),
      }),
    );

    const refusal = await admission.admit(request('spent', 10)).then(
      () => assert.fail('admitted an exhausted key'),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof DataPlaneError);
    assert.equal(refusal.httpStatus, 429);
    assert.match(refusal.message, /tokenBudget\.perUser/);
    assert.equal(refusal.headers?.['x-ratelimit-limit-tokens'], '1000');
    assert.equal(refusal.headers?.['x-ratelimit-remaining-tokens'], '0');
    assert.equal(refusal.headers?.['x-ratelimit-reset-tokens'], '11h59m30s');
    assert.equal(refusal.retryAfterMs, perUser.windowRef.endsAt - start);
    assert.deepEqual(calls, []);
  });
});

describe('BudgetAdmission: refusal headers by unit', () => {
  const start = Date.UTC(2026, 0, 1, 12, 0, 30);
  const admissionFor = (limits: string) => {
    const result = parseGatewayConfig(
      `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: openai, model: m}]
${limits}
`,
      { missingSecrets: 'warn', env: {} },
    );
    if (!result.ok) throw new Error('config');
    return new BudgetAdmission(
      () => result.config,
      new LocalBudgetStore(':memory:'),
      new ExhaustionView(),
      { defaultMaxOutputTokens: 100, holdMs: 600_000, now: () => start },
    );
  };
  const budgetRefusalOf = (admitted: Promise<unknown>) =>
    admitted.then(
      () => assert.fail('admitted past the limit'),
      (error: unknown) => {
        assert.ok(error instanceof BudgetRefusal);
        return error;
      },
    );

  it('a dollar cap answers with Retry-After alone, no x-ratelimit-*-tokens', async () => {
    const admission = admissionFor(`  costControl:
    maxDailyCostPerUser: 0.2
    modelPricing: {m: {inputPer1k: 1, outputPer1k: 1}}`);
    await admission.admit(request('d', 150));
    const refusal = await budgetRefusalOf(admission.admit(request('d', 150)));
    assert.equal(refusal.limitKind, LimitKind.MaxDailyCostPerUser);
    assert.equal(refusal.headers, undefined);
    // Held full by the first call, not spent: retry once it ends, not at midnight.
    assert.equal(refusal.retryAfterMs, HELD_FULL_RETRY_AFTER_MS);
  });

  it('a token limit keeps its x-ratelimit-*-tokens headers', async () => {
    const admission = admissionFor(`  tokenBudget: {perMinute: {limit: 300}}`);
    await admission.admit(request('t', 250));
    const refusal = await budgetRefusalOf(admission.admit(request('t', 250)));
    assert.equal(refusal.limitKind, LimitKind.TokenBudgetPerMinute);
    assert.equal(refusal.headers?.['x-ratelimit-limit-tokens'], '300');
    assert.equal(refusal.headers?.['x-ratelimit-reset-tokens'], '30s');
    // Held full by the first call, not spent: retry once it ends, before the minute does.
    assert.equal(refusal.retryAfterMs, HELD_FULL_RETRY_AFTER_MS);
  });
});

describe('BudgetAdmission: the worst case over the models that may serve', () => {
  const start = Date.UTC(2026, 0, 1, 12, 0, 30);

  function admissionFor(yaml: string) {
    const parsed = parseGatewayConfig(yaml, { missingSecrets: 'warn', env: {} });
    if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
    const routed = parsed.config;
    return new BudgetAdmission(
      () => routed,
      new LocalBudgetStore(':memory:'),
      new ExhaustionView(),
      {
        defaultMaxOutputTokens: 100,
        holdMs: 600_000,
        now: () => start,
      },
    );
  }
  const ask = (model: string, maxTokens: number): GatewayRequest => ({
    ...request('u', maxTokens),
    requestedModel: model,
    body: { model, messages: [{ role: 'user', content: 'hello' }], max_tokens: maxTokens },
  });
  const held = (admission: { headers: Readonly<Record<string, string>> }) =>
    Number(admission.headers['x-ratelimit-limit-tokens']) -
    Number(admission.headers['x-ratelimit-remaining-tokens']);

  it('holds the pricier failover backend, not just the primary', async () => {
    const admission = admissionFor(`kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: cheap, priority: 0, provider: openai, model: gpt-3.5-turbo, modelNameOverride: chat}
  - {name: pricey, priority: 1, provider: openai, model: gpt-4, modelNameOverride: chat}
  failover: {on: [error]}
  modelCosts:
  - {model: gpt-4, multiplier: 10}
  tokenBudget: {perUser: {limit: 1000000, period: 1d}}
`);
    const req = ask('chat', 100);
    const tokens = estimatePromptTokensUpperBound(req.body) + 100;
    assert.equal(held(await admission.admit(req)), tokens * 10);
  });

  it('holds a pricier retry.fallbackOrder model, in tokens and in dollars', async () => {
    const admission = admissionFor(`kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, provider: openai, model: small}
  - {name: b, provider: openai, model: large}
  - {name: c, provider: openai, model: huge}
  retry: {maxAttempts: 2, fallbackStrategy: cheaperModel, fallbackOrder: [huge, small, large]}
  modelCosts:
  - {model: huge, multiplier: 50}
  - {model: large, multiplier: 3}
  tokenBudget: {perUser: {limit: 1000000, period: 1d}}
  costControl:
    maxDailyCostPerUser: 1
    modelPricing:
      large: {inputPer1k: 1, outputPer1k: 1}
`);
    const req = ask('small', 600);
    const tokens = estimatePromptTokensUpperBound(req.body) + 600;
    // 'small' falls back to 'large' (3x, and $1 per 1k tokens), never to 'huge' before it.
    assert.equal(held(await admission.admit(req)), tokens * 3);
    // The dollar cap holds the worst case too: the first call's $0.6 leaves no room for another.
    await assert.rejects(admission.admit(ask('small', 600)), (error: DataPlaneError) =>
      error.message.includes(LimitKind.MaxDailyCostPerUser),
    );
  });

  it("holds US-only inference (inference_geo: us) at Anthropic's 1.1 times the price", async () => {
    const admission = admissionFor(`kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: claude, provider: anthropic, model: claude-opus-4-6}]
  costControl:
    maxDailyCostPerUser: 1
    modelPricing:
      claude-opus-4-6: {inputPer1k: 1, outputPer1k: 1}
`);
    // A worst case of 950 tokens: $0.95 anywhere, $1.045 on US-only infrastructure.
    const prompt = estimatePromptTokensUpperBound(ask('claude-opus-4-6', 1).body);
    const usOnly = (geo: string): GatewayRequest => {
      const asked = ask('claude-opus-4-6', 950 - prompt);
      return { ...asked, body: { ...asked.body, provider_extras: { inference_geo: geo } } };
    };
    await assert.rejects(
      admission.admit(usOnly('us')),
      (error: DataPlaneError) =>
        error.code === DataPlaneErrorCode.InvalidRequest && /1\.045/.test(error.message),
    );
    await admission.admit(usOnly('global'));
  });
});

describe('BudgetAdmission: tokenRateLimit.perModel', () => {
  const start = Date.UTC(2026, 0, 1, 12, 0, 30);

  const setup = (failover: string, perUser = '', wildcard = true) =>
    admissionOn(
      `  - {name: limited, priority: 0, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}
  - {name: spare, priority: 1, provider: openai, model: gpt-3.5-turbo, modelNameOverride: chat}
${wildcard ? '  - {name: any, priority: 2, provider: openai}' : ''}`,
      `${failover}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 300}
      gpt-3.5-turbo: {tokensPerMinute: 1000}
${perUser}`,
    );
  const ask = (user: string, model = 'chat', maxTokens = 100): GatewayRequest => ({
    ...request(user, maxTokens),
    requestedModel: model,
    body: { model, messages: [{ role: 'user', content: 'hello' }], max_tokens: maxTokens },
  });
  const perRequest = estimatePromptTokensUpperBound(ask('x').body) + 100;
  const fits = Math.floor(300 / perRequest);

  it("holds the primary backend's model limit, shared by every caller", async () => {
    const { admission } = setup('');
    for (let i = 0; i < fits; i++) {
      const admitted = await admission.admit(ask(`caller-${i}`));
      assert.equal(admitted.headers['x-ratelimit-limit-tokens'], '300');
      assert.equal(
        admitted.headers['x-ratelimit-remaining-tokens'],
        String(300 - (i + 1) * perRequest),
      );
    }
    // Another caller, with budgets of its own to spare: the model's limit is full.
    const refusal = await refusalOf(admission.admit(ask('another')));
    assert.equal(refusal.httpStatus, 429);
    assert.match(refusal.message, /tokenRateLimit\.perModel\.tokensPerMinute/);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-tokens': '300',
      'x-ratelimit-remaining-tokens': String(300 - fits * perRequest),
      'x-ratelimit-reset-tokens': '30s',
    });
  });

  it("answers 400 to a request larger than a whole window of the model's limit that must serve it", async () => {
    // Without budgetExceeded failover the primary's limit binds: 400 output tokens never fit 300.
    const { admission } = setup('');
    const tooLarge = await refusalOf(admission.admit(ask('big', 'chat', 400)));
    assert.equal(tooLarge.httpStatus, 400);
    assert.equal(tooLarge.param, 'max_tokens');
    assert.match(
      tooLarge.message,
      /tokenRateLimit\.perModel\.tokensPerMinute allows in a whole window \(300\)/,
    );
    // With it, too large for every model of the chain is a 400 too, before any model is held
    // or marked (the router would otherwise skip the primary for everyone this minute)...
    const diverting = setup('  failover: {on: [budgetExceeded]}', '', false);
    const nowhere = await refusalOf(diverting.admission.admit(ask('huge', 'chat', 1000)));
    assert.equal(nowhere.httpStatus, 400);
    assert.match(nowhere.message, /allows in a whole window \(1000\)/, 'the roomiest limit');
    modelBudgetGate(diverting.view, () => start)(diverting.route, 'gpt-4-turbo');
    // ...and a model that fits serves one too large for the primary alone.
    const served = await diverting.admission.admit(ask('big', 'chat', 400));
    assert.equal(served.headers['x-ratelimit-limit-tokens'], '1000');
  });

  it('with budgetExceeded failover: holds the next model with room and marks the full one for the router', async () => {
    const { admission, view, route } = setup('  failover: {on: [budgetExceeded]}');
    for (let i = 0; i < fits; i++) await admission.admit(ask(`caller-${i}`));
    const diverted = await admission.admit(ask('diverted'));
    assert.ok(diverted.reservationId);
    assert.equal(diverted.headers['x-ratelimit-limit-tokens'], '1000', "the spare model's limit");
    assert.equal(diverted.headers['x-ratelimit-remaining-tokens'], String(1000 - perRequest));
    // The router's gate reads the same view: it skips the full model's backend.
    const gate = modelBudgetGate(view, () => start);
    assert.throws(() => gate(route, 'gpt-4-turbo'), DataPlaneError);
    gate(route, 'gpt-3.5-turbo');

    // The budget service reports room again in that minute: the full model is tried first again.
    const [limit] = modelLimits(route, 'gpt-4-turbo').map((l) => bindLimit(l, start));
    view.apply(
      createBudgetStateChanged({
        requestId: null,
        partitionKey: 'gpt-4-turbo',
        budgetKey: 'gpt-4-turbo',
        limitKind: limit.kind,
        windowId: limit.windowRef.id,
        state: BudgetState.Remaining,
        remaining: 250,
        limit: 300,
        unit: BudgetUnit.Tokens,
        resetAt: new Date(limit.windowRef.endsAt).toISOString(),
      }),
    );
    gate(route, 'gpt-4-turbo');
    // The store still holds it full, so the next request is diverted (and it is marked) again.
    const again = await admission.admit(ask('again'));
    assert.equal(again.headers['x-ratelimit-limit-tokens'], '1000');
    assert.throws(() => gate(route, 'gpt-4-turbo'), DataPlaneError);
  });

  it('diverts a request too large for the primary alone without closing the primary to others', async () => {
    const { admission, view, route } = setup('  failover: {on: [budgetExceeded]}');
    const big = { ...ask('big', 'chat', 400), requestId: 'big-1' };
    const diverted = await admission.admit(big);
    assert.equal(diverted.headers['x-ratelimit-limit-tokens'], '1000', "the spare model's limit");
    // Told with the request: the router's gate reads it there.
    assert.deepEqual(diverted.passedOverModels, ['gpt-4-turbo']);
    const routed = admittedRequest(big, diverted);
    assert.deepEqual(routed.passedOverModels, ['gpt-4-turbo']);
    assert.equal(routed.reservationId, diverted.reservationId);
    const gate = modelBudgetGate(view, () => start);
    // The router skips the primary for that request alone...
    assert.throws(() => gate(route, 'gpt-4-turbo', routed), DataPlaneError);
    gate(route, 'gpt-3.5-turbo', routed);
    // ...while every other caller's call is held and served on it, its 300 tokens untouched.
    const small = { ...ask('small'), requestId: 'small-1' };
    gate(route, 'gpt-4-turbo', small);
    const admitted = await admission.admit(small);
    assert.equal(admitted.headers['x-ratelimit-limit-tokens'], '300');
    assert.equal(admitted.headers['x-ratelimit-remaining-tokens'], String(300 - perRequest));
    assert.equal(admitted.passedOverModels, undefined);
    assert.ok(!('passedOverModels' in admittedRequest(small, admitted)));
  });

  it('tells the model passed over even when the one that serves holds nothing', async () => {
    // No caller limits and no limit on the wildcard backend: nothing to hold there.
    const { admission } = admissionOn(
      `  - {name: limited, priority: 0, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}
  - {name: open, priority: 1, provider: openai, model: gpt-3.5-turbo, modelNameOverride: chat}`,
      `  failover: {on: [budgetExceeded]}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 300}`,
    );
    const admitted = await admission.admit({ ...ask('big', 'chat', 400), requestId: 'big-2' });
    assert.equal(admitted.reservationId, undefined);
    assert.deepEqual(admitted.passedOverModels, ['gpt-4-turbo']);
  });

  it('with every model that may serve full, refuses with the first one', async () => {
    const { admission } = setup('  failover: {on: [budgetExceeded]}', '', false);
    // A request for "chat" may go to gpt-4-turbo (one of these fits) or gpt-3.5-turbo (three).
    const big = (user: string) => ask(user, 'chat', 250);
    const limits = [];
    for (let i = 0; i < 4; i++) {
      limits.push((await admission.admit(big(`u${i}`))).headers['x-ratelimit-limit-tokens']);
    }
    assert.deepEqual(limits, ['300', '1000', '1000', '1000']);
    const refusal = await refusalOf(admission.admit(big('c')));
    assert.equal(refusal.headers?.['x-ratelimit-limit-tokens'], '300');
    // Answered from the mark set when the second request passed it over: nothing to offer.
    assert.equal(refusal.headers?.['x-ratelimit-remaining-tokens'], '0');
    assert.equal(refusal.headers?.['x-ratelimit-reset-tokens'], '30s');
  });

  it('with every model known full, refuses from the marks with no store call', async () => {
    const { admission, store } = setup(
      '  failover: {on: [budgetExceeded]}',
      '    perUser: {requestsPerMinute: 100}',
      false,
    );
    const big = (user: string) => ask(user, 'chat', 250);
    for (let i = 0; i < 4; i++) await admission.admit(big(`u${i}`));
    await refusalOf(admission.admit(big('marks-both'))); // the store refuses the spare: marked
    let balanceReads = 0;
    const balances = store.balances.bind(store);
    store.balances = (...args: Parameters<typeof balances>) => {
      balanceReads++;
      return balances(...args);
    };
    const refusal = await refusalOf(admission.admit(big('c')));
    // A caller hammering spent models costs the store nothing, though it has a request
    // limit too: the refusal carries the refusing limit's headers alone.
    assert.equal(balanceReads, 0);
    assert.equal(refusal.headers?.['x-ratelimit-limit-tokens'], '300');
    assert.equal(refusal.headers?.['x-ratelimit-limit-requests'], undefined);
  });

  it('without the trigger, a full model is not marked (its holds may yet be released)', async () => {
    const { admission, view } = setup('');
    for (let i = 0; i < fits; i++) await admission.admit(ask(`caller-${i}`));
    await refusalOf(admission.admit(ask('refused')));
    assert.equal(view.size, 0);
  });

  it("a caller's own limit refuses outright: another model would not help", async () => {
    const { admission, view } = setup(
      '  failover: {on: [budgetExceeded]}',
      `  tokenBudget: {perMinute: {limit: ${perRequest + 1}}}`,
    );
    await admission.admit(ask('u'));
    const refusal = await refusalOf(admission.admit(ask('u')));
    assert.match(refusal.message, /tokenBudget\.perMinute/);
    assert.equal(view.size, 0, 'no model was marked');
  });

  it('a model named like an Object property has no per-model limit', async () => {
    const { admission } = setup('');
    for (const model of ['constructor', 'toString', '__proto__']) {
      assert.deepEqual((await admission.admit(ask('u', model))).headers, {}, model);
    }
  });
});

describe('BudgetAdmission: the output a thinking budget may use', () => {
  const start = Date.UTC(2026, 0, 1, 12, 0, 30);
  const roomy = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: anthropic, model: m}]
  tokenBudget: {perUser: {limit: 1000000, period: 1d}}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!roomy.ok) throw new Error('config');
  const routed = roomy.config;
  const admission = new BudgetAdmission(
    () => routed,
    new LocalBudgetStore(':memory:'),
    new ExhaustionView(),
    { defaultMaxOutputTokens: 100, holdMs: 600_000, now: () => start },
  );
  const chat = (userKey: string, fields: Record<string, unknown>): GatewayRequest => ({
    ...request(userKey, 0),
    body: { model: 'm', messages: [{ role: 'user', content: 'hello' }], ...fields },
  });
  const outputHeld = async (req: GatewayRequest) => {
    const admitted = await admission.admit(req);
    const held =
      Number(admitted.headers['x-ratelimit-limit-tokens']) -
      Number(admitted.headers['x-ratelimit-remaining-tokens']);
    return held - estimatePromptTokensUpperBound(req.body);
  };

  it('holds the budget and the reasoning default answer after it when no max_tokens bounds the output', async () => {
    // A request that thinks has a default of at least 16384 (REASONING_DEFAULT_MAX_OUTPUT_TOKENS).
    const thinking = { type: 'enabled', budget_tokens: 8000 };
    assert.equal(await outputHeld(chat('t1', { thinking })), 8000 + 16_384);
    assert.equal(await outputHeld(chat('t2', { thinking, n: 2 })), 2 * (8000 + 16_384));
    // A bound the client set is the most it can be billed; thinking off is an ordinary call.
    assert.equal(await outputHeld(chat('t3', { thinking, max_tokens: 9000 })), 9000);
    assert.equal(await outputHeld(chat('t4', { thinking, max_completion_tokens: 8500 })), 8500);
    assert.equal(await outputHeld(chat('t5', { thinking: { type: 'disabled' } })), 100);
    // Adaptive thinking with no bound gets the room an adapter gives it.
    assert.equal(await outputHeld(chat('t-adaptive', { thinking: { type: 'adaptive' } })), 16_384);
    assert.equal(await outputHeld(chat('t6', {})), 100);
  });
});
