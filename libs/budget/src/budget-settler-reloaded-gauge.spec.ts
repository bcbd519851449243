// A per-model limit changed by a config reload: ai_gateway_budget_remaining says what is
// left under the new limit at the reload. Lowered below the spend, the router diverts
// from the model, so no settlement of it comes to correct the gauge: it read the room
// left under the old limit for the rest of the window.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LimitKind } from '@aigw/contracts';
import { metricSum } from '@aigw/testing';
import { gpt4TurboRoute, settlerOf, usageOf } from './testing/budget-settler-fixture';

const modelLimited = (tokensPerMinute: number) =>
  gpt4TurboRoute(`
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: ${tokensPerMinute}}
`);

describe('BudgetSettler: the remaining gauge of a per-model limit a reload changed', () => {
  it('reads the room under the new limit once the reload is checked', async () => {
    let current = modelLimited(1_000);
    const { settler, metrics } = settlerOf(() => current);
    const remaining = async () =>
      metricSum(await metrics.metrics(), 'ai_gateway_budget_remaining', {
        budget_key: 'gpt-4-turbo',
        limit: LimitKind.ModelTokensPerMinute,
      });
    // Should a minute end mid-test, its spend starts over: the figures below are then off.
    const minute = Math.floor(Date.now() / 60_000);
    await settler.checkReloadedLimits();
    await settler.handle([usageOf({ user: 'alice', tokens: 600, requestId: 'a1' })]);
    const before = await remaining();

    current = modelLimited(500);
    await settler.checkReloadedLimits();
    const lowered = await remaining();

    current = modelLimited(2_000);
    await settler.checkReloadedLimits();
    const raised = await remaining();
    if (Math.floor(Date.now() / 60_000) !== minute) return;
    assert.deepEqual({ before, lowered, raised }, { before: 400, lowered: 0, raised: 1_400 });
  });
});
