import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { APPLIED_MARKER_FLOOR_MS, KEY_GRACE_MS, type BalanceChange } from '../budget-store.port';
import { DAY, windowAt } from '../domain/budget-window';
import { startRedisStore } from '../testing/redis-store';
import type { RedisBudgetStore } from './redis-budget-store';

const namespace = 'marker-test';

// Markers of settled events (one per usage event) are most of the keys a busy gateway
// keeps in Redis: they must be refused as long as a redelivery could count, and no longer.
describe('applied-event markers in Redis', () => {
  let redis: Redis;
  let store: RedisBudgetStore;
  let close: () => Promise<void>;
  before(async () => {
    ({ redis, store, close } = await startRedisStore(namespace));
  });
  after(() => close());

  const markerTtl = (eventId: string) => redis.pttl(`${namespace}:applied:${eventId}`);

  it('ignores a replay within the window, and lets the marker go when the window has', async () => {
    const now = Date.now();
    const day = windowAt(DAY, now);
    const key = `${namespace}:budget:{${randomUUID()}}:day:${day.id}`;
    const change: BalanceChange = { key, amount: 7, limit: 100, windowEndsAt: day.endsAt };
    const eventId = randomUUID();
    assert.equal((await store.settle(eventId, undefined, [change], now)).applied, true);
    const replay = await store.settle(eventId, undefined, [change], now);
    assert.equal(replay.applied, false);
    assert.equal(replay.balances[0].used, 7);

    const ttl = await markerTtl(eventId);
    const keyTtl = await redis.pttl(key);
    // As long as the balance it guards, and no longer (the day's end plus its grace).
    assert.ok(ttl <= day.endsAt + KEY_GRACE_MS - now, `marker ttl ${ttl}`);
    assert.ok(ttl >= keyTtl - 1_000 && ttl > 0, `marker ttl ${ttl}, balance ttl ${keyTtl}`);
  });

  it('keeps the marker of an event whose window had ended the floor, and no longer', async () => {
    const now = Date.now();
    const eventId = randomUUID();
    const key = `${namespace}:budget:{${randomUUID()}}:minute`;
    // Its window and grace ended before it was settled: a late event, or a replay.
    const change = { key, amount: 1, limit: 10, windowEndsAt: now - 2 * KEY_GRACE_MS };
    await store.settle(eventId, undefined, [change], now);
    const ttl = await markerTtl(eventId);
    assert.ok(ttl > APPLIED_MARKER_FLOOR_MS - 5_000 && ttl <= APPLIED_MARKER_FLOOR_MS, `${ttl}`);
    assert.equal((await store.settle(eventId, undefined, [change], now)).applied, false);
    // Nothing stays of the balance: the redelivery after the floor counts for nothing.
    assert.equal(await redis.exists(key), 0);
  });

  it('bounds an adjustment marker by the window it adjusted', async () => {
    const now = Date.now();
    const day = windowAt(DAY, now);
    const key = `${namespace}:budget:{${randomUUID()}}:day:${day.id}`;
    await store.settle(
      randomUUID(),
      undefined,
      [{ key, amount: 50, limit: 100, windowEndsAt: day.endsAt }],
      now,
    );
    const eventId = randomUUID();
    const credit = { key, limit: 100, windowEndsAt: day.endsAt, credit: 20 };
    assert.equal((await store.adjust(eventId, [credit], now)).applied, true);
    const again = await store.adjust(eventId, [credit], now);
    assert.equal(again.applied, false);
    assert.equal(again.balances[0].used, 30);
    const ttl = await markerTtl(eventId);
    assert.ok(ttl > 0 && ttl <= day.endsAt + KEY_GRACE_MS - now, `${ttl}`);
  });
});
