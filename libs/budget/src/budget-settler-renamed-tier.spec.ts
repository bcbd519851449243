// A config reload that renames (or removes) a tier while a call of it is in flight: the
// call's usage names a tier the config no longer has, yet its hold was placed on the
// caller's daily tier balance (one per user, whatever the tier is called). Its spend must
// land there, or the caller's next calls (under the tier's new name) find it unspent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, DAY, type LocalBudgetStore } from '@aigw/budget-core';
import type { GatewayConfig } from '@aigw/config';
import { LimitKind } from '@aigw/contracts';
import { gpt4TurboRoute, settlerOf, usageOf } from './testing/budget-settler-fixture';

function tiers(name: string, budget: string): GatewayConfig {
  return gpt4TurboRoute(`
  userIdentification: {header: x-user-id}
  userTiers:
  - name: ${name}
    selector: {header: x-plan, value: paid}
    tokenBudget: ${budget}
`);
}

const tierDaily = (user: string, now: number) =>
  bindLimit(
    { kind: LimitKind.TierDailyTokens, subject: user, unit: 'tokens', limit: 1_000, window: DAY },
    now,
  );

/** A call of `user` admitted with a hold of `amount` on its daily tier balance. */
function admitted(store: LocalBudgetStore, user: string, reservationId: string, now: number) {
  const limit = tierDaily(user, now);
  const hold = store.reserve(
    reservationId,
    [{ key: limit.key, amount: 300, limit: 1_000, windowEndsAt: limit.windowRef.endsAt }],
    60_000,
    now,
  );
  assert.equal(hold.ok, true);
  return limit;
}

async function spent(store: LocalBudgetStore, key: string, now: number) {
  const [balance] = await store.balances([{ key, limit: 1_000 }], now);
  return { used: balance.used, reserved: balance.reserved };
}

describe('BudgetSettler and a tier renamed while its call ran', () => {
  it('charges the daily tier balance the hold was placed on', async () => {
    let config = tiers('pro', '{daily: 1000}');
    const { store, settler } = settlerOf(() => config);
    const now = Date.now();
    const limit = admitted(store, 'alice', 'res-1', now);

    config = tiers('premium', '{daily: 1000}');
    await settler.handle([
      usageOf({ user: 'alice', tokens: 200, tier: 'pro', reservationId: 'res-1' }),
    ]);

    assert.deepEqual(await spent(store, limit.key, now), { used: 200, reserved: 0 });
  });

  it('charges it when the tier was removed too, and once per event', async () => {
    let config = tiers('pro', '{daily: 1000}');
    const { store, settler } = settlerOf(() => config);
    const now = Date.now();
    const limit = admitted(store, 'bob', 'res-2', now);

    config = tiers('other', '{unlimited: true}');
    const usage = usageOf({ user: 'bob', tokens: 120, tier: 'pro', reservationId: 'res-2' });
    await settler.handle([usage]);
    await settler.handle([usage]);

    assert.deepEqual(await spent(store, limit.key, now), { used: 120, reserved: 0 });
  });

  it('charges no tier balance the hold was not on (the tier was unlimited)', async () => {
    let config = tiers('pro', '{unlimited: true}');
    const { store, settler } = settlerOf(() => config);
    const now = Date.now();
    const limit = tierDaily('carol', now);

    config = tiers('premium', '{daily: 1000}');
    assert.equal(store.reserve('res-3', [], 60_000, now).ok, true);
    await settler.handle([
      usageOf({ user: 'carol', tokens: 50, tier: 'pro', reservationId: 'res-3' }),
    ]);

    assert.deepEqual(await spent(store, limit.key, now), { used: 0, reserved: 0 });
  });
});
