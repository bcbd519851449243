// Two usage-sink replicas started at the same moment (a rollout of a new release, a scale-up)
// both find a migration not yet recorded and both run it. Each must come up: a replica whose
// `ALTER TABLE ... ADD COLUMN` lost the race to the other's must not fail its start over the
// column the other just added, or it exits and its supervisor restarts it in a loop until the
// other has recorded the migration.
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
const clients: ClickHouseClient[] = [];
const database = sqlIdentifier(`it_${randomUUID().replace(/-/g, '').slice(0, 12)}`);

before(async () => {
  server = await startClickHouse();
  admin = createClickHouseClient({ url: server.url });
  await admin.command({ query: `CREATE DATABASE ${database}` });
});
after(async () => {
  await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await Promise.all(clients.map((c) => c.close()));
  await admin?.close();
  await server?.stop();
});

function replica(): ClickHouseClient {
  const client = createClickHouseClient({ url: server.url, database });
  clients.push(client);
  return client;
}

test('replicas migrating side by side all start, and the schema ends up whole', async () => {
  const shipped = loadMigrations(BUILTIN_MIGRATIONS_DIR);
  // The database an older release left: everything up to 009.
  await migrate(replica(), { migrations: shipped.filter((m) => m.version <= 9) });

  // The new release's replicas start together, several times over to meet the race.
  const results = await Promise.allSettled([1, 2, 3, 4].map(() => migrate(replica())));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  assert.deepEqual(failures, []);

  const columns = await (
    await admin.query({
      query: `SELECT table, name FROM system.columns
              WHERE database = '${database}' AND name IN ('route', 'web_search_requests')
                AND table IN ('usage_events', 'request_completed_events')
              ORDER BY table, name`,
      format: 'JSONEachRow',
    })
  ).json<{ table: string; name: string }>();
  assert.deepEqual(columns, [
    { table: 'request_completed_events', name: 'route' },
    { table: 'usage_events', name: 'route' },
    { table: 'usage_events', name: 'web_search_requests' },
  ]);
  // Every later start finds them all recorded.
  assert.deepEqual((await migrate(replica())).applied, []);
});
