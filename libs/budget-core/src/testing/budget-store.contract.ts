import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { KEY_GRACE_MS, type BalanceChange, type BudgetStore } from '../budget-store.port';
import { BATCH_HOLD_PREFIX, type HoldKind, type HoldLapseListener } from '../domain/hold-kind';

/**
 * The behaviour every BudgetStore must have, run against the embedded store in unit
 * tests and against real Redis in integration tests.
 */
export function describeBudgetStoreContract(
  name: string,
  open: (onLapse: HoldLapseListener) => Promise<{ store: BudgetStore; close: () => Promise<void> }>,
): void {
  describe(`BudgetStore contract: ${name}`, () => {
    let store: BudgetStore;
    let close: () => Promise<void>;
    // Real time: Redis expires keys by its own clock.
    const now = Date.now();
    const windowEndsAt = now + 60_000;
    const key = () => `test:budget:{${randomUUID()}}:k`;
    const change = (k: string, amount: number, limit = 100): BalanceChange => ({
      key: k,
      amount,
      limit,
      windowEndsAt,
    });

    const lapses: Record<HoldKind, number> = { call: 0, batch: 0 };
    before(
      async () =>
        ({ store, close } = await open((kind, count) => {
          lapses[kind] += count;
        })),
    );
    after(() => close());

    // First: the embedded store sweeps every lapsed hold, so earlier tests' would count.
    it('counts each lapsed hold once, by kind, and no hold settled or released', async () => {
      const user = key();
      const tier = key();
      const both = (amount: number) => [change(user, amount), change(tier, amount)];
      await store.reserve('lapsing-call', both(10), 1_000, now);
      await store.reserve(`${BATCH_HOLD_PREFIX}lapsing`, both(20), 1_000, now);
      await store.reserve('settled-late', both(5), 1_000, now);
      await store.reserve('released-late', both(5), 1_000, now);
      // Ended after their time but before a sweep found them: not lapsed.
      await store.settle(randomUUID(), 'settled-late', both(1), now + 1_500);
      await store.release('released-late');
      assert.deepEqual(lapses, { call: 0, batch: 0 }, 'nothing swept yet');

      // The next reservation on one of the limits sweeps the lapsed holds there.
      assert.equal((await store.reserve('next', [change(user, 1)], 30_000, now + 1_001)).ok, true);
      assert.deepEqual(lapses, { call: 1, batch: 1 });
      // Their holds on the other limit lapse too, but were counted already.
      await store.reserve('next-tier', [change(tier, 1)], 30_000, now + 1_002);
      await store.balances([{ key: tier, limit: 100 }], now + 1_003);
      assert.deepEqual(lapses, { call: 1, batch: 1 });
      const balances = await store.balances(
        [user, tier].map((k) => ({ key: k, limit: 100 })),
        now + 1_003,
      );
      assert.deepEqual(
        balances.map((b) => [b.used, b.reserved]),
        [
          [1, 1],
          [1, 1],
        ],
      );
    });

    it('reserves while there is room and refuses the request that would not fit', async () => {
      const k = key();
      assert.equal((await store.reserve('r1', [change(k, 60)], 30_000, now)).ok, true);
      const refused = await store.reserve('r2', [change(k, 50)], 30_000, now);
      assert.equal(refused.ok, false);
      if (!refused.ok)
        assert.deepEqual(refused.blocked, { key: k, limit: 100, used: 0, reserved: 60 });
      assert.equal((await store.reserve('r3', [change(k, 40)], 30_000, now)).ok, true);
    });

    it('holds on every limit or on none', async () => {
      const roomy = key();
      const tight = key();
      const refused = await store.reserve(
        'r',
        [change(roomy, 10), change(tight, 20, 10)],
        30_000,
        now,
      );
      assert.equal(refused.ok, false);
      const [balance] = await store.balances([{ key: roomy, limit: 100 }], now);
      assert.equal(balance.reserved, 0);
    });

    it('settles a reservation to the real amount, once per event id', async () => {
      const k = key();
      const rid = randomUUID();
      await store.reserve(rid, [change(k, 50)], 30_000, now);
      const first = await store.settle('event-1-' + rid, rid, [change(k, 12)], now);
      assert.equal(first.applied, true);
      assert.deepEqual(first.balances, [{ key: k, limit: 100, used: 12, reserved: 0 }]);
      const again = await store.settle('event-1-' + rid, rid, [change(k, 12)], now);
      assert.equal(again.applied, false);
      assert.equal(again.balances[0].used, 12);
    });

    it("names a hold's balance keys until it is settled or released", async () => {
      const [a, b] = [key(), key()];
      await store.reserve('held-keys', [change(a, 5), change(b, 5)], 30_000, now);
      assert.deepEqual([...((await store.heldKeys?.('held-keys')) ?? [])].sort(), [a, b].sort());
      await store.settle(randomUUID(), 'held-keys', [change(a, 4)], now);
      assert.deepEqual(await store.heldKeys?.('held-keys'), []);
      assert.deepEqual(await store.heldKeys?.('never-held'), []);
    });

    it('records usage past the limit: it was spent', async () => {
      const k = key();
      const result = await store.settle(randomUUID(), undefined, [change(k, 150)], now);
      assert.equal(result.balances[0].used, 150);
      assert.equal((await store.reserve('late', [change(k, 1)], 30_000, now)).ok, false);
    });

    it('releases a hold on request, and lets an abandoned one lapse', async () => {
      const k = key();
      await store.reserve('released', [change(k, 70)], 30_000, now);
      await store.release('released');
      assert.equal((await store.balances([{ key: k, limit: 100 }], now))[0].reserved, 0);

      await store.reserve('abandoned', [change(k, 70)], 1_000, now);
      assert.equal((await store.reserve('blocked', [change(k, 70)], 1_000, now + 500)).ok, false);
      assert.equal((await store.reserve('later', [change(k, 70)], 1_000, now + 1_001)).ok, true);
    });

    it("pushes a running call's hold on, and leaves settled, released and lapsed ones", async () => {
      const refresh = store.refresh!.bind(store);
      const k = key();
      const other = key();
      const [running, settled, released, lapsed] = Array.from({ length: 4 }, () => randomUUID());
      await store.reserve(running, [change(k, 60), change(other, 10)], 1_000, now);
      for (const id of [settled, released, lapsed])
        await store.reserve(id, [change(other, 10)], 1_000, now);
      await store.settle(randomUUID(), settled, [change(other, 1)], now + 100);
      await store.release(released);
      assert.deepEqual(await refresh([running, settled, released], 1_000, now + 800), [
        true,
        false,
        false,
      ]);
      // Past its time though not swept yet: not brought back.
      assert.deepEqual(await refresh([lapsed], 1_000, now + 1_200), [false]);
      // Running past its first hold time: still held, on every limit it holds.
      assert.equal(
        (await store.reserve(randomUUID(), [change(k, 50)], 100, now + 1_500)).ok,
        false,
      );
      const [held, otherHeld] = await store.balances(
        [k, other].map((name) => ({ key: name, limit: 100 })),
        now + 1_500,
      );
      assert.deepEqual([held.reserved, otherHeld.used, otherHeld.reserved], [60, 1, 10]);
      // Again with less time left: never shortened (and the same reply: idempotent).
      assert.deepEqual(await refresh([running], 100, now + 1_600), [true]);
      assert.equal((await store.reserve(randomUUID(), [change(k, 50)], 10, now + 1_750)).ok, false);
      // Not refreshed any more: it lapses at the time the last refresh gave it.
      assert.equal((await store.reserve(randomUUID(), [change(k, 50)], 100, now + 1_801)).ok, true);
      assert.deepEqual(await refresh([running], 1_000, now + 1_802), [false]);
    });

    it("charges the window a call's usage names, giving its hold back where it was taken, once", async () => {
      // A long call: held in the minute it was admitted, whose balance has long gone (its
      // window and grace ended), and settled into the minute its usage was reported in.
      const ended = now - KEY_GRACE_MS - 60_000;
      const admittedMinute = key();
      const reportedMinute = key();
      const day = key();
      const rid = randomUUID();
      const held = await store.reserve(
        rid,
        [{ ...change(admittedMinute, 40), windowEndsAt: ended }, change(day, 40)],
        30_000,
        now,
      );
      assert.equal(held.ok, true);
      const eventId = randomUUID();
      const charge = [change(reportedMinute, 25), change(day, 25)];
      const settled = await store.settle(eventId, rid, charge, now + 10);
      assert.equal(settled.applied, true);
      assert.deepEqual(
        settled.balances.map((b) => [b.used, b.reserved]),
        [
          [25, 0],
          [25, 0],
        ],
      );
      const again = await store.settle(eventId, rid, charge, now + 10);
      assert.equal(again.applied, false);
      const balances = await store.balances(
        [admittedMinute, reportedMinute, day].map((k) => ({ key: k, limit: 100 })),
        now + 20,
      );
      assert.deepEqual(
        balances.map((b) => [b.used, b.reserved]),
        [
          [0, 0],
          [25, 0],
          [25, 0],
        ],
        'the hold is given back, the usage charged once where it was reported',
      );
    });

    it("keeps a running call's hold after every window it holds on has ended", async () => {
      // Per-minute limits only, and a call (a reasoning model, a stream kept open) running
      // past its minute's grace: its hold is still in force, not lapsed.
      const ended = now - KEY_GRACE_MS - 60_000;
      const rid = randomUUID();
      await store.reserve(rid, [{ ...change(key(), 10), windowEndsAt: ended }], 30_000, now);
      assert.deepEqual(await store.refresh!([rid], 30_000, now + 10), [true]);
      const settled = await store.settle(randomUUID(), rid, [change(key(), 10)], now + 20);
      assert.equal(settled.holdLapsed, false, 'settled while its hold was in force');
    });

    it('tells a settlement whose hold had lapsed from one whose hold was in force', async () => {
      const k = key();
      const [inForce, pastItsTime, swept] = Array.from({ length: 3 }, () => randomUUID());
      for (const rid of [inForce, pastItsTime, swept])
        await store.reserve(rid, [change(k, 10)], rid === inForce ? 30_000 : 1_000, now);
      const settle = (rid: string | undefined, at: number) =>
        store.settle(randomUUID(), rid, [change(k, 1)], at);
      assert.equal((await settle(inForce, now + 500)).holdLapsed, false);
      // The usage came after the hold's time, before any sweep found it.
      assert.equal((await settle(pastItsTime, now + 1_500)).holdLapsed, true);
      // A reservation on its limit swept it first.
      await store.reserve(randomUUID(), [change(k, 1)], 30_000, now + 1_600);
      assert.equal((await settle(swept, now + 1_700)).holdLapsed, true);
      assert.equal((await settle(undefined, now + 1_700)).holdLapsed, false, 'no hold named');
      // Charged all the same: three settlements of 1, the last one and the reservation.
      const [balance] = await store.balances([{ key: k, limit: 100 }], now + 1_800);
      assert.deepEqual([balance.used, balance.reserved], [4, 1]);
    });

    it('keeps fractional amounts (dollars) exact enough', async () => {
      const k = key();
      for (let i = 0; i < 10; i++)
        await store.settle(randomUUID(), undefined, [change(k, 0.1, 1)], now);
      const [balance] = await store.balances([{ key: k, limit: 1 }], now);
      assert.ok(Math.abs(balance.used - 1) < 1e-6, `used ${balance.used}`);
    });

    it("tells each balance's spend before a settlement as it held it, for a crossing read once", async () => {
      const k = key();
      const cap = (amount: number) => [change(k, amount, 1)];
      const first = await store.settle(randomUUID(), undefined, cap(0.5), now);
      assert.deepEqual(first.spentBefore, [0]);
      const reached = await store.settle(randomUUID(), undefined, cap(0.5), now);
      assert.deepEqual(reached.spentBefore, [first.balances[0].used]);
      // Past it: what was spent before is exactly what the settlement before ended on, not
      // `used - amount` (1.0006 - 0.0006 is 0.9999999999999999, below a threshold of 1).
      for (const amount of [0.0006, 0.0000004, 0.0013]) {
        const before = (await store.balances([{ key: k, limit: 1 }], now))[0].used;
        const next = await store.settle(randomUUID(), undefined, cap(amount), now);
        assert.deepEqual(next.spentBefore, [before], `settling ${amount}`);
        assert.ok(before >= 1, `settling ${amount}: spent before ${before}`);
      }
      const again = await store.settle('spent-before-' + k, undefined, cap(0.1), now);
      const repeated = await store.settle('spent-before-' + k, undefined, cap(0.1), now);
      assert.equal(repeated.applied, false);
      assert.deepEqual(
        repeated.spentBefore,
        again.balances.map((b) => b.used),
        'a redelivery spends nothing',
      );
    });

    it('resets a balance to 0 once per event id, keeping holds in flight', async () => {
      const k = key();
      await store.settle(randomUUID(), undefined, [change(k, 90)], now);
      await store.reserve('in-flight', [change(k, 5)], 30_000, now);
      const id = randomUUID();
      const reset = await store.adjust(id, [{ ...change(k, 0), credit: 'reset' }], now);
      assert.equal(reset.applied, true);
      assert.deepEqual(reset.balances, [{ key: k, limit: 100, used: 0, reserved: 5 }]);
      // Spent again after it: a redelivery of the reset must not wipe that out.
      await store.settle(randomUUID(), undefined, [change(k, 30)], now);
      const again = await store.adjust(id, [{ ...change(k, 0), credit: 'reset' }], now);
      assert.equal(again.applied, false);
      assert.equal(again.balances[0].used, 30);
      assert.equal((await store.balances([{ key: k, limit: 100 }], now))[0].used, 30);
    });

    it("credits in the limit's unit, never below 0, once per event id", async () => {
      const k = key();
      await store.settle(randomUUID(), undefined, [change(k, 2.5, 10)], now);
      const id = randomUUID();
      const credit = await store.adjust(id, [{ ...change(k, 0, 10), credit: 1.25 }], now);
      assert.equal(credit.applied, true);
      assert.ok(Math.abs(credit.balances[0].used - 1.25) < 1e-6, `${credit.balances[0].used}`);
      const redelivered = await store.adjust(id, [{ ...change(k, 0, 10), credit: 1.25 }], now);
      assert.equal(redelivered.applied, false);
      assert.ok(Math.abs(redelivered.balances[0].used - 1.25) < 1e-6);
      const more = await store.adjust(randomUUID(), [{ ...change(k, 0, 10), credit: 5 }], now);
      assert.equal(more.balances[0].used, 0, 'floored at 0');
      // The credit is room again: a reservation the spend had blocked now fits.
      assert.equal((await store.reserve('fits', [change(k, 10, 10)], 30_000, now)).ok, true);
    });

    // A request retried with the same Idempotency-Key is the same event id published again,
    // seconds later: its time is the retry's own.
    it('applies an adjustment once per event id, a redelivery at a later time too', async () => {
      const k = key();
      await store.settle(randomUUID(), undefined, [change(k, 90)], now);
      const id = randomUUID();
      const credit = { ...change(k, 0), credit: 40 };
      assert.equal((await store.adjust(id, [credit], now)).applied, true);
      await store.flush?.();
      const retried = await store.adjust(id, [credit], now + 3_000);
      assert.equal(retried.applied, false);
      assert.equal((await store.balances([{ key: k, limit: 100 }], now))[0].used, 50);
    });

    it('adjusts only the balance it names: not another limit, not another window', async () => {
      const named = key();
      const otherLimit = key();
      const lastWindow = key();
      for (const k of [named, otherLimit, lastWindow]) {
        await store.settle(randomUUID(), undefined, [change(k, 100)], now);
      }
      await store.adjust(randomUUID(), [{ ...change(named, 0), credit: 'reset' }], now);
      const [a, b, c] = await store.balances(
        [named, otherLimit, lastWindow].map((k) => ({ key: k, limit: 100 })),
        now,
      );
      assert.deepEqual([a.used, b.used, c.used], [0, 100, 100]);
      assert.equal(
        (await store.reserve('after-reset', [change(named, 100)], 30_000, now)).ok,
        true,
      );
      assert.equal((await store.reserve('other', [change(otherLimit, 1)], 30_000, now)).ok, false);
    });

    it('leaves a balance nothing spent against as it was', async () => {
      const k = key();
      const result = await store.adjust(randomUUID(), [{ ...change(k, 0), credit: 40 }], now);
      assert.equal(result.applied, true);
      assert.deepEqual(result.balances, [{ key: k, limit: 100, used: 0, reserved: 0 }]);
      await store.settle(randomUUID(), undefined, [change(k, 30)], now);
      assert.equal((await store.balances([{ key: k, limit: 100 }], now))[0].used, 30);
    });

    it('never lets concurrent reservations overshoot the limit', async () => {
      const k = key();
      const results = await Promise.all(
        // Each wrapped: the embedded store answers with plain results, Redis with promises.
        Array.from({ length: 50 }, async (_, i) =>
          store.reserve(`c${i}`, [change(k, 7)], 30_000, now),
        ),
      );
      const held = results.filter((r) => r.ok).length;
      assert.equal(held, 14); // 14 × 7 = 98 <= 100 < 105
    });
  });
}
