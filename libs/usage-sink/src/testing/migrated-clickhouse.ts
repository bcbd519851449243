// Databases for the ClickHouse integration specs: each fresh, migrated up to a version (as a
// sink of that release left it) and dropped after its work, on one server per spec file.
import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  BUILTIN_MIGRATIONS_DIR,
  createClickHouseClient,
  loadMigrations,
  migrate,
  sqlIdentifier,
} from '@aigw/infra';
import { startClickHouse, type RealService } from '@aigw/testing';

export type WithMigratedDatabase = (
  version: number | undefined,
  work: (client: ClickHouseClient) => Promise<void>,
) => Promise<void>;

/**
 * Runs `work` on a fresh database named `<prefix>_<random>`, migrated up to `version` (every
 * shipped migration when undefined), dropped after. The server starts at the first call and
 * stops after the spec file, its clients closed.
 */
export function migratedClickHouseDatabases(prefix: string): WithMigratedDatabase {
  let server: RealService | undefined;
  const clients: ClickHouseClient[] = [];
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await server?.stop();
  });
  return async (version, work) => {
    server ??= await startClickHouse();
    const name = sqlIdentifier(`${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
    const admin = createClickHouseClient({ url: server.url });
    clients.push(admin);
    await admin.command({ query: `CREATE DATABASE ${name}` });
    const client = createClickHouseClient({ url: server.url, database: name });
    clients.push(client);
    try {
      const shipped = loadMigrations(BUILTIN_MIGRATIONS_DIR);
      await migrate(client, {
        migrations: shipped.filter((m) => version === undefined || m.version <= version),
      });
      await work(client);
    } finally {
      await admin.command({ query: `DROP DATABASE IF EXISTS ${name}` });
    }
  };
}
