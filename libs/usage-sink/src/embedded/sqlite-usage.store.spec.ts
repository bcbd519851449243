import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BudgetState,
  BudgetUnit,
  createBudgetStateChanged,
  createTokenUsageRecorded,
  LimitKind,
  topicForType,
  UsageSource,
  type GatewayEvent,
} from '@aigw/contracts';
import { bucketStart } from '../domain/analytics.types';
import { AUDIT_TABLES, EXPIRING_TABLES, payloadExpiry } from '../domain/analytics-retention';
import { TABLE_OF_TOPIC, type RawTable } from '../domain/event-rows';
import { ADJUSTMENTS, buildWorkload, payloadEvents, RANGE } from '../testing/analytics-fixture';
import { describeAnalyticsContract } from '../testing/analytics-contract';
import { describeAnalyticsPaging } from '../testing/paging-contract';
import { SqliteUsageStore } from './sqlite-usage.store';

const topicOf = (event: GatewayEvent) => topicForType(event.type);

/** The ids of each limit's newest budget state: retention keeps them for the budgets panel. */
function newestStates(events: readonly GatewayEvent[]): Set<string> {
  const newest = new Map<string, GatewayEvent & { budgetKey: string; limitKind: string }>();
  for (const event of events) {
    if (event.type !== 'budget.state') continue;
    const state = event as GatewayEvent & { budgetKey: string; limitKind: string };
    const key = `${state.budgetKey}\n${state.limitKind}`;
    const held = newest.get(key);
    const later =
      !held ||
      Date.parse(state.occurredAt) > Date.parse(held.occurredAt) ||
      (state.occurredAt === held.occurredAt && state.eventId > held.eventId);
    if (later) newest.set(key, state);
  }
  return new Set([...newest.values()].map((e) => e.eventId));
}

// The embedded store of the all-in-one gateway, against the contract ClickHouse meets.
describeAnalyticsContract('the embedded SQLite store', async (options) => {
  const store = new SqliteUsageStore(
    join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db'),
    options,
  );
  return {
    writer: () => store,
    analytics: store,
    storedCounts: async () => ({
      usage: store.count('usage_events'),
      completed: store.count('request_completed_events'),
      adjustments: store.count('budget_adjustment_events'),
    }),
    close: async () => store.close(),
  };
});

const analyticsPath = () => join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');

describeAnalyticsPaging('the embedded SQLite store', async () => {
  const store = new SqliteUsageStore(analyticsPath());
  return {
    writer: () => store,
    analytics: store,
    storedCounts: async () => ({ usage: 0, completed: 0, adjustments: 0 }),
    close: async () => store.close(),
  };
});

// The sink's consumer commits its position (Kafka's offset, or the embedded log's) once a
// write returns: a write lost to a power loss after that is never delivered again, so by
// default `write` waits for an fsync of the WAL (off the event loop; commits are NORMAL).
test('commits at NORMAL (1) and waits for a WAL sync in write by default', () => {
  const store = new SqliteUsageStore(analyticsPath());
  assert.deepEqual([store.synchronousLevel(), store.waitsForSync], [1, true]);
  store.close();
});

test('waits for no sync with normal, and for one with full', () => {
  const path = analyticsPath();
  const normal = new SqliteUsageStore(path, { sync: 'normal' });
  assert.deepEqual([normal.synchronousLevel(), normal.waitsForSync], [1, false]);
  normal.close();
  const full = new SqliteUsageStore(path, { sync: 'full' });
  assert.deepEqual([full.synchronousLevel(), full.waitsForSync], [1, true]);
  full.close();
});

test('an id twice in one batch is stored once', async () => {
  const { events, usage } = buildWorkload();
  const store = new SqliteUsageStore(':memory:');
  try {
    await store.write([...events, ...events.slice(0, 10)]);
    assert.equal(store.count('usage_events'), usage.length);
  } finally {
    store.close();
  }
});

test('a write that fails part-way stores none of its batch and throws', async () => {
  const { events } = buildWorkload();
  const store = new SqliteUsageStore(':memory:');
  try {
    const unknown = { ...events[1], type: 'no.such.event' } as unknown as GatewayEvent;
    await assert.rejects(store.write([events[0], events[1], unknown]), /no raw table/);
    assert.equal(store.count('request_accepted_events') + store.count('usage_events'), 0);
  } finally {
    store.close();
  }
});

test('a range counts the events whose bucket starts in it, at every bucket edge', async () => {
  const store = new SqliteUsageStore(':memory:');
  const day = Date.parse('2026-03-02T00:00:00Z') / 1000;
  // Events a second either side of hour and day edges, and on them.
  const times = [-86_400, -3600, 0, 3600, 7200].flatMap((edge) =>
    [-1, 0, 1].map((d) => day + edge + d),
  );
  const events = times.map((t, i) =>
    createTokenUsageRecorded(
      {
        requestId: `req-${i}`,
        partitionKey: 'alice',
        userId: 'alice',
        inputTokens: 1,
        outputTokens: 0,
        cachedInputTokens: 0,
        usageSource: UsageSource.Reported,
        modelRequested: 'm',
        modelServed: 'm',
        provider: 'p',
        backend: 'b',
        costDollars: 0,
        weightedTokenCost: 1,
        cacheHit: false,
      },
      { occurredAt: new Date(t * 1000 + 250) },
    ),
  );
  try {
    await store.write(events);
    const edges = [-86_400, -3601, -3600, -1, 0, 1, 3599, 3600, 7201].map((d) => day + d);
    for (const bucket of ['hour', 'day'] as const) {
      for (const from of edges) {
        for (const to of edges.filter((e) => e > from)) {
          // Milliseconds past the second too: the range bounds round up to whole seconds.
          for (const ms of [0, 500]) {
            const range = { from: new Date(from * 1000 + ms), to: new Date(to * 1000 + ms) };
            const [lo, hi] = [from + (ms ? 1 : 0), to + (ms ? 1 : 0)];
            const expected = times.filter((t) => {
              const start = bucketStart(t, bucket);
              return start >= lo && start < hi;
            }).length;
            const report = await store.usage({ ...range, bucket, groupBy: 'none', filters: {} });
            assert.equal(
              report.totals.requests,
              expected,
              `${bucket} ${from - day}..${to - day}+${ms}ms`,
            );
          }
        }
      }
    }
  } finally {
    store.close();
  }
});

test('expiry deletes the raw rows older than the cutoff in every table, and no newer one', async () => {
  const { events } = buildWorkload();
  const audited = (e: GatewayEvent) => AUDIT_TABLES.includes(TABLE_OF_TOPIC[topicOf(e)]);
  const newest = newestStates(events);
  const expiring = events.filter((e) => !audited(e) && !newest.has(e.eventId));
  const seconds = (e: GatewayEvent) => Math.floor(Date.parse(e.occurredAt) / 1000);
  const times = [...new Set(expiring.map(seconds))].sort((a, b) => a - b);
  const cutoff = times[Math.floor(times.length / 2)];
  const tables = EXPIRING_TABLES.filter((t) =>
    events.some((e) => TABLE_OF_TOPIC[topicOf(e)] === t),
  );
  assert.ok(tables.length >= 3, 'the workload spans several tables');
  const store = new SqliteUsageStore(':memory:');
  try {
    await store.write(events);
    const kept = (table: RawTable) =>
      events.filter(
        (e) =>
          TABLE_OF_TOPIC[topicOf(e)] === table && (seconds(e) >= cutoff || newest.has(e.eventId)),
      ).length;
    const older = expiring.filter((e) => seconds(e) < cutoff).length;
    assert.ok(older > 7 && older < expiring.length, 'the cutoff splits the workload');

    // Chunks of 7 rows: each table is emptied of its old rows over several statements.
    assert.equal(await store.expireBefore(cutoff, undefined, 7), older);
    for (const table of tables) assert.equal(store.count(table), kept(table), table);
    assert.equal(await store.expireBefore(cutoff, undefined, 7), 0, 'nothing left to expire');
    // The rows at the cutoff itself stay; one second later they go.
    const atCutoff = expiring.filter((e) => seconds(e) === cutoff).length;
    assert.ok(atCutoff > 0);
    assert.equal(await store.expireBefore(cutoff + 1), atCutoff);
  } finally {
    store.close();
  }
});

test('the payload retention deletes old payloads and nothing else', async () => {
  const { events } = buildWorkload();
  const payloads = payloadEvents();
  const store = new SqliteUsageStore(':memory:');
  try {
    await store.write([...events, ...payloads]);
    const usage = store.count('usage_events');
    // Past the second payload: two go, the third stays, the usage of those days too.
    const cutoff = Math.floor(Date.parse('2026-03-01T10:00:02.000Z') / 1000);
    assert.equal(await payloadExpiry(store).expireBefore(cutoff), 2);
    assert.equal(store.count('request_payload_events'), 1);
    assert.equal(store.count('usage_events'), usage);
    assert.equal(await store.payload('req-payload-1'), undefined);
    assert.ok(await store.payload('req-payload-3'));
  } finally {
    store.close();
  }
});

test("expiry keeps the audit trail and each limit's newest state, which the budgets panel shows", async () => {
  const { events } = buildWorkload();
  const store = new SqliteUsageStore(':memory:');
  try {
    await store.write(events);
    const last = Math.max(...events.map((e) => Date.parse(e.occurredAt)));
    const budgetsBefore = await store.budgets({ limit: 1000 });
    // Past every event: all the traffic goes, every adjustment stays and is still listed.
    const expired = await store.expireBefore(Math.floor(last / 1000) + 1);
    const newest = newestStates(events);
    assert.equal(newest.size, 2, 'two limits with states');
    assert.equal(
      expired,
      events.filter((e) => e.type !== 'budget.adjusted' && !newest.has(e.eventId)).length,
    );
    for (const table of EXPIRING_TABLES) {
      if (table !== 'budget_state_events') assert.equal(store.count(table), 0, table);
    }
    // Each limit's newest state stays, as ClickHouse's budget_state_newest keeps it: the
    // budgets panel answers as before (a user exhausted a week ago still is this month).
    assert.equal(store.count('budget_state_events'), newest.size);
    assert.deepEqual(await store.budgets({ limit: 1000 }), budgetsBefore);
    assert.equal(await store.expireBefore(Math.floor(last / 1000) + 1), 0);
    assert.equal(store.count('budget_adjustment_events'), ADJUSTMENTS.length);
    const listed = await store.budgetAdjustments({
      from: new Date(RANGE.from),
      to: new Date(RANGE.to),
      limit: 100,
      filters: {},
    });
    assert.deepEqual(
      listed.map((r) => r.at),
      [...ADJUSTMENTS].reverse().map((a) => a.at),
    );
  } finally {
    store.close();
  }
});

test('the budgets panel reads many states in one pass, not a scan of the table per row', async () => {
  // 12,000 states of 20 users' limits, a few hours of a busy gateway. The query ran
  // synchronously on the gateway's event loop and compared every row with every other:
  // ~28 s here, each time the panel or the usage page loaded.
  const store = new SqliteUsageStore(':memory:');
  try {
    const start = Date.parse('2026-03-01T00:00:00Z');
    const events: GatewayEvent[] = [];
    for (let i = 0; i < 12_000; i++) {
      const user = `u${i % 20}`;
      events.push(
        createBudgetStateChanged(
          {
            requestId: null,
            partitionKey: user,
            budgetKey: user,
            limitKind: LimitKind.TokenBudgetPerUser,
            windowId: '2026-03',
            state: BudgetState.Exhausted,
            remaining: i,
            limit: 100_000,
            unit: BudgetUnit.Tokens,
            resetAt: '2026-04-01T00:00:00.000Z',
          },
          // Two states a millisecond: the later id of the newest millisecond wins a tie.
          { occurredAt: new Date(start + Math.floor(i / 40)) },
        ),
      );
    }
    for (let i = 0; i < events.length; i += 1000) await store.write(events.slice(i, i + 1000));
    // The CPU time of the read (it runs synchronously in this process), not the wall clock,
    // which on a loaded machine also counts the turns other processes took.
    const cpuBefore = process.cpuUsage();
    const rows = await store.budgets({ limit: 1000 });
    const cpu = process.cpuUsage(cpuBefore);
    const tookMs = (cpu.user + cpu.system) / 1_000;
    assert.equal(rows.length, 20);
    const newestOf = (user: string) =>
      events
        .filter((e) => e.partitionKey === user)
        .reduce((a, b) =>
          a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && a.eventId > b.eventId)
            ? a
            : b,
        );
    for (const row of rows) {
      const newest = newestOf(row.budgetKey) as unknown as { remaining: number };
      assert.equal(row.remaining, newest.remaining, row.budgetKey);
    }
    assert.ok(tookMs < 2_000, `budgets took ${Math.round(tookMs)} ms of CPU`);
  } finally {
    store.close();
  }
});
