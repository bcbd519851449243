// A per-model limit changed by a config reload: ai_gateway_budget_remaining says what is
// left under the new limit at the reload. Lowered below the spend, the router diverts
// from the model, so no settlement of it comes to correct the gauge: it read the room
// left under the old limit for the rest of the window.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetState, LimitKind } from '@aigw/contracts';
import { metricSum } from '@aigw/testing';
import { budgetStates, gpt4TurboRoute, settlerOf, usageOf } from './testing/budget-settler-fixture';

const modelLimited = (tokensPerMinute: number) =>
  gpt4TurboRoute(`
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: ${tokensPerMinute}}
`);

describe('BudgetSettler: the remaining gauge of a per-model limit a reload changed', () => {
  it('reads the room under the new limit once the reload is checked', async (t) => {
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
    if (Math.floor(Date.now() / 60_000) !== minute) {
      t.skip('the minute ended mid-test: its spend started over');
      return;
    }
    assert.deepEqual({ before, lowered, raised }, { before: 400, lowered: 0, raised: 1_400 });
  });
});

const userLimited = (tokens: number) =>
  gpt4TurboRoute(`
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: ${tokens}, period: 1d}
`);

describe("BudgetSettler: a caller's limit a reload changed", () => {
  it('its gauge reads the room under the new limit, and a lowered one past its spend is announced, at the reload', async (t) => {
    let current = userLimited(1_000);
    const { settler, metrics, published } = settlerOf(() => current);
    const remaining = async (user: string) =>
      metricSum(await metrics.metrics(), 'ai_gateway_budget_remaining', {
        budget_key: user,
        limit: LimitKind.TokenBudgetPerUser,
      });
    const exhausted = () =>
      budgetStates(published.events)
        .filter((e) => e.state === BudgetState.Exhausted)
        .map((e) => `${e.limitKind} ${e.budgetKey} ${e.limit}`);
    // Should the day end mid-test, its spend starts over: the figures below are then off.
    const day = Math.floor(Date.now() / 86_400_000);
    await settler.checkReloadedLimits();
    await settler.handle([
      usageOf({ user: 'alice', tokens: 600, requestId: 'a1' }),
      usageOf({ user: 'bob', tokens: 100, requestId: 'b1' }),
    ]);
    const before = { alice: await remaining('alice'), bob: await remaining('bob') };

    // Lowered under alice's spend: her calls are refused from now on, so no usage of hers
    // comes to correct the gauge or announce the limit spent.
    current = userLimited(500);
    await settler.checkReloadedLimits();
    const lowered = { alice: await remaining('alice'), bob: await remaining('bob') };
    const announced = exhausted();

    current = userLimited(2_000);
    await settler.checkReloadedLimits();
    const raised = { alice: await remaining('alice'), bob: await remaining('bob') };
    if (Math.floor(Date.now() / 86_400_000) !== day) {
      t.skip('the day ended mid-test: its spend started over');
      return;
    }
    assert.deepEqual(
      { before, lowered, raised },
      {
        before: { alice: 400, bob: 900 },
        lowered: { alice: 0, bob: 400 },
        raised: { alice: 1_400, bob: 1_900 },
      },
    );
    assert.deepEqual(announced, ['tokenBudget.perUser alice 500']);
  });
});
