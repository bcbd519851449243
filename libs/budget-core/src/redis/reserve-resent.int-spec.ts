import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { BalanceChange } from '../budget-store.port';
import { startRedisStore } from '../testing/redis-store';
import type { RedisBudgetStore } from './redis-budget-store';

const namespace = 'resent-test';

// ioredis sends again, on reconnecting, a command whose connection dropped before its
// reply (autoResendUnfulfilledCommands): a reservation whose script had run then runs
// twice under one id. Its hold must count once, so that its release (or its lapse)
// gives back all of it; otherwise the room stays taken until the balance key expires.
describe('a reservation script run twice under one id', () => {
  let store: RedisBudgetStore;
  let close: () => Promise<void>;
  before(async () => {
    ({ store, close } = await startRedisStore(namespace));
  });
  after(() => close());

  const setup = () => {
    const now = Date.now();
    const key = `${namespace}:budget:{${randomUUID()}}:day`;
    const change: BalanceChange = { key, amount: 40, limit: 100, windowEndsAt: now + 3_600_000 };
    const reserved = async (at: number) =>
      (await store.balances([{ key, limit: 100 }], at))[0].reserved;
    return { now, change, reserved };
  };

  it('holds once, and its release gives all of it back', async () => {
    const { now, change, reserved } = setup();
    const id = randomUUID();
    assert.equal((await store.reserve(id, [change], 60_000, now)).ok, true);
    const again = await store.reserve(id, [change], 60_000, now);
    assert.equal(again.ok, true);
    assert.equal(await reserved(now), 40, 'held once');
    await store.release(id);
    assert.equal(await reserved(now), 0, 'all given back');
  });

  it('holds once, and its lapse gives all of it back', async () => {
    const { now, change, reserved } = setup();
    const id = randomUUID();
    await store.reserve(id, [change], 1_000, now);
    await store.reserve(id, [change], 1_000, now);
    assert.equal(await reserved(now + 1_001), 0);
  });
});
