// A config reload that renames (or removes) a tier while a call of it is in flight: the
// call's usage names a tier the config no longer has, yet its hold was placed on the
// caller's daily tier balance (one per user, whatever the tier is called). Its spend must
// land there, or the caller's next calls (under the tier's new name) find it unspent. Run
// against the embedded store (unit) and Redis (integration).
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { bindLimit, DAY, type BudgetStore } from '@aigw/budget-core';
import type { GatewayConfig } from '@aigw/config';
import { LimitKind } from '@aigw/contracts';
import { MetricsRegistry } from '@aigw/observability';
import { RecordingPublisher } from '@aigw/testing';
import { BudgetSettler } from '../budget-settler';
import { gpt4TurboRoute, usageOf } from './budget-settler-fixture';

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

export function describeRenamedTier(
  name: string,
  open: () => Promise<{ store: BudgetStore; close: () => Promise<void> }>,
): void {
  describe(`BudgetSettler and a tier renamed while its call ran: ${name}`, () => {
    let store: BudgetStore;
    let close: () => Promise<void>;
    before(async () => ({ store, close } = await open()));
    after(() => close());

    /** A settler of the config `config()` returns at each use, as after a reload. */
    const settlerOf = (config: () => GatewayConfig) =>
      new BudgetSettler(
        config,
        store,
        new RecordingPublisher(),
        new MetricsRegistry({ collectDefaultMetrics: false }),
      );

    /** A call of a new user admitted with a hold on its daily tier balance (or none). */
    async function admitted(held: boolean) {
      const user = `u-${randomUUID()}`;
      const reservationId = `res-${randomUUID()}`;
      const now = Date.now();
      const limit = tierDaily(user, now);
      const changes = held
        ? [{ key: limit.key, amount: 300, limit: 1_000, windowEndsAt: limit.windowRef.endsAt }]
        : [];
      assert.equal((await store.reserve(reservationId, changes, 60_000, now)).ok, true);
      const spent = async () => {
        const [balance] = await store.balances([{ key: limit.key, limit: 1_000 }], Date.now());
        return { used: balance.used, reserved: balance.reserved };
      };
      return { user, reservationId, spent };
    }

    it('charges the daily tier balance the hold was placed on', async () => {
      let config = tiers('pro', '{daily: 1000}');
      const settler = settlerOf(() => config);
      const { user, reservationId, spent } = await admitted(true);

      config = tiers('premium', '{daily: 1000}');
      await settler.handle([usageOf({ user, tokens: 200, tier: 'pro', reservationId })]);

      assert.deepEqual(await spent(), { used: 200, reserved: 0 });
    });

    it('charges it when the tier was removed too, and once per event', async () => {
      let config = tiers('pro', '{daily: 1000}');
      const settler = settlerOf(() => config);
      const { user, reservationId, spent } = await admitted(true);

      config = tiers('other', '{unlimited: true}');
      const usage = usageOf({ user, tokens: 120, tier: 'pro', reservationId });
      await settler.handle([usage]);
      await settler.handle([usage]);

      assert.deepEqual(await spent(), { used: 120, reserved: 0 });
    });

    it('charges no tier balance the hold was not on (the tier was unlimited)', async () => {
      let config = tiers('pro', '{unlimited: true}');
      const settler = settlerOf(() => config);
      const { user, reservationId, spent } = await admitted(false);

      config = tiers('premium', '{daily: 1000}');
      await settler.handle([usageOf({ user, tokens: 50, tier: 'pro', reservationId })]);

      assert.deepEqual(await spent(), { used: 0, reserved: 0 });
    });
  });
}
