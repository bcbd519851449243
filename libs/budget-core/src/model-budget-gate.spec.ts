import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig } from '@aigw/config';
import { LimitKind } from '@aigw/contracts';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { ExhaustionView } from './exhaustion-view';
import { bindLimit, modelLimits } from './domain/budget-limits';
import { modelBudgetGate, storeCheckedModelBudgetGate } from './model-budget-gate';
import type { ModelBalanceReader } from './model-budget-gate-store';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, provider: openai, model: gpt-4-turbo}
  - {name: b, provider: openai, model: gpt-3.5-turbo, modelNameOverride: gpt-4-turbo}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000}
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error('config');
const route = parsed.config.routes[0];

describe('modelBudgetGate', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 15);

  it('refuses an exhausted per-model limit with a 429 and the rate-limit headers', () => {
    const view = new ExhaustionView();
    const [limit] = modelLimits(route, 'gpt-4-turbo').map((l) => bindLimit(l, now));
    assert.equal(limit.kind, LimitKind.ModelTokensPerMinute);
    view.markExhausted('gpt-4-turbo', limit.kind, limit.windowRef.id, limit.windowRef.endsAt);
    const gate = modelBudgetGate(view, () => now);

    const refusal = (() => {
      try {
        gate(route, 'gpt-4-turbo');
      } catch (error) {
        return error;
      }
      return assert.fail('the gate let an exhausted model through');
    })();
    assert.ok(refusal instanceof DataPlaneError);
    assert.equal(refusal.httpStatus, 429);
    assert.equal(refusal.trigger, 'budgetExceeded', 'failover may move on to the next backend');
    assert.equal(refusal.retryAfterMs, 45_000);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-tokens': '2000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '45s',
    });
  });

  it('refuses a model whose requests per minute are spent, with the request headers', () => {
    const both = parseGatewayConfig(
      `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: a, provider: openai, model: gpt-4-turbo}]
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000, requestsPerMinute: 3}
`,
      { missingSecrets: 'warn', env: {} },
    );
    if (!both.ok) throw new Error('config');
    const requestRoute = both.config.routes[0];
    const view = new ExhaustionView();
    const limit = modelLimits(requestRoute, 'gpt-4-turbo')
      .map((l) => bindLimit(l, now))
      .find((l) => l.kind === LimitKind.ModelRequestsPerMinute)!;
    view.markExhausted('gpt-4-turbo', limit.kind, limit.windowRef.id, limit.windowRef.endsAt);
    const refusal = (() => {
      try {
        modelBudgetGate(view, () => now)(requestRoute, 'gpt-4-turbo');
      } catch (error) {
        return error;
      }
      return assert.fail('the gate let a model with no requests left through');
    })();
    assert.ok(refusal instanceof DataPlaneError);
    assert.equal(refusal.httpStatus, 429);
    assert.equal(refusal.trigger, 'budgetExceeded');
    assert.match(refusal.message, /tokenRateLimit\.perModel\.requestsPerMinute/);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '45s',
    });
  });

  it('lets through a model with room, or with no per-model limit', () => {
    const view = new ExhaustionView();
    const gate = modelBudgetGate(view, () => now);
    gate(route, 'gpt-4-turbo');
    view.markExhausted('gpt-3.5-turbo', LimitKind.ModelTokensPerMinute, 'any', now + 60_000);
    gate(route, 'gpt-3.5-turbo');
  });

  it('turns a model away for the one request admission passed it over for, not for others', () => {
    const big = { passedOverModels: ['gpt-4-turbo'] };
    const gate = modelBudgetGate(new ExhaustionView(), () => now);
    assert.throws(
      () => gate(route, 'gpt-4-turbo', big),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 429 &&
        /less than this request may cost/.test(error.message),
    );
    gate(route, 'gpt-4-turbo', { reservationId: 'small' });
    gate(route, 'gpt-4-turbo');
  });
});

describe('storeCheckedModelBudgetGate (the split deployment router)', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 15);
  const parsedBoth = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}
  - {name: b, provider: openai, model: gpt-3.5-turbo, modelNameOverride: chat}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000, requestsPerMinute: 3}
      gpt-3.5-turbo: {tokensPerMinute: 9000}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!parsedBoth.ok) throw new Error('config');
  const both = parsedBoth.config.routes[0];
  const [tokens, requests] = modelLimits(both, 'gpt-4-turbo').map((l) => bindLimit(l, now));
  const [spareTokens] = modelLimits(both, 'gpt-3.5-turbo').map((l) => bindLimit(l, now));

  /** A reader answering fixed balances (used, reserved by key) and one reservation's hold. */
  function reader(
    balances: Record<string, [used: number, reserved: number]>,
    hold: Record<string, number> = {},
    holder = 'r-1',
  ) {
    const reads: (string | undefined)[] = [];
    const store: ModelBalanceReader = {
      read: async (reservationId, limits) => {
        reads.push(reservationId);
        return {
          balances: limits.map(({ key, limit }) => {
            const [used, reserved] = balances[key] ?? [0, 0];
            return { key, limit, used, reserved };
          }),
          hold: new Map(reservationId === holder ? Object.entries(hold) : []),
        };
      },
    };
    return { store, reads };
  }

  async function refusalOf(gated: void | Promise<void>): Promise<DataPlaneError> {
    try {
      await gated;
    } catch (error) {
      assert.ok(error instanceof DataPlaneError);
      return error;
    }
    return assert.fail('the gate let the call through');
  }

  it('turns away a model the store says is spent, and keeps it in the view', async () => {
    const view = new ExhaustionView();
    const steered: string[] = [];
    const { store, reads } = reader({ [tokens.key]: [2000, 0] });
    const outcomes: string[] = [];
    const gate = storeCheckedModelBudgetGate(view, store, {
      now: () => now,
      onSteered: (source) => steered.push(source),
      onStoreRead: (outcome) => outcomes.push(outcome),
    });
    const refusal = await refusalOf(gate(both, 'gpt-4-turbo', { reservationId: 'r-1' }));
    assert.equal(refusal.httpStatus, 429);
    assert.equal(refusal.trigger, 'budgetExceeded');
    assert.match(refusal.message, /has used its 2000 tokens/);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-tokens': '2000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '45s',
    });
    // Kept: the next call is refused from the view, with no read.
    assert.equal(
      view.exhaustedUntilByKey(
        ExhaustionView.keyOf('gpt-4-turbo', tokens.kind, tokens.windowRef.id),
        now,
      ),
      tokens.windowRef.endsAt,
    );
    assert.throws(() => gate(both, 'gpt-4-turbo', { reservationId: 'r-2' }), DataPlaneError);
    assert.equal(reads.length, 1);
    assert.deepEqual(steered, ['store', 'view']);
    assert.deepEqual(outcomes, ['steered']);
  });

  it('calls a model the request holds, even when its own hold filled it', async () => {
    const view = new ExhaustionView();
    const { store } = reader({ [requests.key]: [2, 1] }, { [requests.key]: 1, [tokens.key]: 40 });
    const gate = storeCheckedModelBudgetGate(view, store, { now: () => now });
    await gate(both, 'gpt-4-turbo', { reservationId: 'r-1' });
    // Another request, holding nothing there, finds no room for its one request.
    const refusal = await refusalOf(gate(both, 'gpt-4-turbo', { reservationId: 'r-2' }));
    assert.match(refusal.message, /no room left in its 3 requests/);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '45s',
    });
    // Held full, not spent: nothing kept, the next call asks the store again.
    assert.equal(view.size, 0);
  });

  it('sizes a token limit by what the request holds on the model admission picked', async () => {
    const view = new ExhaustionView();
    // 1500 of 2000 taken: room for 500, the request holds 700 on the spare model.
    const { store } = reader({ [tokens.key]: [1000, 500] }, { [spareTokens.key]: 700 });
    const gate = storeCheckedModelBudgetGate(view, store, { now: () => now });
    const refusal = await refusalOf(gate(both, 'gpt-4-turbo', { reservationId: 'r-1' }));
    assert.equal(refusal.headers?.['x-ratelimit-remaining-tokens'], '500');
    // A request that holds 400 elsewhere fits.
    const small = reader({ [tokens.key]: [1000, 500] }, { [spareTokens.key]: 400 });
    await storeCheckedModelBudgetGate(view, small.store, { now: () => now })(both, 'gpt-4-turbo', {
      reservationId: 'r-1',
    });
  });

  it('asks the store nothing for a model without per-model limits, or one the view refuses', () => {
    const view = new ExhaustionView();
    const { store, reads } = reader({});
    const gate = storeCheckedModelBudgetGate(view, store, { now: () => now });
    assert.equal(gate(route, 'gpt-3.5-turbo', {}), undefined);
    view.markExhausted('gpt-4-turbo', tokens.kind, tokens.windowRef.id, tokens.windowRef.endsAt);
    assert.throws(() => gate(both, 'gpt-4-turbo', {}), DataPlaneError);
    assert.equal(reads.length, 0);
  });

  it('turns away a model admission passed over for the request, with no read, store down or not', async () => {
    const view = new ExhaustionView();
    let reads = 0;
    const outcomes: string[] = [];
    const gate = storeCheckedModelBudgetGate(
      view,
      {
        read: () => {
          reads++;
          return Promise.reject(new Error('redis away'));
        },
      },
      { now: () => now, onStoreRead: (outcome) => outcomes.push(outcome) },
    );
    const big = { reservationId: 'r-big', passedOverModels: ['gpt-4-turbo'] };
    assert.throws(
      () => gate(both, 'gpt-4-turbo', big),
      (error: unknown) => {
        assert.ok(error instanceof DataPlaneError);
        assert.equal(error.httpStatus, 429);
        assert.equal(error.trigger, 'budgetExceeded', 'failover moves on to the model held');
        assert.match(error.message, /allows 2000 tokens .* less than this request may cost/);
        assert.equal(error.headers?.['x-ratelimit-limit-tokens'], '2000');
        return true;
      },
    );
    assert.equal(reads, 0, 'turned away before any read');
    // The model admission held for it is called on the view alone, as before...
    await gate(both, 'gpt-3.5-turbo', big);
    // ...and other requests still reach the model passed over for that one.
    await gate(both, 'gpt-4-turbo', { reservationId: 'r-small' });
    assert.deepEqual(outcomes, ['failed', 'failed']);
    assert.equal(view.size, 0, 'nothing marked for other callers');
  });

  it('lets the call through on the view alone when the store cannot be read', async () => {
    const failures: unknown[] = [];
    const gate = storeCheckedModelBudgetGate(
      new ExhaustionView(),
      { read: () => Promise.reject(new Error('redis away')) },
      { now: () => now, onStoreRead: (outcome, error) => failures.push([outcome, error]) },
    );
    await gate(both, 'gpt-4-turbo', { reservationId: 'r-1' });
    assert.equal(failures.length, 1);
    assert.equal((failures[0] as [string, Error])[0], 'failed');
    assert.equal((failures[0] as [string, Error])[1].message, 'redis away');
  });
});
