// Migrations applied to a real ClickHouse (18.16 in CI, current elsewhere), then usage
// rows inserted as JSONEachRow and read back aggregated through the rollup view.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type ClickHouseClient } from '@clickhouse/client';
import { startClickHouse, type RealService } from '@aigw/testing';
import {
  createClickHouseClient,
  serverVersion,
  sqlIdentifier,
  sqlString,
} from './clickhouse-client';
import { BUILTIN_MIGRATIONS_DIR, loadMigrations } from './migration-files';
import { migrate } from './migration-runner';

let server: RealService;
let admin: ClickHouseClient;
let client: ClickHouseClient;
// Each run gets its own database, so suites sharing one server never see each other.
const database = sqlIdentifier(`it_${randomUUID().replace(/-/g, '').slice(0, 12)}`);

before(async () => {
  server = await startClickHouse();
  admin = createClickHouseClient({ url: server.url });
  await admin.command({ query: `CREATE DATABASE ${database}` });
  client = createClickHouseClient({ url: server.url, database });
});
after(async () => {
  await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await client?.close();
  await admin?.close();
  await server?.stop();
});

test('migrations apply once and are recorded', async () => {
  const first = await migrate(client);
  const all = [
    '001_usage_events',
    '002_request_events',
    '003_rollups',
    '004_usage_cache_writes',
    '005_cache_write_rollups',
    '006_usage_operations',
    '007_budget_adjustments',
    '008_budget_adjustment_operators',
    '009_request_payloads',
    '010_backend_routes',
    '011_route_rollups',
    '012_web_searches',
    '013_budget_state_order',
  ];
  assert.deepEqual(first.applied, all);
  assert.match(first.serverVersion, /^\d+\.\d+/);
  const second = await migrate(client);
  assert.deepEqual(second.applied, []);
  assert.deepEqual(second.alreadyApplied, all);

  const tables = await (
    await client.query({
      query: 'SELECT name, engine FROM system.tables WHERE database = currentDatabase()',
      format: 'JSONEachRow',
    })
  ).json<{ name: string; engine: string }>();
  const engines = Object.fromEntries(tables.map((t) => [t.name, t.engine]));
  assert.equal(engines.usage_events, 'ReplacingMergeTree');
  assert.equal(engines.usage_daily, 'SummingMergeTree');
  assert.equal(engines.usage_daily_mv, 'MaterializedView');
  assert.equal(engines.request_completed_events, 'ReplacingMergeTree');
  assert.equal(engines.latency_hourly, 'AggregatingMergeTree');
  assert.equal(engines.request_payload_events, 'ReplacingMergeTree');
});

test('usage inserted as JSONEachRow sums up per user and day in the rollup', async () => {
  await migrate(client);
  const row = (user: string, at: string, input: number, output: number, cost: number) => ({
    event_id: randomUUID(),
    occurred_at: at,
    user_id: user,
    request_id: randomUUID(),
    model_requested: 'gpt-4o-mini',
    model_served: 'gpt-4o-mini',
    provider: 'openai',
    input_tokens: input,
    output_tokens: output,
    cached_input_tokens: 0,
    cost_dollars: cost,
    weighted_token_cost: input + output,
    cache_hit: 0,
  });
  // Two inserts, so the rollup has two parts to sum; a name that needs escaping too.
  const odd = "o'brien\\x";
  await client.insert({
    table: 'usage_events',
    format: 'JSONEachRow',
    values: [
      row('alice', '2026-03-01 10:00:00', 100, 10, 0.5),
      row(odd, '2026-03-01 11:00:00', 7, 1, 0.25),
    ],
  });
  await client.insert({
    table: 'usage_events',
    format: 'JSONEachRow',
    values: [
      row('alice', '2026-03-01 23:59:59', 50, 5, 0.25),
      row('alice', '2026-03-02 00:00:00', 1, 1, 1),
    ],
  });

  const daily = await (
    await client.query({
      query: `SELECT toString(toDate(bucket)) AS day, sum(requests) AS requests,
                sum(tokens_in) AS input, sum(tokens_out) AS output, sum(cost) AS cost
              FROM usage_daily WHERE user_id = ${sqlString('alice')}
              GROUP BY day ORDER BY day`,
      format: 'JSONEachRow',
    })
  ).json<{ day: string; requests: string; input: string; output: string; cost: number }>();
  assert.deepEqual(
    daily.map((d) => [d.day, Number(d.requests), Number(d.input), Number(d.output), d.cost]),
    [
      ['2026-03-01', 2, 150, 15, 0.75],
      ['2026-03-02', 1, 1, 1, 1],
    ],
  );

  const escaped = await (
    await client.query({
      query: `SELECT count() AS n FROM usage_events WHERE user_id = ${sqlString(odd)}`,
      format: 'JSONEachRow',
    })
  ).json<{ n: string }>();
  assert.equal(Number(escaped[0].n), 1);
});

test('a database of migration 003 gains cache writes: old rows read 0, all roll up', async () => {
  const name = sqlIdentifier(`it_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  await admin.command({ query: `CREATE DATABASE ${name}` });
  const older = createClickHouseClient({ url: server.url, database: name });
  try {
    const shipped = loadMigrations(BUILTIN_MIGRATIONS_DIR);
    await migrate(older, { migrations: shipped.filter((m) => m.version <= 3) });
    const row = (at: string, input: number, extra: Record<string, number>) => ({
      event_id: randomUUID(),
      occurred_at: at,
      user_id: 'alice',
      request_id: randomUUID(),
      model_requested: 'claude',
      model_served: 'claude',
      provider: 'anthropic',
      input_tokens: input,
      output_tokens: 1,
      cached_input_tokens: 0,
      cost_dollars: 0.5,
      weighted_token_cost: input + 1,
      cache_hit: 0,
      ...extra,
    });
    await older.insert({
      table: 'usage_events',
      format: 'JSONEachRow',
      values: [row('2026-03-01 10:00:00', 100, {})],
    });
    assert.deepEqual((await migrate(older)).applied, [
      '004_usage_cache_writes',
      '005_cache_write_rollups',
      '006_usage_operations',
      '007_budget_adjustments',
      '008_budget_adjustment_operators',
      '009_request_payloads',
      '010_backend_routes',
      '011_route_rollups',
      '012_web_searches',
      '013_budget_state_order',
    ]);
    await older.insert({
      table: 'usage_events',
      format: 'JSONEachRow',
      values: [
        row('2026-03-01 10:30:00', 1_300, { cache_write_input_tokens: 1_200 }),
        row('2026-03-01 11:00:00', 50, { cache_write_input_tokens: 0 }),
      ],
    });
    const sums = async (query: string) =>
      (
        await (await older.query({ query, format: 'JSONEachRow' })).json<Record<string, string>>()
      ).map((r) => Object.values(r).map(Number));
    assert.deepEqual(
      await sums(
        `SELECT count() AS n, sum(cache_write_input_tokens) AS w FROM usage_events
         WHERE cache_write_input_tokens = 0`,
      ),
      [[2, 0]],
    );
    assert.deepEqual(await sums('SELECT sum(cache_write_input_tokens) AS w FROM usage_events'), [
      [1_200],
    ]);
    // The rollups' views still take every row, before the column and after.
    for (const table of ['usage_hourly', 'usage_daily']) {
      assert.deepEqual(
        await sums(`SELECT sum(requests) AS r, sum(tokens_in) AS i, sum(cost) AS c FROM ${table}`),
        [[3, 1_450, 1.5]],
        table,
      );
    }
    for (const table of ['cache_writes_hourly', 'cache_writes_daily']) {
      assert.deepEqual(
        await sums(`SELECT count() AS n, sum(tokens_cache_write_in) AS w FROM ${table}`),
        [[1, 1_200]],
        `${table} holds only the groups with writes`,
      );
    }
  } finally {
    await older.close();
    await admin.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  }
});

test('the server version is read from the server', async () => {
  const version = await serverVersion(client);
  assert.ok(version.parts[0] >= 18, version.text);
});
