// Applies numbered migrations in order and records each in a table, so a restart (or a
// second service) applies only what is new. An applied migration whose file changed is
// an error: migrations are append-only.
import { type ClickHouseClient } from '@clickhouse/client';
import { serverVersion, sqlIdentifier } from './clickhouse-client';
import {
  appliesTo,
  BUILTIN_MIGRATIONS_DIR,
  loadMigrations,
  type Migration,
} from './migration-files';

export interface MigrateOptions {
  readonly dir?: string;
  readonly table?: string;
  readonly migrations?: readonly Migration[];
}

export interface MigrateResult {
  readonly serverVersion: string;
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
}

export class MigrationChecksumError extends Error {
  override name = 'MigrationChecksumError';
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

export async function migrate(
  client: ClickHouseClient,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const table = sqlIdentifier(options.table ?? 'aigw_schema_migrations');
  const migrations = options.migrations ?? loadMigrations(options.dir ?? BUILTIN_MIGRATIONS_DIR);
  const version = await serverVersion(client);
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${table} (
      version UInt32, name String, checksum String, applied_at DateTime
    ) ENGINE = MergeTree() ORDER BY version`,
  });
  const rows = await (
    await client.query({
      query: `SELECT version, name, checksum FROM ${table}`,
      format: 'JSONEachRow',
    })
  ).json<AppliedRow>();
  const done = new Map(rows.map((r) => [Number(r.version), r]));

  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  for (const migration of migrations) {
    const label = `${String(migration.version).padStart(3, '0')}_${migration.name}`;
    const previous = done.get(migration.version);
    if (previous) {
      if (previous.checksum !== migration.checksum) {
        throw new MigrationChecksumError(`migration ${label} changed after it was applied`);
      }
      alreadyApplied.push(label);
      continue;
    }
    for (const statement of migration.statements) {
      if (appliesTo(statement, version.parts)) await client.command({ query: statement.sql });
    }
    await client.insert({
      table,
      format: 'JSONEachRow',
      values: [
        {
          version: migration.version,
          name: migration.name,
          checksum: migration.checksum,
          applied_at: new Date().toISOString().slice(0, 19).replace('T', ' '),
        },
      ],
    });
    applied.push(label);
  }
  return { serverVersion: version.text, applied, alreadyApplied };
}
