// Applies numbered migrations in order and records each in a table, so a restart (or a
// second service) applies only what is new. An applied migration whose file changed is
// an error: migrations are append-only.
import { type ClickHouseClient } from '@clickhouse/client';
import { serverVersion, sqlIdentifier, sqlString } from './clickhouse-client';
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
      if (!appliesTo(statement, version.parts)) continue;
      if (await columnAlreadyAdded(client, statement.sql)) continue;
      try {
        await client.command({ query: statement.sql });
      } catch (error) {
        // Another replica starting at the same moment added it between the check and the
        // ALTER: the column is there, which is all this statement was for.
        if (await columnAlreadyAdded(client, statement.sql)) continue;
        throw error;
      }
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

/** `ALTER TABLE t ADD COLUMN c ...` with one clause: the table and the column it adds. */
const ADD_COLUMN =
  /^ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+ADD\s+COLUMN\s+([A-Za-z_][A-Za-z0-9_]*)\s[^,]*$/i;

/** The table and column an `ALTER TABLE ... ADD COLUMN` of one clause adds; else undefined. */
export function addedColumn(sql: string): { table: string; column: string } | undefined {
  const match = ADD_COLUMN.exec(sql.trim());
  return match ? { table: match[1], column: match[2] } : undefined;
}

/**
 * Whether `sql` adds a column the table already has: a migration cut off after that ALTER
 * and before it was recorded (the process killed, a later statement refused for a moment)
 * runs again from its first statement, and 18.16 knows no `ADD COLUMN IF NOT EXISTS`. The
 * ALTER again would fail every start from then on, and the sink would never run.
 */
async function columnAlreadyAdded(client: ClickHouseClient, sql: string): Promise<boolean> {
  const added = addedColumn(sql);
  if (!added) return false;
  const result = await client.query({
    query: `SELECT count() AS n FROM system.columns
            WHERE database = currentDatabase() AND table = ${sqlString(added.table)}
              AND name = ${sqlString(added.column)}`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ n: string | number }>();
  return Number(row?.n ?? 0) > 0;
}
