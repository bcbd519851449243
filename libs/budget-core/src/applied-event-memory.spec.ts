import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { Topic, TOPIC_SETTINGS } from '@aigw/contracts';
import { APPLIED_EVENT_MEMORY_MS } from './budget-store.port';
import { LocalBudgetStore } from './embedded/local-budget-store';
import { RedisBudgetStore } from './redis/redis-budget-store';

const DAY_MS = 86_400_000;
const USAGE_RETENTION_MS = TOPIC_SETTINGS[Topic.UsageRecorded].retentionMs;

// The budget consumer may read the whole usage topic again (a new group, or offsets
// expired): every event it still holds must be refused as already applied.
describe('applied-event memory', () => {
  it('outlasts the usage topic retention', () => {
    assert.ok(USAGE_RETENTION_MS > 0);
    assert.ok(
      APPLIED_EVENT_MEMORY_MS >= USAGE_RETENTION_MS,
      `${APPLIED_EVENT_MEMORY_MS} ms < ${USAGE_RETENTION_MS} ms`,
    );
  });

  it('is the TTL the Redis store gives its applied-event markers by default', async () => {
    const ttls: unknown[] = [];
    // Stands in for ioredis: records the settle script's arguments.
    const fake = {
      defineCommand: () => undefined,
      aigwSettle: async (_keys: number, ...args: unknown[]) => {
        // KEYS: marker, hold record; ARGV: reservation id, marker TTL.
        ttls.push(args[3]);
        return [1];
      },
    };
    const store = new RedisBudgetStore(fake as unknown as Redis);
    await store.settle('e1', undefined, [], Date.now());
    assert.deepEqual(ttls, [APPLIED_EVENT_MEMORY_MS]);
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
