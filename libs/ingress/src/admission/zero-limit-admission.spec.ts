// A limit of 0 allows nothing: `maxDailyCostPerUser: 0` freezes a route's spend. Every call
// (and batch) is refused at admission with the usual 429, from the config, holding nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExhaustionView,
  LocalBudgetStore,
  modelBudgetGate,
  type BudgetStore,
} from '@aigw/budget-core';
import { DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { BatchHolds } from '../batches/batch-holds';
import { START, admissionOn, ask, configOn, refusalOf } from './admission-fixture';

const BACKENDS = `  - {name: priced, priority: 0, provider: openai, model: gpt-4o, modelNameOverride: chat}
  - {name: unpriced, priority: 1, provider: openai, model: free-model, modelNameOverride: chat}`;
const FROZEN = `  failover: {on: [error]}
  costControl:
    maxDailyCostPerUser: 0
    modelPricing:
      gpt-4o: {inputPer1k: 0.01, outputPer1k: 0.03}`;
/** From 12:00:30 UTC to the next midnight, when the day's window ends. */
const TO_MIDNIGHT = Date.UTC(2026, 0, 2) - START;

/** Counts the store's reservations: a refusal from the config makes none. */
function countingReserves(store: BudgetStore): { count: () => number } {
  let reserves = 0;
  const reserve = store.reserve.bind(store);
  store.reserve = (...args) => {
    reserves++;
    return reserve(...args);
  };
  return { count: () => reserves };
}

describe('a limit of 0', () => {
  it('maxDailyCostPerUser: 0 refuses every call with the 429, holding nothing', async () => {
    const { admission, store } = admissionOn(BACKENDS, FROZEN);
    const reserves = countingReserves(store);
    for (const user of ['alice', 'alice', 'bob']) {
      const refusal = await refusalOf(admission.admit(ask(user)));
      assert.equal(refusal.code, DataPlaneErrorCode.BudgetExceeded);
      assert.equal(refusal.httpStatus, 429);
      assert.match(
        refusal.message,
        /costControl\.maxDailyCostPerUser is 0, so it allows no dollars/,
      );
      // A dollar cap has no x-ratelimit headers: Retry-After alone, as for a spent cap.
      assert.equal(refusal.retryAfterMs, TO_MIDNIGHT);
      assert.equal(refusal.headers, undefined);
    }
    assert.equal(reserves.count(), 0);
    // A session that outlives its admission (Realtime) is told the same.
    assert.equal(admission.spentLimit(ask('carol'))?.code, DataPlaneErrorCode.BudgetExceeded);
  });

  it('refuses a call that would cost nothing too, and a huge one with the 429, not a 400', async () => {
    const { admission } = admissionOn(
      `  - {name: unpriced, priority: 0, provider: openai, model: free-model, modelNameOverride: chat}`,
      `  tokenBudget: {perUser: {limit: 1000, period: 1d}}
  costControl: {maxDailyCostPerUser: 0}`,
    );
    for (const maxTokens of [1, 50_000]) {
      const refusal = await refusalOf(admission.admit(ask('alice', maxTokens)));
      assert.equal(refusal.httpStatus, 429);
      assert.match(refusal.message, /maxDailyCostPerUser is 0/);
    }
  });

  it('a cap above 0 still admits', async () => {
    const { admission } = admissionOn(
      BACKENDS,
      FROZEN.replace('maxDailyCostPerUser: 0', 'maxDailyCostPerUser: 0.5'),
    );
    const admitted = await admission.admit(ask('alice'));
    assert.ok(admitted.reservationId);
  });

  it('refuses a batch on a frozen route with the same 429, holding nothing', async () => {
    const config = configOn(BACKENDS, FROZEN);
    const store = new LocalBudgetStore(':memory:');
    const reserves = countingReserves(store);
    const holds = new BatchHolds({
      config: () => config,
      store,
      priceFactor: 0.5,
      now: () => START,
    });
    const owner = { owner: 'alice', model: 'chat', upstreamModel: 'gpt-4o', provider: 'openai' };
    const refusal = await refusalOf(
      holds.hold(owner, { inputTokens: 100, outputTokens: 100, requests: 1 }),
    );
    assert.equal(refusal.httpStatus, 429);
    assert.equal(refusal.code, DataPlaneErrorCode.BudgetExceeded);
    assert.match(refusal.message, /maxDailyCostPerUser is 0/);
    assert.equal(reserves.count(), 0);
  });

  // Each caller limit of 0, with the window its refusal's reset names (at 12:00:30 UTC).
  const callerLimits: [string, string, string, string][] = [
    [
      'tokenBudget.perUser',
      'tokenBudget: {perUser: {limit: 0, period: 1d}}',
      'tokens',
      '11h59m30s',
    ],
    ['tokenBudget.perMinute', 'tokenBudget: {perMinute: {limit: 0}}', 'tokens', '30s'],
    [
      'tokenRateLimit.perUser.inputTokensPerMinute',
      'tokenRateLimit: {perUser: {inputTokensPerMinute: 0}}',
      'tokens',
      '30s',
    ],
    [
      'tokenRateLimit.perUser.outputTokensPerMinute',
      'tokenRateLimit: {perUser: {outputTokensPerMinute: 0}}',
      'tokens',
      '30s',
    ],
    [
      'tokenRateLimit.perUser.totalTokensPerDay',
      'tokenRateLimit: {perUser: {totalTokensPerDay: 0}}',
      'tokens',
      '11h59m30s',
    ],
    [
      'tokenRateLimit.perUser.requestsPerMinute',
      'tokenRateLimit: {perUser: {requestsPerMinute: 0}}',
      'requests',
      '30s',
    ],
  ];
  for (const [kind, policy, unit, reset] of callerLimits) {
    it(`${kind}: 0 refuses every call with the 429 and its headers, holding nothing`, async () => {
      const { admission, store } = admissionOn(BACKENDS, `  ${policy}`);
      const reserves = countingReserves(store);
      const refusal = await refusalOf(admission.admit(ask('alice')));
      assert.equal(refusal.code, DataPlaneErrorCode.BudgetExceeded);
      assert.equal(refusal.httpStatus, 429);
      assert.match(
        refusal.message,
        new RegExp(`${kind.replaceAll('.', '\\.')} is 0, so it allows no ${unit}`),
      );
      assert.deepEqual(refusal.headers, {
        [`x-ratelimit-limit-${unit}`]: '0',
        [`x-ratelimit-remaining-${unit}`]: '0',
        [`x-ratelimit-reset-${unit}`]: reset,
      });
      assert.equal(reserves.count(), 0);
    });
  }

  it("a tier's daily: 0 freezes its users, and only them", async () => {
    const { admission, store } = admissionOn(
      BACKENDS,
      `---
userTiers:
- {name: frozen, selector: {header: x-plan, value: frozen}, tokenBudget: {daily: 0}}
- {name: pro, selector: {header: x-plan, value: pro}, tokenBudget: {daily: 1000}}`,
    );
    const reserves = countingReserves(store);
    const frozen = { ...ask('alice'), caller: { userKey: 'alice', tier: 'frozen' } };
    const refusal = await refusalOf(admission.admit(frozen));
    assert.equal(refusal.httpStatus, 429);
    assert.match(refusal.message, /is 0, so it allows no tokens/);
    assert.equal(refusal.headers?.['x-ratelimit-limit-tokens'], '0');
    assert.equal(reserves.count(), 0);
    const pro = { ...ask('bob'), caller: { userKey: 'bob', tier: 'pro' } };
    assert.ok((await admission.admit(pro)).reservationId);
  });

  for (const limit of ['tokensPerMinute', 'requestsPerMinute']) {
    it(`perModel ${limit}: 0 closes the model: refused, or passed over with budgetExceeded`, async () => {
      const perModel = `  tokenRateLimit:
    perModel:
      gpt-4o: {${limit}: 0}`;
      const alone = admissionOn(BACKENDS, perModel);
      const reserves = countingReserves(alone.store);
      const refusal = await refusalOf(alone.admission.admit(ask('alice')));
      assert.equal(refusal.httpStatus, 429);
      assert.match(refusal.message, new RegExp(`perModel\\.${limit} is 0`));
      assert.equal(reserves.count(), 0);

      const { admission, route } = admissionOn(
        BACKENDS,
        `${perModel}\n  failover: {on: [budgetExceeded]}`,
      );
      // Admitted for the next model of the chain; the router's gate turns the closed one away
      // (free-model has no limit of its own: nothing is held for it).
      // (The fixture's default output, 100, goes on with it for Claude's max_tokens.)
      assert.deepEqual(await admission.admit(ask('alice')), {
        headers: {},
        defaultMaxOutputTokens: 100,
      });
      const gate = modelBudgetGate(new ExhaustionView(), () => START);
      assert.throws(
        () => gate(route, 'gpt-4o'),
        (error: Error) => /is 0/.test(error.message),
      );
      assert.doesNotThrow(() => gate(route, 'free-model'));
    });
  }

  describe('a request too large for every model that could ever serve it', () => {
    const CHAIN = `  failover: {on: [budgetExceeded]}
  tokenRateLimit:
    perModel:
      gpt-4o: {tokensPerMinute: 1000}
      free-model: {tokensPerMinute: 0}`;

    it('is a 400 when the other model is closed, and the roomy one stays open to others', async () => {
      const { admission, view, route, store } = admissionOn(BACKENDS, CHAIN);
      const reserves = countingReserves(store);
      const tooLarge = await refusalOf(admission.admit(ask('alice', 5000)));
      assert.equal(tooLarge.httpStatus, 400);
      assert.equal(tooLarge.param, 'max_tokens');
      assert.match(tooLarge.message, /tokensPerMinute allows in a whole window \(1000\)/);
      assert.equal(reserves.count(), 0, 'nothing held, nothing marked');
      // Another caller's small call still gets gpt-4o's full 1000 tokens.
      const small = { ...ask('bob'), requestId: 'small' };
      modelBudgetGate(view, () => START)(route, 'gpt-4o', small);
      const admitted = await admission.admit(small);
      assert.equal(admitted.headers['x-ratelimit-limit-tokens'], '1000');
    });

    it('is a 400 when the closed model comes first', async () => {
      const { admission } = admissionOn(
        `  - {name: unpriced, priority: 0, provider: openai, model: free-model, modelNameOverride: chat}
  - {name: priced, priority: 1, provider: openai, model: gpt-4o, modelNameOverride: chat}`,
        CHAIN,
      );
      const tooLarge = await refusalOf(admission.admit(ask('alice', 5000)));
      assert.equal(tooLarge.httpStatus, 400);
      assert.match(tooLarge.message, /allows in a whole window \(1000\)/);
      // A call that fits gpt-4o is served there.
      const admitted = await admission.admit(ask('bob'));
      assert.equal(admitted.headers['x-ratelimit-limit-tokens'], '1000');
    });

    it('stays the 429 of a closed model when every model of the chain is closed', async () => {
      const { admission } = admissionOn(
        BACKENDS,
        CHAIN.replace('tokensPerMinute: 1000', 'tokensPerMinute: 0'),
      );
      const refusal = await refusalOf(admission.admit(ask('alice', 5000)));
      assert.equal(refusal.httpStatus, 429);
      assert.match(refusal.message, /perModel\.tokensPerMinute is 0/);
    });
  });
});
