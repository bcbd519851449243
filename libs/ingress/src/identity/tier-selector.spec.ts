import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { UserTierConfig } from '@aigw/config';
import { credentialUserKey } from './credential-user-key';
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

  it('matches a selector naming a key by its id against the id of the key sent, never the raw value', () => {
    const key = 'sk-team-4c1d9e8f7a6b5c4d3e2f1a0b';
    const id = credentialUserKey(key) ?? '';
    const team = tier('team', 'x-api-key', id);
    const selector = new TierSelector([team], undefined);
    assert.deepEqual(selector.select({ 'x-api-key': key }), { kind: 'tier', tier: team });
    assert.deepEqual(selector.select({ 'x-api-key': `Bearer ${key}` }), {
      kind: 'tier',
      tier: team,
    });
    // The id is visible in metrics: sending it must not select the tier.
    assert.deepEqual(selector.select({ 'x-api-key': id }), { kind: 'unmatched' });
    assert.deepEqual(selector.select({ 'x-api-key': `${key}x` }), { kind: 'unmatched' });
    // A raw key in a selector still matches as before; a key id on another header is a plain value.
    const raw = tier('raw', 'x-api-key', key);
    assert.deepEqual(new TierSelector([raw], undefined).select({ 'x-api-key': key }), {
      kind: 'tier',
      tier: raw,
    });
    const plain = tier('plain', 'x-plan', id);
    assert.deepEqual(new TierSelector([plain], undefined).select({ 'x-plan': id }), {
      kind: 'tier',
      tier: plain,
    });
  });

  it('compares selector values, raw keys and key ids alike, in constant time on equal-length digests', () => {
    const key = 'sk-team-4c1d9e8f7a6b5c4d3e2f1a0b';
    const byRawKey = tier('raw', 'x-api-key', key);
    const byKeyId = tier('team', 'authorization', credentialUserKey(key) ?? '');
    const compare = mock.method(crypto, 'timingSafeEqual');
    try {
      const selector = new TierSelector([byRawKey], undefined);
      // A near miss (one character short), a longer guess and the key: every one compared.
      assert.deepEqual(selector.select({ 'x-api-key': key.slice(0, -1) }), { kind: 'unmatched' });
      assert.deepEqual(selector.select({ 'x-api-key': `${key}0000` }), { kind: 'unmatched' });
      assert.deepEqual(selector.select({ 'x-api-key': key }), { kind: 'tier', tier: byRawKey });
      assert.deepEqual(
        new TierSelector([byKeyId], undefined).select({ authorization: `Bearer ${key}` }),
        {
          kind: 'tier',
          tier: byKeyId,
        },
      );
      assert.equal(compare.mock.callCount(), 4);
      for (const call of compare.mock.calls) {
        const [presented, expected] = call.arguments as [Buffer, Buffer];
        assert.equal(presented.length, 32);
        assert.equal(expected.length, 32);
      }
    } finally {
      compare.mock.restore();
    }
  });

  it('digests a header value once however many tiers select on it', () => {
    const tiers = ['a', 'b', 'c', 'd'].map((plan) => tier(plan, 'x-plan', plan));
    const selector = new TierSelector(tiers, undefined); // digests each tier's value, once
    const hash = mock.method(crypto, 'createHash');
    try {
      assert.deepEqual(selector.select({ 'x-plan': 'd' }), { kind: 'tier', tier: tiers[3] });
      assert.equal(hash.mock.callCount(), 1);
    } finally {
      hash.mock.restore();
    }
  });

  it('falls back to the default tier, and says none when no tiers apply', () => {
    assert.deepEqual(new TierSelector([free, pro], free).select({}), { kind: 'tier', tier: free });
    assert.deepEqual(new TierSelector([], undefined).select({ 'x-plan': 'pro' }), {
      kind: 'none',
    });
  });

  it('reads a client header sent as UTF-8 as UTF-8, as a user id header is read', () => {
    const team = tier('équipe', 'x-team', 'équipe');
    const selector = new TierSelector([team], undefined);
    const utf8 = Buffer.from('équipe', 'utf8').toString('latin1'); // as Node hands it over
    assert.deepEqual(selector.select({ 'x-team': utf8 }), { kind: 'tier', tier: team });
    assert.deepEqual(selector.select({ 'x-team': 'équipe' }), { kind: 'tier', tier: team });
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

describe('TierSelector on a JWT route (token headers given)', () => {
  const byClaim = (name: string) => tier(name, 'x-user-plan', name);
  const byClient = (name: string, clientSelectable = false) => ({
    ...tier(name, 'x-plan', name),
    clientSelectable,
  });
  const free = byClaim('free');
  const pro = byClaim('pro');
  const enterprise = byClient('enterprise');
  const sandbox = byClient('sandbox', true);
  const TOKEN_HEADERS = ['x-user-id', 'x-user-plan'];

  it("gives the tier the token's header selects, or the default; a client header cannot raise it", () => {
    const selector = new TierSelector([enterprise, free, pro, sandbox], free, TOKEN_HEADERS);
    assert.deepEqual(selector.select({ 'x-user-plan': 'pro' }), { kind: 'tier', tier: pro });
    assert.deepEqual(selector.select({}), { kind: 'tier', tier: free });
    assert.deepEqual(selector.select({ 'x-user-plan': 'pro', 'x-plan': 'enterprise' }), {
      kind: 'not-granted',
      header: 'x-plan',
    });
    assert.deepEqual(selector.select({ 'x-plan': 'sandbox' }), { kind: 'tier', tier: sandbox });
    assert.deepEqual(selector.select({ 'x-user-plan': 'pro', 'x-plan': 'other' }), {
      kind: 'tier',
      tier: pro,
    });
  });

  it('lets a client header name the very tier the token grants (the default included)', () => {
    const plan = byClient('plan');
    const selector = new TierSelector([plan, enterprise], plan, TOKEN_HEADERS);
    assert.deepEqual(selector.select({ 'x-plan': 'plan' }), { kind: 'tier', tier: plan });
    assert.deepEqual(selector.select({ 'x-plan': 'enterprise' }), {
      kind: 'not-granted',
      header: 'x-plan',
    });
    const noDefault = new TierSelector([enterprise], undefined, TOKEN_HEADERS);
    assert.deepEqual(noDefault.select({}), { kind: 'unmatched' });
    assert.deepEqual(noDefault.select({ 'x-plan': 'enterprise' }), {
      kind: 'not-granted',
      header: 'x-plan',
    });
  });

  it("keeps a token header's value as the claim set it, a client's as UTF-8", () => {
    const odd = byClaim('Ã©'); // a claim whose text merely looks like UTF-8 read as Latin-1
    const team = byClient('équipe', true);
    const selector = new TierSelector([odd, team], undefined, TOKEN_HEADERS);
    assert.deepEqual(selector.select({ 'x-user-plan': 'Ã©' }), { kind: 'tier', tier: odd });
    assert.deepEqual(selector.select({ 'x-plan': Buffer.from('équipe').toString('latin1') }), {
      kind: 'tier',
      tier: team,
    });
  });

  it('without token headers (no JWT) keeps the first match in order, client headers included', () => {
    const selector = new TierSelector([enterprise, free], free);
    assert.deepEqual(selector.select({ 'x-plan': 'enterprise', 'x-user-plan': 'free' }), {
      kind: 'tier',
      tier: enterprise,
    });
  });
});
