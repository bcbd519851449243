// The sink and the analytics API against a real ClickHouse (18.16 in CI): every event
// stored once however often it is delivered, rollups equal to aggregates of the raw
// rows, and the same API contract the embedded store meets.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { BudgetAdjustmentAction, createBudgetAdjusted, type GatewayEvent } from '@aigw/contracts';
import { EmbeddedEventBus, SqliteEventLog } from '@aigw/embedded';
import {
  BUILTIN_MIGRATIONS_DIR,
  createClickHouseClient,
  loadMigrations,
  migrate,
  sqlIdentifier,
} from '@aigw/infra';
import { startClickHouse, type RealService } from '@aigw/testing';
import { describeAnalyticsContract } from '../testing/analytics-contract';
import { describeAnalyticsPaging } from '../testing/paging-contract';
import { toRowsByTable } from '../domain/event-rows';
import {
  ADJUSTMENTS,
  buildWorkload,
  payloadEvents,
  RANGE,
  usageEventAt,
} from '../testing/analytics-fixture';
import { UsageSinkConsumer } from '../usage-sink.consumer';
import { payloadExpiry } from '../domain/analytics-retention';
import { ClickHouseRawEventExpiry } from './clickhouse-retention';
import { ClickHouseUsageAnalytics } from './clickhouse-usage.analytics';
import { ClickHouseUsageWriter } from './clickhouse-usage.writer';

interface Database {
  readonly client: ClickHouseClient;
  readonly name: string;
  /** A second client on the same database, as a restarted sink opens. */
  reconnect(): ClickHouseClient;
  drop(): Promise<void>;
}

let server: RealService;
const clients: ClickHouseClient[] = [];

async function freshDatabase(): Promise<Database> {
  server ??= await startClickHouse();
  const name = sqlIdentifier(`it_sink_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const admin = createClickHouseClient({ url: server.url });
  await admin.command({ query: `CREATE DATABASE ${name}` });
  const reconnect = () => {
    const client = createClickHouseClient({ url: server.url, database: name });
    clients.push(client);
    return client;
  };
  const client = reconnect();
  await migrate(client);
  return {
    client,
    name,
    reconnect,
    drop: async () => {
      await admin.command({ query: `DROP DATABASE IF EXISTS ${name}` });
      await admin.close();
    },
  };
}

/**
 * `work` on a database migrated up to `version`, as a sink of that release left it;
 * dropped afterwards.
 */
async function withDatabaseOfMigration(
  version: number,
  prefix: string,
  work: (client: ClickHouseClient) => Promise<void>,
): Promise<void> {
  server ??= await startClickHouse();
  const name = sqlIdentifier(`${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const admin = createClickHouseClient({ url: server.url });
  await admin.command({ query: `CREATE DATABASE ${name}` });
  const client = createClickHouseClient({ url: server.url, database: name });
  clients.push(client, admin);
  try {
    const shipped = loadMigrations(BUILTIN_MIGRATIONS_DIR);
    await migrate(client, { migrations: shipped.filter((m) => m.version <= version) });
    await work(client);
  } finally {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  }
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

async function scalar(client: ClickHouseClient, query: string): Promise<number> {
  const [row] = await rows<{ n: string | number }>(client, query);
  return Number(row.n);
}

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await server?.stop();
});

let contractDb: Database;
describeAnalyticsContract('ClickHouse', async (options) => {
  contractDb = await freshDatabase();
  const { client } = contractDb;
  return {
    writer: () => new ClickHouseUsageWriter(contractDb.reconnect()),
    analytics: new ClickHouseUsageAnalytics(client, options),
    // Plain count(): a duplicate would show here even before any merge.
    storedCounts: async () => ({
      usage: await scalar(client, 'SELECT count() AS n FROM usage_events'),
      completed: await scalar(client, 'SELECT count() AS n FROM request_completed_events'),
      adjustments: await scalar(client, 'SELECT count() AS n FROM budget_adjustment_events'),
    }),
    close: () => contractDb.drop(),
  };
});

describeAnalyticsPaging('ClickHouse', async () => {
  const db = await freshDatabase();
  return {
    writer: () => new ClickHouseUsageWriter(db.client),
    analytics: new ClickHouseUsageAnalytics(db.client),
    storedCounts: async () => ({ usage: 0, completed: 0, adjustments: 0 }),
    close: () => db.drop(),
  };
});

describe('the ClickHouse sink', () => {
  let db: Database;
  const workload = buildWorkload(120);

  before(async () => {
    db = await freshDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  it('writes every event once through the bus, even when a commit is lost after the write', async () => {
    const log = new SqliteEventLog(':memory:');
    const errors: unknown[] = [];
    const bus = new EmbeddedEventBus(log, {
      flushIntervalMs: 5,
      maxBatch: 50,
      onError: (error) => errors.push(error),
    });
    const real = new ClickHouseUsageWriter(db.client);
    let writes = 0;
    // The first write lands in ClickHouse, then "crashes" before the bus commits: the
    // same events come again and must not be stored twice.
    const crashing = {
      write: async (events: readonly GatewayEvent[]) => {
        await real.write(events);
        if (++writes === 1) throw new Error('sink crashed after writing');
      },
    };
    await bus.subscribe(new UsageSinkConsumer(crashing, { maxItems: 40, maxWaitMs: 20 }));
    for (const event of workload.events) bus.publish(event);
    await bus.flush();
    await bus.flush(); // the failed batch is delivered again on the next flush
    await bus.close();
    log.close();
    assert.equal(errors.length, 1);
    assert.equal(
      await scalar(db.client, 'SELECT count() AS n FROM usage_events'),
      workload.usage.length,
    );
    assert.equal(
      await scalar(db.client, 'SELECT count() AS n FROM request_completed_events'),
      workload.completed.length,
    );
    assert.equal(
      await scalar(db.client, 'SELECT sum(requests) AS n FROM usage_hourly'),
      workload.usage.length,
    );
  });

  it('a restarted sink that gets everything again adds nothing', async () => {
    const restarted = new UsageSinkConsumer(new ClickHouseUsageWriter(db.reconnect()), {
      maxItems: 1000,
      maxWaitMs: 10,
    });
    await restarted.handle(workload.events);
    assert.equal(
      await scalar(db.client, 'SELECT count() AS n FROM usage_events'),
      workload.usage.length,
    );
    assert.equal(
      await scalar(db.client, 'SELECT sum(requests) AS n FROM requests_hourly'),
      workload.completed.length,
    );
  });

  it('the rollups equal aggregates of the raw rows', async () => {
    const dims = 'toString(bucket) AS b, user_id, model_served, provider, tier, model_requested';
    const fromRollup = await rows<Record<string, string | number>>(
      db.client,
      `SELECT ${dims}, sum(requests) AS requests, sum(cache_hits) AS hits, sum(tokens_in) AS i,
         sum(tokens_out) AS o, sum(tokens_cached_in) AS c, round(sum(cost), 9) AS cost,
         sum(weighted_cost) AS w
       FROM usage_hourly GROUP BY b, user_id, model_served, provider, tier, model_requested
       ORDER BY b, user_id, model_served, provider, tier, model_requested`,
    );
    const fromRaw = await rows<Record<string, string | number>>(
      db.client,
      `SELECT toString(toStartOfHour(occurred_at)) AS b, user_id, model_served, provider, tier,
         model_requested, count() AS requests, sum(cache_hit) AS hits, sum(input_tokens) AS i,
         sum(output_tokens) AS o, sum(cached_input_tokens) AS c, round(sum(cost_dollars), 9) AS cost,
         sum(weighted_token_cost) AS w
       FROM usage_events FINAL GROUP BY b, user_id, model_served, provider, tier, model_requested
       ORDER BY b, user_id, model_served, provider, tier, model_requested`,
    );
    assert.ok(fromRaw.length > 3);
    assert.deepEqual(fromRollup, fromRaw);
    const written = workload.usage.reduce((a, u) => a + (u.cacheWriteInputTokens ?? 0), 0);
    assert.ok(written > 0);
    assert.equal(
      await scalar(db.client, 'SELECT sum(cache_write_input_tokens) AS n FROM usage_events FINAL'),
      written,
    );
    for (const [rollup, start] of [
      ['cache_writes_hourly', 'toStartOfHour'],
      ['cache_writes_daily', 'toStartOfDay'],
    ]) {
      const writesRollup = await rows<Record<string, string | number>>(
        db.client,
        `SELECT ${dims}, sum(tokens_cache_write_in) AS cw
         FROM ${rollup} GROUP BY b, user_id, model_served, provider, tier, model_requested
         ORDER BY b, user_id, model_served, provider, tier, model_requested`,
      );
      const writesRaw = await rows<Record<string, string | number>>(
        db.client,
        `SELECT toString(${start}(occurred_at)) AS b, user_id, model_served, provider, tier,
           model_requested, sum(cache_write_input_tokens) AS cw
         FROM usage_events FINAL WHERE cache_write_input_tokens > 0
         GROUP BY b, user_id, model_served, provider, tier, model_requested
         ORDER BY b, user_id, model_served, provider, tier, model_requested`,
      );
      assert.ok(writesRaw.length > 0);
      assert.deepEqual(writesRollup, writesRaw, rollup);
    }

    // The web-search rollups (migration 012) hold the searches of every row that ran one,
    // by every key, route and operation included.
    const searched = workload.usage.reduce((a, u) => a + (u.webSearchRequests ?? 0), 0);
    assert.ok(searched > 0);
    const bySearchKeys = `b, route, operation, user_id, model_served, provider, tier, model_requested`;
    for (const [rollup, start] of [
      ['web_searches_hourly', 'toStartOfHour'],
      ['web_searches_daily', 'toStartOfDay'],
    ]) {
      const searchesRollup = await rows<Record<string, string | number>>(
        db.client,
        `SELECT ${dims}, route, operation, sum(web_searches) AS n
         FROM ${rollup} GROUP BY ${bySearchKeys} ORDER BY ${bySearchKeys}`,
      );
      const searchesRaw = await rows<Record<string, string | number>>(
        db.client,
        `SELECT toString(${start}(occurred_at)) AS b, user_id, model_served, provider, tier,
           model_requested, route, operation, sum(web_search_requests) AS n
         FROM usage_events FINAL WHERE web_search_requests > 0
         GROUP BY ${bySearchKeys} ORDER BY ${bySearchKeys}`,
      );
      assert.ok(searchesRaw.length > 0);
      assert.deepEqual(searchesRollup, searchesRaw, rollup);
      assert.equal(
        searchesRaw.reduce((a, r) => a + Number(r.n), 0),
        searched,
        rollup,
      );
    }

    // The rollups by operation (migration 006) hold every total of the rows naming one.
    const byOperation = `b, operation, user_id, model_served, provider, tier, model_requested`;
    for (const [rollup, start] of [
      ['usage_operations_hourly', 'toStartOfHour'],
      ['usage_operations_daily', 'toStartOfDay'],
    ]) {
      const operationsRollup = await rows<Record<string, string | number>>(
        db.client,
        `SELECT ${dims}, operation, sum(requests) AS requests, sum(cache_hits) AS hits,
           sum(tokens_in) AS i, sum(tokens_out) AS o, sum(tokens_cached_in) AS c,
           sum(tokens_cache_write_in) AS cw, round(sum(cost), 9) AS cost, sum(weighted_cost) AS w
         FROM ${rollup} GROUP BY ${byOperation} ORDER BY ${byOperation}`,
      );
      const operationsRaw = await rows<Record<string, string | number>>(
        db.client,
        `SELECT toString(${start}(occurred_at)) AS b, user_id, model_served, provider, tier,
           model_requested, operation, count() AS requests, sum(cache_hit) AS hits,
           sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cached_input_tokens) AS c,
           sum(cache_write_input_tokens) AS cw, round(sum(cost_dollars), 9) AS cost,
           sum(weighted_token_cost) AS w
         FROM usage_events FINAL WHERE operation != ''
         GROUP BY ${byOperation} ORDER BY ${byOperation}`,
      );
      assert.ok(new Set(operationsRaw.map((r) => r.operation)).size >= 3, rollup);
      assert.deepEqual(operationsRollup, operationsRaw, rollup);
    }

    const daily = await rows<{ b: string; n: string }>(
      db.client,
      'SELECT toString(bucket) AS b, sum(requests) AS n FROM usage_daily GROUP BY b ORDER BY b',
    );
    const dailyRaw = await rows<{ b: string; n: string }>(
      db.client,
      `SELECT toString(toStartOfDay(occurred_at)) AS b, count() AS n FROM usage_events FINAL
       GROUP BY b ORDER BY b`,
    );
    assert.deepEqual(daily, dailyRaw);

    const requests = await rows<Record<string, string | number>>(
      db.client,
      `SELECT sum(requests) AS n, sum(fallback_requests) AS fb, sum(cached_requests) AS cached,
         sum(failed_requests) AS failed, round(sum(latency_total_ms), 6) AS latency
       FROM requests_hourly`,
    );
    const requestsRaw = await rows<Record<string, string | number>>(
      db.client,
      `SELECT count() AS n, countIf(attempts > 1) AS fb, countIf(cached = 1) AS cached,
         countIf(status != 'success') AS failed, round(sum(latency_ms), 6) AS latency
       FROM request_completed_events FINAL`,
    );
    assert.deepEqual(requests, requestsRaw);

    const quantiles = await rows<{ n: string; q: number[] }>(
      db.client,
      `SELECT countMerge(requests) AS n, quantilesMerge(0.5, 0.9, 0.95, 0.99)(latency_q) AS q
       FROM latency_hourly`,
    );
    const quantilesRaw = await rows<{ n: string; q: number[] }>(
      db.client,
      `SELECT count() AS n, quantiles(0.5, 0.9, 0.95, 0.99)(latency_ms) AS q
       FROM request_completed_events FINAL`,
    );
    assert.deepEqual(quantiles, quantilesRaw);

    assert.equal(
      await scalar(db.client, 'SELECT sum(fallbacks) AS n FROM fallbacks_hourly'),
      await scalar(db.client, 'SELECT count() AS n FROM fallback_events FINAL'),
    );
    assert.equal(
      await scalar(db.client, 'SELECT sum(rejections) AS n FROM rejections_hourly'),
      await scalar(db.client, 'SELECT count() AS n FROM request_rejected_events FINAL'),
    );
  });

  it('a sink that cannot reach ClickHouse throws, so nothing is committed', async () => {
    const unreachable = createClickHouseClient({
      url: 'http://127.0.0.1:9',
      requestTimeoutMs: 2_000,
    });
    clients.push(unreachable);
    const consumer = new UsageSinkConsumer(new ClickHouseUsageWriter(unreachable), {
      maxItems: 10,
      maxWaitMs: 0,
    });
    await assert.rejects(consumer.handle(workload.events.slice(0, 5)));
  });
});

describe('a ClickHouse database of migration 005', () => {
  it("gains operations: usage stored before reads '', and every total still adds up", async () => {
    await withDatabaseOfMigration(5, 'it_ops', async (client) => {
      // Rows as a sink of that release wrote them: no operation (nor route, nor web search)
      // column.
      const older = buildWorkload(40);
      for (const [table, tableRows] of toRowsByTable(older.events)) {
        if (table === 'budget_adjustment_events') continue; // a table of migration 007
        const values = tableRows.map(
          ({ operation: _dropped, route: _route, web_search_requests: _searches, ...row }) => row,
        );
        await client.insert({ table, values, format: 'JSONEachRow' });
      }
      assert.ok((await migrate(client)).applied.includes('006_usage_operations'));
      const newer = buildWorkload(40);
      await new ClickHouseUsageWriter(client).write(newer.events);

      const analytics = new ClickHouseUsageAnalytics(client);
      const range = { from: new Date(RANGE.from), to: new Date(RANGE.to) };
      for (const bucket of ['hour', 'day'] as const) {
        const all = await analytics.usage({ ...range, bucket, groupBy: 'none', filters: {} });
        const grouped = await analytics.usage({
          ...range,
          bucket,
          groupBy: 'operation',
          filters: {},
        });
        assert.equal(all.totals.requests, older.usage.length + newer.usage.length);
        assert.equal(grouped.totals.requests, all.totals.requests, bucket);
        assert.ok(Math.abs(grouped.totals.costDollars - all.totals.costDollars) < 1e-9, bucket);
        assert.equal(grouped.totals.cacheWriteInputTokens, all.totals.cacheWriteInputTokens);
        const requests = (key: string) =>
          grouped.series.filter((p) => p.key === key).reduce((n, p) => n + p.requests, 0);
        const named = (op: string) => newer.usage.filter((u) => (u.operation ?? '') === op).length;
        assert.equal(requests(''), older.usage.length + named(''), `${bucket}: none named`);
        for (const op of ['chat', 'embeddings', 'transcriptions']) {
          assert.equal(requests(op), named(op), `${bucket}: ${op}`);
        }
        assert.ok(
          grouped.series.every((p) => p.requests > 0),
          'no empty group',
        );
      }
    });
  });
});

describe('a ClickHouse database of migration 007', () => {
  it('gains operators: adjustments stored before read none, later ones their own', async () => {
    await withDatabaseOfMigration(7, 'it_adj', async (client) => {
      // Adjustments as a sink of that release wrote them: no operator column.
      const older = buildWorkload(10).events.filter((e) => e.type === 'budget.adjusted');
      const values = (toRowsByTable(older).get('budget_adjustment_events') ?? []).map(
        ({ operator: _dropped, ...row }) => row,
      );
      await client.insert({ table: 'budget_adjustment_events', values, format: 'JSONEachRow' });
      assert.deepEqual((await migrate(client)).applied, [
        '008_budget_adjustment_operators',
        '009_request_payloads',
        '010_backend_routes',
        '011_route_rollups',
        '012_web_searches',
        '013_budget_state_order',
      ]);
      const newer = buildWorkload(10).events.filter((e) => e.type === 'budget.adjusted');
      await new ClickHouseUsageWriter(client).write(newer);

      const listed = await new ClickHouseUsageAnalytics(client).budgetAdjustments({
        from: new Date(RANGE.from),
        to: new Date(RANGE.to),
        limit: 100,
        filters: {},
      });
      const operators = (events: readonly GatewayEvent[]) => {
        const ids = new Set(events.map((e) => e.eventId));
        return listed.filter((r) => ids.has(r.eventId)).map((r) => r.operator);
      };
      assert.deepEqual(
        operators(older),
        older.map(() => null),
      );
      assert.deepEqual(
        operators(newer),
        [...ADJUSTMENTS].reverse().map((a) => a.operator),
      );
    });
  });
});

describe('a ClickHouse database of migration 009', () => {
  it("gains routes: rows stored before read '', later ones their own", async () => {
    await withDatabaseOfMigration(9, 'it_route', async (client) => {
      // Usage and completed requests as a sink of that release wrote them: no route column.
      const routed = ['usage.recorded', 'request.completed'];
      const older = buildWorkload(10).events.filter((e) => routed.includes(e.type));
      for (const [table, rows] of toRowsByTable(older)) {
        const values = rows.map(
          ({ route: _dropped, web_search_requests: _searches, ...row }) => row,
        );
        await client.insert({ table, values, format: 'JSONEachRow' });
      }
      assert.deepEqual((await migrate(client)).applied, [
        '010_backend_routes',
        '011_route_rollups',
        '012_web_searches',
        '013_budget_state_order',
      ]);
      const newer = buildWorkload(10)
        .events.filter((e) => routed.includes(e.type))
        .map((e) => ({ ...e, route: 'embed' }) as GatewayEvent);
      await new ClickHouseUsageWriter(client).write(newer);

      for (const [table, type] of [
        ['usage_events', 'usage.recorded'],
        ['request_completed_events', 'request.completed'],
      ] as const) {
        const rows = await (
          await client.query({
            query: `SELECT route, toUInt64(count()) AS n FROM ${table} FINAL GROUP BY route ORDER BY route`,
            format: 'JSONEachRow',
          })
        ).json<{ route: string; n: string }>();
        const count = (events: readonly GatewayEvent[]) =>
          String(events.filter((e) => e.type === type).length);
        assert.deepEqual(rows, [
          { route: '', n: count(older) },
          { route: 'embed', n: count(newer) },
        ]);
      }
    });
  });
});

describe('a ClickHouse database of migration 011', () => {
  it('gains web searches: usage stored before reads 0, later usage its own in every grouping', async () => {
    await withDatabaseOfMigration(11, 'it_search', async (client) => {
      // Usage as a sink of that release wrote it: no web-search column.
      const older = buildWorkload(30);
      const usageRows = toRowsByTable(older.events).get('usage_events') ?? [];
      const values = usageRows.map(({ web_search_requests: _dropped, ...row }) => row);
      await client.insert({ table: 'usage_events', values, format: 'JSONEachRow' });
      assert.deepEqual((await migrate(client)).applied, [
        '012_web_searches',
        '013_budget_state_order',
      ]);
      const newer = buildWorkload(30);
      const searched = newer.usage.reduce((a, u) => a + (u.webSearchRequests ?? 0), 0);
      assert.ok(searched > 0, 'the workload runs web searches');
      await new ClickHouseUsageWriter(client).write(
        newer.events.filter((e) => e.type === 'usage.recorded'),
      );
      assert.equal(
        await scalar(
          client,
          `SELECT toUInt64(count()) AS n FROM usage_events FINAL WHERE web_search_requests = 0`,
        ),
        older.usage.length + newer.usage.filter((u) => !u.webSearchRequests).length,
      );
      const analytics = new ClickHouseUsageAnalytics(client);
      const range = { from: new Date(RANGE.from), to: new Date(RANGE.to) };
      for (const groupBy of ['none', 'user', 'operation', 'route'] as const) {
        const report = await analytics.usage({ ...range, bucket: 'hour', groupBy, filters: {} });
        assert.equal(report.totals.requests, older.usage.length + newer.usage.length, groupBy);
        assert.equal(report.totals.webSearchRequests, searched, groupBy);
      }
      const spenders = await analytics.topSpenders({
        ...range,
        limit: 10,
        orderBy: 'cost',
        filters: {},
      });
      assert.equal(
        spenders.reduce((a, r) => a + r.webSearchRequests, 0),
        searched,
      );
    });
  });
});

describe('raw-table retention on ClickHouse', () => {
  const usageAt = (iso: string, i: number) => usageEventAt(new Date(iso), `ret-${i}`);
  const at = (iso: string) => Date.parse(iso) / 1000;

  it('drops a month of raw rows once all of it is past the cutoff, and keeps the rollups', async () => {
    const db = await freshDatabase();
    try {
      const months = ['2024-01-15T12:00:00Z', '2024-02-29T23:59:59Z', '2024-03-01T00:00:00Z'];
      const events = months.flatMap((iso, m) => [0, 1, 2].map((i) => usageAt(iso, m * 10 + i)));
      await new ClickHouseUsageWriter(db.client).write(events);
      const expiry = new ClickHouseRawEventExpiry(db.client);
      const count = () => scalar(db.client, 'SELECT count() AS n FROM usage_events');

      // Mid-February: January is wholly older and goes; February is not, so it stays.
      assert.equal(await expiry.expireBefore(at('2024-02-15T00:00:00Z')), 3);
      assert.equal(await count(), 6);
      // One second short of March: February's last second is not yet past.
      assert.equal(await expiry.expireBefore(at('2024-02-29T23:59:59Z')), 0);
      assert.equal(await expiry.expireBefore(at('2024-03-01T00:00:00Z')), 3);
      assert.deepEqual(
        await rows<{ t: string }>(db.client, 'SELECT toString(occurred_at) AS t FROM usage_events'),
        [0, 1, 2].map(() => ({ t: '2024-03-01 00:00:00' })),
      );
      // The rollups the API reads keep every month.
      assert.equal(await scalar(db.client, 'SELECT sum(requests) AS n FROM usage_daily'), 9);
    } finally {
      await db.drop();
    }
  });

  it('keeps the audit trail: budget adjustments of an expired month stay', async () => {
    const db = await freshDatabase();
    try {
      const adjustments = ADJUSTMENTS.map((a, i) =>
        createBudgetAdjusted(
          {
            partitionKey: a.user,
            userKey: a.user,
            action: BudgetAdjustmentAction.Reset,
            ...(a.operator === null ? {} : { operator: a.operator }),
          },
          { occurredAt: `2024-01-1${i}T00:00:00.000Z` },
        ),
      );
      await new ClickHouseUsageWriter(db.client).write([
        usageAt('2024-01-15T12:00:00Z', 200),
        ...adjustments,
      ]);
      const expiry = new ClickHouseRawEventExpiry(db.client);
      assert.equal(await expiry.expireBefore(at('2024-03-01T00:00:00Z')), 1, 'the usage row');
      assert.equal(await scalar(db.client, 'SELECT count() AS n FROM usage_events'), 0);
      const listed = await new ClickHouseUsageAnalytics(db.client).budgetAdjustments({
        from: new Date('2024-01-01T00:00:00Z'),
        to: new Date('2024-02-01T00:00:00Z'),
        limit: 100,
        filters: {},
      });
      assert.deepEqual(
        listed.map((r) => r.eventId),
        adjustments.map((e) => e.eventId).reverse(),
      );
    } finally {
      await db.drop();
    }
  });

  it("keeps each limit's latest budget state after its month's raw rows go", async () => {
    // The embedded store answers the same after its retention (sqlite-usage.store.spec).
    const db = await freshDatabase();
    try {
      const states = buildWorkload().events.filter((e) => e.type === 'budget.state');
      await new ClickHouseUsageWriter(db.client).write(states);
      const analytics = new ClickHouseUsageAnalytics(db.client);
      const before = await analytics.budgets({ limit: 1000 });
      assert.equal(before.length, 2);
      const expiry = new ClickHouseRawEventExpiry(db.client);
      assert.equal(await expiry.expireBefore(at('2026-04-01T00:00:00Z')), states.length);
      assert.equal(await scalar(db.client, 'SELECT count() AS n FROM budget_state_events'), 0);
      assert.deepEqual(await analytics.budgets({ limit: 1000 }), before);
    } finally {
      await db.drop();
    }
  });

  it('drops payloads a day at a time (their table is partitioned by day)', async () => {
    const db = await freshDatabase();
    try {
      const [first, second, third] = payloadEvents();
      const on = (event: typeof first, iso: string) =>
        Object.assign(Object.create(Object.getPrototypeOf(event) as object) as typeof first, {
          ...event,
          occurredAt: iso,
        });
      await new ClickHouseUsageWriter(db.client).write([
        usageAt('2023-12-01T00:00:00Z', 300),
        on(first, '2024-01-10T23:59:59.000Z'),
        on(second, '2024-01-11T00:00:00.000Z'),
        on(third, '2024-01-11T12:00:00.000Z'),
      ]);
      const expiry = new ClickHouseRawEventExpiry(db.client);
      const count = () => scalar(db.client, 'SELECT count() AS n FROM request_payload_events');
      // Mid-January 11th: the 10th is wholly past, the 11th not (a month table would keep all).
      // The payload retention alone leaves December's usage, long past, to its own.
      assert.equal(await payloadExpiry(expiry).expireBefore(at('2024-01-11T18:00:00Z')), 1);
      assert.equal(await scalar(db.client, 'SELECT count() AS n FROM usage_events'), 1);
      assert.equal(await count(), 2);
      const analytics = new ClickHouseUsageAnalytics(db.client);
      assert.equal(await analytics.payload(first.requestId), undefined);
      assert.equal((await analytics.payload(second.requestId))?.requestId, second.requestId);
      assert.equal(await expiry.expireBefore(at('2024-01-12T00:00:00Z')), 3);
      assert.equal(await count(), 0);
    } finally {
      await db.drop();
    }
  });

  it('two sink replicas expiring the same months at once both succeed', async () => {
    const db = await freshDatabase();
    try {
      const events = ['2024-01-10T00:00:00Z', '2024-02-10T00:00:00Z', '2024-05-10T00:00:00Z'].map(
        (iso, i) => usageAt(iso, 100 + i),
      );
      await new ClickHouseUsageWriter(db.client).write(events);
      const replicas = [db.client, db.reconnect()].map((c) => new ClickHouseRawEventExpiry(c));
      const cutoff = at('2024-04-01T00:00:00Z');
      // Both list January and February before either drops them.
      await Promise.all(replicas.map((r) => r.expireBefore(cutoff)));
      assert.equal(await scalar(db.client, 'SELECT count() AS n FROM usage_events'), 1);
      // What that relies on: dropping a month that is already gone is not an error.
      await db.client.command({ query: 'ALTER TABLE usage_events DROP PARTITION 202401' });
    } finally {
      await db.drop();
    }
  });
});
