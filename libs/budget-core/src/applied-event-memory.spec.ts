import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { Topic, TOPIC_SETTINGS } from '@aigw/contracts';
import {
  APPLIED_EVENT_MEMORY_MS,
  APPLIED_MARKER_FLOOR_MS,
  KEY_GRACE_MS,
} from './budget-store.port';
import { LocalBudgetStore } from './embedded/local-budget-store';
import { RedisBudgetStore } from './redis/redis-budget-store';

const DAY_MS = 86_400_000;
const USAGE_RETENTION_MS = TOPIC_SETTINGS[Topic.UsageRecorded].retentionMs;

// The budget consumer may read the whole usage topic again (a new group, or offsets
// expired): every event it still holds must be refused as already applied, or land
// where it counts for nothing (a window whose balance has expired).
describe('applied-event memory', () => {
  it('outlasts the usage topic retention', () => {
    assert.ok(USAGE_RETENTION_MS > 0);
    assert.ok(
      APPLIED_EVENT_MEMORY_MS >= USAGE_RETENTION_MS,
      `${APPLIED_EVENT_MEMORY_MS} ms < ${USAGE_RETENTION_MS} ms`,
    );
  });

  it('the Redis store keeps a marker until the last balance its event changed expires', async () => {
    const expiries: unknown[] = [];
    // Stands in for ioredis: records the marker's expiry the scripts are given.
    const fake = {
      defineCommand: () => undefined,
      // KEYS: marker, hold record, balance keys; ARGV: reservation id, marker expiry.
      aigwSettle: async (keys: number, ...args: unknown[]) => {
        expiries.push(args[keys + 1]);
        return [1];
      },
      // KEYS: marker, balance keys; ARGV: marker expiry.
      aigwAdjust: async (keys: number, ...args: unknown[]) => {
        expiries.push(args[keys]);
        return [1];
      },
    };
    const now = Date.UTC(2030, 0, 10, 12);
    const store = new RedisBudgetStore(fake as unknown as Redis, { now: () => now });
    const change = (windowEndsAt: number) => ({
      key: `k${windowEndsAt}`,
      amount: 1,
      limit: 9,
      windowEndsAt,
    });
    const minuteEnd = now + 60_000;
    const dayEnd = Date.UTC(2030, 0, 11);
    const monthEnd = Date.UTC(2030, 1, 1);
    await store.settle('minute', undefined, [change(minuteEnd)], now);
    // Late: its window (and grace) ended before it came. Nothing to count twice.
    await store.settle('late', undefined, [change(now - 2 * KEY_GRACE_MS)], now);
    await store.settle('day-and-minute', 'r', [change(minuteEnd), change(dayEnd)], now);
    await store.settle('month', undefined, [change(dayEnd), change(monthEnd)], now);
    await store.settle('nothing-bound', 'r', [], now);
    await store.adjust('credit', [{ ...change(monthEnd), credit: 1 }], now);
    assert.deepEqual(expiries, [
      minuteEnd + KEY_GRACE_MS,
      now + APPLIED_MARKER_FLOOR_MS,
      dayEnd + KEY_GRACE_MS,
      monthEnd + KEY_GRACE_MS,
      now + APPLIED_MARKER_FLOOR_MS,
      monthEnd + KEY_GRACE_MS,
    ]);
    // Far below the usage topic's retention, which it once was (47 days).
    assert.ok(Number(expiries[3]) - now < 23 * DAY_MS);
  });

  it('the embedded store refuses an event redelivered 30 days on, across a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aigw-applied-')), 'budget.db');
    const start = Date.UTC(2030, 0, 1);
    let now = start;
    const change = (at: number) => ({ key: `k${at}`, amount: 1, limit: 100, windowEndsAt: at });
    const first = new LocalBudgetStore(path, () => now);
    assert.equal(first.settle('old', undefined, [change(start)], start).applied, true);
    await first.flush();
    // A settlement a month later: its flush prunes what the ledger no longer needs.
    now = start + 30 * DAY_MS;
    first.settle('recent', undefined, [change(now)], now);
    await first.flush();
    first.close();

    const second = new LocalBudgetStore(path, () => now);
    assert.equal(second.settle('old', undefined, [change(start)], start).applied, false);
    second.close();

    // Past the memory the event is forgotten: the usage log no longer holds it either.
    now = start + APPLIED_EVENT_MEMORY_MS + DAY_MS;
    const third = new LocalBudgetStore(path, () => now);
    assert.equal(third.settle('old', undefined, [change(start)], start).applied, true);
    third.close();
  });
});
