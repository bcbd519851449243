// A migration cut off half-way (the sink killed, or ClickHouse refusing one statement for a
// moment, after its first ALTER ran and before it was recorded) is run again from its first
// statement at the next start. Against a real ClickHouse, that start must finish it rather
// than fail on the column the first run already added: otherwise the usage sink can never
// start again, and its events stay unstored until the topics' retention drops them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type ClickHouseClient } from '@clickhouse/client';
import { startClickHouse, type RealService } from '@aigw/testing';
import { createClickHouseClient, sqlIdentifier } from './clickhouse-client';
import { BUILTIN_MIGRATIONS_DIR, loadMigrations } from './migration-files';
import { migrate } from './migration-runner';

let server: RealService;
let admin: ClickHouseClient;
let client: ClickHouseClient;
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

async function columnsOf(table: string): Promise<string[]> {
  const result = await client.query({
    query: `SELECT name FROM system.columns
            WHERE database = currentDatabase() AND table = '${table}' ORDER BY name`,
    format: 'JSONEachRow',
  });
  return (await result.json<{ name: string }>()).map((r) => r.name);
}

test('a migration whose first ALTER ran but was not recorded is finished at the next start', async () => {
  const shipped = loadMigrations(BUILTIN_MIGRATIONS_DIR);
  await migrate(client, { migrations: shipped.filter((m) => m.version <= 9) });
  const routes = shipped.find((m) => m.name === 'backend_routes');
  assert.ok(routes && routes.statements.length >= 2);
  // The first run: its first statement (usage_events gains `route`), then it stopped.
  await client.command({ query: routes.statements[0].sql });
  assert.ok((await columnsOf('usage_events')).includes('route'));
  assert.ok(!(await columnsOf('request_completed_events')).includes('route'));

  const result = await migrate(client);
  assert.deepEqual(result.applied, [
    '010_backend_routes',
    '011_route_rollups',
    '012_web_searches',
    '013_budget_state_order',
  ]);
  assert.ok((await columnsOf('request_completed_events')).includes('route'));
  // Recorded: the next start applies nothing.
  assert.deepEqual((await migrate(client)).applied, []);
});
