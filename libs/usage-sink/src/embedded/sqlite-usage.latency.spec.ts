import assert from 'node:assert/strict';
import { StatementSync } from 'node:sqlite';
import { test } from 'node:test';
import {
  CompletionStatus,
  createRequestCompleted,
  GatewayEndpoint,
  type RequestCompleted,
} from '@aigw/contracts';
import { LATENCY_LEVELS, type Dimension, type LatencyRow } from '../domain/analytics.types';
import { answerLatency } from '../domain/answer-precision';
import { interpolatedQuantile } from '../domain/percentiles';
import { SqliteUsageStore } from './sqlite-usage.store';

const RANGE = { from: new Date('2026-05-01T00:00:00Z'), to: new Date('2026-05-03T00:00:00Z') };
const MODELS = ['m-a', 'm-b', 'm-c'];
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];

/** A seeded generator (mulberry32): the same random workload on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function completedEvents(count: number, seed: number): RequestCompleted[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
  const events: RequestCompleted[] = [];
  for (let i = 0; i < count; i++) {
    const model = pick(MODELS);
    // Ties (whole milliseconds), fractions, and a long tail.
    const latencyMs =
      next() < 0.3 ? Math.floor(next() * 50) : next() < 0.9 ? next() * 800 : 800 + next() * 3e4;
    events.push(
      createRequestCompleted(
        {
          requestId: `r-${seed}-${i}`,
          partitionKey: 'k',
          // u7 makes one request: a group of one.
          userId: i === 0 ? 'u7' : pick(USERS.slice(0, 6)),
          endpoint: GatewayEndpoint.ChatCompletions,
          status: CompletionStatus.Success,
          httpStatus: 200,
          latencyMs,
          ttfbMs: 1,
          provider: model === 'm-c' ? 'p2' : 'p1',
          backend: 'b',
          modelRequested: model,
          modelServed: model,
          stream: false,
          cached: false,
          attempts: 1,
          tier: pick(['free', 'pro']),
        },
        { occurredAt: new Date(RANGE.from.getTime() + next() * 2 * 86_400_000).toISOString() },
      ),
    );
  }
  return events;
}

/** What latency() answered before: every latency of a group sorted in JS. */
function expectedRows(
  events: readonly RequestCompleted[],
  keyOf: (e: RequestCompleted) => string,
): LatencyRow[] {
  const groups = new Map<string, number[]>();
  for (const e of events) groups.set(keyOf(e), [...(groups.get(keyOf(e)) ?? []), e.latencyMs]);
  return [...groups.keys()].sort().map((key) => {
    const sorted = groups.get(key)!.sort((a, b) => a - b);
    const [p50Ms, p90Ms, p95Ms, p99Ms] = LATENCY_LEVELS.map((l) => interpolatedQuantile(sorted, l));
    const meanMs = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    // As the API gives them: to ANSWER_SIGNIFICANT_DIGITS.
    return answerLatency({ key, requests: sorted.length, meanMs, p50Ms, p90Ms, p95Ms, p99Ms });
  });
}

/** Rows each statement run by `body` handed to JS. */
async function rowsRead<T>(body: () => Promise<T>): Promise<{ result: T; rows: number[] }> {
  const prototype = StatementSync.prototype;
  const original = Object.getOwnPropertyDescriptor(prototype, 'all')!;
  const all = original.value as (this: StatementSync, ...params: unknown[]) => unknown[];
  const rows: number[] = [];
  Object.defineProperty(prototype, 'all', {
    ...original,
    value(this: StatementSync, ...params: unknown[]) {
      const result = all.apply(this, params);
      rows.push(result.length);
      return result;
    },
  });
  try {
    return { result: await body(), rows };
  } finally {
    Object.defineProperty(prototype, 'all', original);
  }
}

/** Percentiles and counts exactly; means to rounding (SQLite's sum compensates). */
function assertSameRows(
  actual: readonly LatencyRow[],
  expected: readonly LatencyRow[],
  what: string,
) {
  assert.deepEqual(
    actual.map(({ meanMs: _, ...row }) => row),
    expected.map(({ meanMs: _, ...row }) => row),
    what,
  );
  actual.forEach((row, i) => {
    const want = expected[i].meanMs;
    assert.ok(Math.abs(row.meanMs - want) <= 1e-9 * want, `${what} ${row.key} mean`);
  });
}

const GROUPINGS: [Dimension, (e: RequestCompleted) => string][] = [
  ['none', () => 'all'],
  ['model', (e) => e.modelServed ?? ''],
  ['user', (e) => e.userId],
  ['provider', (e) => e.provider ?? ''],
  ['tier', (e) => e.tier ?? ''],
];

test('latency percentiles equal those of every latency sorted in JS, on random data', async () => {
  for (const [count, seed] of [
    [1, 1],
    [2, 2],
    [5, 3],
    [700, 4],
    [3000, 5],
  ]) {
    const store = new SqliteUsageStore(':memory:');
    try {
      const events = completedEvents(count, seed);
      await store.write(events);
      for (const [groupBy, keyOf] of GROUPINGS) {
        const rows = await store.latency({ ...RANGE, groupBy, filters: {} });
        assertSameRows(rows, expectedRows(events, keyOf), `${count} by ${groupBy}`);
      }
      const p1 = events.filter((e) => e.provider === 'p1' && e.tier === 'pro');
      const filtered = await store.latency({
        ...RANGE,
        groupBy: 'user',
        filters: { provider: 'p1', tier: 'pro' },
      });
      assertSameRows(
        filtered,
        expectedRows(p1, (e) => e.userId),
        `${count} filtered`,
      );
    } finally {
      store.close();
    }
  }
});

test('latency reads at most 8 rows per group into JS, not every request', async () => {
  const store = new SqliteUsageStore(':memory:');
  try {
    await store.write(completedEvents(5000, 7));
    const { result, rows } = await rowsRead(() =>
      store.latency({ ...RANGE, groupBy: 'model', filters: {} }),
    );
    assert.equal(result.length, MODELS.length);
    assert.equal(
      result.reduce((a, r) => a + r.requests, 0),
      5000,
    );
    assert.ok(Math.max(...rows) <= 8 * MODELS.length, `rows read: ${rows.join(', ')}`);
  } finally {
    store.close();
  }
});
