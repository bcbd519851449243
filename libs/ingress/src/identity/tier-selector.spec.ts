import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { UserTierConfig } from '@aigw/config';
import { TierSelector, tiersForRoute } from './tier-selector';

const tier = (name: string, header: string, value: string): UserTierConfig => ({
  name,
  selector: { header, value },
  tokenBudget: { kind: 'daily', tokens: 1000 },
  allowedModels: [],
  costTracking: { enabled: false },
  default: false,
});

describe('TierSelector', () => {
  const free = tier('free', 'x-plan', 'free');
  const pro = tier('pro', 'x-plan', 'pro');

  it('picks the first tier whose selector matches exactly', () => {
    const selector = new TierSelector([free, pro], undefined);
    assert.deepEqual(selector.select({ 'x-plan': 'pro' }), { kind: 'tier', tier: pro });
    assert.deepEqual(selector.select({ 'x-plan': ['free', 'pro'] }), { kind: 'tier', tier: free });
    assert.deepEqual(selector.select({ 'x-plan': 'PRO' }), { kind: 'unmatched' });
  });

  it('falls back to the default tier, and says none when no tiers apply', () => {
    assert.deepEqual(new TierSelector([free, pro], free).select({}), { kind: 'tier', tier: free });
    assert.deepEqual(new TierSelector([], undefined).select({ 'x-plan': 'pro' }), {
      kind: 'none',
    });
  });

  it("puts a route's own tiers before the global ones it does not redefine", () => {
    const globalPro = tier('pro', 'x-plan', 'global-pro');
    const enterprise = tier('enterprise', 'x-plan', 'enterprise');
    assert.deepEqual(
      tiersForRoute([pro], [globalPro, enterprise]).map((t) => t.selector.value),
      ['pro', 'enterprise'],
    );
  });
});
