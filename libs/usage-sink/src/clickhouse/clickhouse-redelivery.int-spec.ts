// Redelivered batches against a real ClickHouse: the rollups (what the analytics API
// reads) must count every event once. ReplacingMergeTree folds a second insert only in
// the raw table; a materialized view adds it to its SummingMergeTree for good, so the
// writer has to keep stored events out of the insert.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import type { GatewayEvent } from '@aigw/contracts';
import { createClickHouseClient, migrate, sqlIdentifier } from '@aigw/infra';
import { MetricsRegistry } from '@aigw/observability';
import { startClickHouse, type RealService } from '@aigw/testing';
import { toRowsByTable, type RawTable } from '../domain/event-rows';
import type { UsageAnalytics } from '../domain/analytics.types';
import { buildWorkload, RANGE, usageEventAt } from '../testing/analytics-fixture';
import { ClickHouseUsageAnalytics } from './clickhouse-usage.analytics';
import { meteredClickHouseWriter } from '../usage-sink-runtime';
import { ClickHouseUsageWriter } from './clickhouse-usage.writer';

let server: RealService;
const admin: ClickHouseClient[] = [];
const databases: string[] = [];

async function freshClient(): Promise<ClickHouseClient> {
  server ??= await startClickHouse();
  const name = sqlIdentifier(`it_redeliver_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const root = createClickHouseClient({ url: server.url });
  admin.push(root);
  await root.command({ query: `CREATE DATABASE ${name}` });
  databases.push(name);
  const client = createClickHouseClient({ url: server.url, database: name });
  admin.push(client);
  await migrate(client);
  return client;
}

/** Every answer of the API that reads a rollup, over the workload's range. */
async function rollupAnswers(analytics: UsageAnalytics) {
  const range = { from: new Date(RANGE.from), to: new Date(RANGE.to) };
  return {
    usageByUserHour: await analytics.usage({
      ...range,
      bucket: 'hour',
      groupBy: 'user',
      filters: {},
    }),
    usageByOperationDay: await analytics.usage({
      ...range,
      bucket: 'day',
      groupBy: 'operation',
      filters: {},
    }),
    topSpenders: await analytics.topSpenders({
      ...range,
      limit: 100,
      orderBy: 'cost',
      filters: {},
    }),
    rates: await analytics.rates({ ...range, filters: {} }),
    latency: await analytics.latency({ ...range, groupBy: 'model', filters: {} }),
    fallbacks: await analytics.fallbacks({ ...range, filters: {} }),
  };
}

/** Floats to 12 significant digits: parts summed in another order differ in the last bits. */
function rounded(value: unknown): unknown {
  if (typeof value === 'number')
    return Number.isInteger(value) ? value : Number(value.toPrecision(12));
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  }
  return value;
}

const idsOf = (events: readonly GatewayEvent[]) => new Set(events.map((e) => e.eventId));

after(async () => {
  const [root] = admin;
  for (const name of databases) {
    await root?.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  }
  await Promise.allSettled(admin.map((c) => c.close()));
  await server?.stop();
});

describe('a ClickHouse sink given the same events again', () => {
  const workload = buildWorkload(90);
  let once: UsageAnalytics;
  let redeliveredClient: ClickHouseClient;
  let redelivered: UsageAnalytics;
  const alreadyStored = new Map<RawTable, number>();

  before(async () => {
    const onceClient = await freshClient();
    await new ClickHouseUsageWriter(onceClient).write(workload.events);
    once = new ClickHouseUsageAnalytics(onceClient);
    redeliveredClient = await freshClient();
    redelivered = new ClickHouseUsageAnalytics(redeliveredClient);
  });

  it('counts a batch written twice, and a batch overlapping it, once in every rollup', async () => {
    const third = Math.floor(workload.events.length / 3);
    const first = workload.events.slice(0, 2 * third);
    const overlapping = workload.events.slice(third); // its first third is in `first` too
    // Counts the writer's reads: one per batch, whatever the tables it writes to.
    let checks = 0;
    const counted: ClickHouseClient = Object.create(redeliveredClient, {
      query: {
        value: (params: Parameters<ClickHouseClient['query']>[0]) => {
          checks += 1;
          return redeliveredClient.query(params);
        },
      },
    });
    const writer = new ClickHouseUsageWriter(counted, (table, events) =>
      alreadyStored.set(table, (alreadyStored.get(table) ?? 0) + events),
    );
    await writer.write(first);
    await writer.write(first); // a crash after the insert, before the offset commit
    await writer.write(overlapping); // a rebalance: the new owner re-reads from the commit
    assert.equal(checks, 3);
    assert.ok(toRowsByTable(first).size >= 3); // so one check covers several tables
    // A restarted sink with its own writer (no state shared with the first one), as the
    // usage-sink service builds it: what it skips shows in its metrics.
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    await meteredClickHouseWriter(redeliveredClient, metrics).write(overlapping);
    const skippedByTable = (await metrics.metrics())
      .split('\n')
      .filter((l) => l.startsWith('ai_gateway_usage_sink_events_already_stored_total{'));
    assert.ok(skippedByTable.some((l) => l.includes('table="usage_events"')));
    assert.equal(
      skippedByTable.reduce((a, l) => a + Number(l.split(' ').at(-1)), 0),
      idsOf(overlapping).size,
    );

    const answers = await rollupAnswers(redelivered);
    assert.equal(answers.usageByUserHour.totals.requests, workload.usage.length);
    assert.equal(answers.rates.requests, workload.completed.length);
    assert.deepEqual(rounded(answers), rounded(await rollupAnswers(once)));

    const again =
      idsOf(first).size + [...idsOf(overlapping)].filter((id) => idsOf(first).has(id)).length;
    const skipped = [...alreadyStored.values()].reduce((a, n) => a + n, 0);
    assert.equal(skipped, again);
    assert.ok((alreadyStored.get('usage_events') ?? 0) > 0);
    assert.ok((alreadyStored.get('request_completed_events') ?? 0) > 0);
  });

  it('keeps the rollups equal to the raw rows read with FINAL', async () => {
    const [rollup] = await (
      await redeliveredClient.query({
        query: 'SELECT sum(requests) AS n, round(sum(cost), 9) AS cost FROM usage_daily',
        format: 'JSONEachRow',
      })
    ).json<{ n: string; cost: number }>();
    const [raw] = await (
      await redeliveredClient.query({
        query: `SELECT count() AS n, round(sum(cost_dollars), 9) AS cost FROM usage_events FINAL`,
        format: 'JSONEachRow',
      })
    ).json<{ n: string; cost: number }>();
    assert.deepEqual(rollup, raw);
    assert.equal(Number(raw.n), workload.usage.length);
  });

  it('checks a batch past 2,000 ids in more than one query, and still counts it once', async () => {
    const client = await freshClient();
    const start = Date.parse('2026-03-04T00:00:00Z');
    const many = Array.from({ length: 2_500 }, (_, i) =>
      usageEventAt(new Date(start + i * 1_000), `big-${i}`),
    );
    let checks = 0;
    const counted: ClickHouseClient = Object.create(client, {
      query: {
        value: (params: Parameters<ClickHouseClient['query']>[0]) => {
          checks += 1;
          return client.query(params);
        },
      },
    });
    let skipped = 0;
    const writer = new ClickHouseUsageWriter(counted, (_, events) => (skipped += events));
    await writer.write(many);
    await writer.write([...many].reverse());
    assert.equal(checks, 4);
    assert.equal(skipped, many.length);
    const [row] = await (
      await client.query({
        query: 'SELECT sum(requests) AS n FROM usage_hourly',
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    assert.equal(Number(row.n), many.length);
  });
});
