// A per-model limit raised by a reload above its spend, then lowered back: the router's
// gate (which diverts on the broadcast alone) dropped its mark at the raise, so the spent
// model must be announced exhausted again at the lowering, though it was under that same
// limit value before.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, ExhaustionView, modelLimits } from '@aigw/budget-core';
import type { GatewayConfig } from '@aigw/config';
import {
  budgetStates,
  exhaustedUntil,
  gpt4TurboRoute,
  settlerOf,
  usageOf,
} from './testing/budget-settler-fixture';

function config(modelTokens: number): GatewayConfig {
  return gpt4TurboRoute(`
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: ${modelTokens}}
`);
}

// A recent minute: the embedded store drops balances whose window ended an hour ago.
const minute = Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000;

const usage = (tokens: number, occurredAt: number) =>
  usageOf({ user: 'alice', tokens, occurredAt: new Date(occurredAt) });

describe('BudgetSettler and a per-model limit raised, then lowered back', () => {
  it('announces it exhausted again at the lowering', async () => {
    let current = config(100);
    const { settler, published } = settlerOf(() => current);
    // The router's view, checked as its gate does under the config in force.
    const view = new ExhaustionView();
    let seen = 0;
    const routerRefuses = (at: number) => {
      for (const event of budgetStates(published.events).slice(seen)) view.apply(event);
      seen = budgetStates(published.events).length;
      const [limit] = modelLimits(current.routes[0], 'gpt-4-turbo').map((l) => bindLimit(l, at));
      return exhaustedUntil(view, limit, at, limit.limit);
    };

    await settler.checkReloadedLimits(minute + 1_000);
    await settler.handle([usage(150, minute + 2_000)]); // 150 of 100: exhausted
    assert.notEqual(routerRefuses(minute + 3_000), undefined, 'spent at 100');

    current = config(200);
    await settler.checkReloadedLimits(minute + 4_000);
    assert.equal(routerRefuses(minute + 5_000), undefined, '150 of 200: room again');

    current = config(100);
    await settler.checkReloadedLimits(minute + 6_000);
    assert.notEqual(
      routerRefuses(minute + 7_000),
      undefined,
      `spent at 100 again; announced ${budgetStates(published.events)
        .map((e) => `${e.state} ${e.limit}`)
        .join(', ')}`,
    );
    settler.close();
  });
});
