import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LocalBudgetStore, type BalanceChange } from '@aigw/budget-core';
import { RunningHolds } from './running-holds';

const HOLD_MS = 1_000;

function setup() {
  let now = 1_000_000;
  const store = new LocalBudgetStore(':memory:', () => now);
  const asked: string[][] = [];
  const refresh = store.refresh.bind(store);
  store.refresh = (ids, holdMs, at) => {
    asked.push([...ids]);
    return refresh(ids, holdMs, at);
  };
  const refreshed: number[] = [];
  const holds = new RunningHolds(store, {
    holdMs: HOLD_MS,
    now: () => now,
    onRefreshed: (count) => refreshed.push(count),
  });
  const key = `k-${randomUUID()}`;
  const change = (amount: number): BalanceChange[] => [
    { key, amount, limit: 100, windowEndsAt: now + 3_600_000 },
  ];
  const reserve = (id: string, amount: number) => store.reserve(id, change(amount), HOLD_MS, now);
  return {
    store,
    holds,
    asked,
    refreshed,
    reserve,
    advance: (ms: number) => (now += ms),
    reserved: async () => (await store.balances([{ key, limit: 100 }], now))[0].reserved,
  };
}

describe('RunningHolds', () => {
  it("keeps a running call's hold past its hold time, and lets it lapse once the call ends", async () => {
    const { holds, reserve, advance, reserved, refreshed } = setup();
    assert.equal(reserve('long', 60).ok, true);
    holds.started('long');
    try {
      // Rounds every quarter of the hold time, for five hold times.
      for (let round = 0; round < 20; round++) {
        advance(HOLD_MS / 4);
        await holds.refreshDue();
      }
      assert.equal(await reserved(), 60, 'still held five hold times on');
      assert.equal(reserve('other', 50).ok, false, 'no room beside it');
      assert.ok(refreshed.length >= 10, `refreshed ${refreshed.length} times`);
      holds.ended('long');
      advance(HOLD_MS);
      assert.equal(await reserved(), 0, 'lapses once nothing keeps it');
    } finally {
      holds.close();
    }
  });

  it('asks the store nothing for a call shorter than a quarter of the hold time', async () => {
    const { holds, reserve, advance, asked } = setup();
    reserve('short', 10);
    holds.started('short');
    advance(HOLD_MS / 8);
    await holds.refreshDue();
    holds.ended('short');
    advance(HOLD_MS);
    await holds.refreshDue();
    assert.deepEqual(asked, []);
    assert.equal(holds.size, 0);
    holds.close();
  });

  it('refreshes the due holds in one store call and stops keeping one that was settled', async () => {
    const { store, holds, reserve, advance, asked } = setup();
    for (const id of ['a', 'b', 'c']) {
      reserve(id, 10);
      holds.started(id);
    }
    store.settle('event-b', 'b', [], 0);
    advance(HOLD_MS / 4);
    await holds.refreshDue();
    assert.deepEqual(asked, [['a', 'b', 'c']]);
    assert.equal(holds.size, 2, 'the settled one is no longer kept');
    advance(HOLD_MS / 4);
    await holds.refreshDue();
    assert.deepEqual(asked[1], ['a', 'c']);
    holds.close();
  });

  it('keeps trying through a store that fails', async () => {
    const { holds, store, reserve, advance, reserved } = setup();
    reserve('held', 40);
    holds.started('held');
    const working = store.refresh.bind(store);
    store.refresh = () => {
      throw new Error('unreachable');
    };
    advance(HOLD_MS / 4);
    await holds.refreshDue();
    store.refresh = working;
    advance(HOLD_MS / 4);
    await holds.refreshDue();
    advance(HOLD_MS * 0.75);
    assert.equal(await reserved(), 40);
    holds.close();
  });
});
