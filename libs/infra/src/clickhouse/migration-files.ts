// Numbered SQL migrations, `NNN_name.sql`: statements end with `;` at the end of a line.
// A statement whose leading comments hold `-- requires clickhouse >= X.Y` (or `< X.Y`)
// runs only on servers in that range, so a migration can use a newer feature (TTL,
// LowCardinality, ...) where it exists and keep to the common subset elsewhere.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareVersions } from './clickhouse-client';

export interface VersionCondition {
  readonly op: '>=' | '<';
  readonly version: readonly number[];
}

export interface MigrationStatement {
  readonly sql: string;
  readonly requires: readonly VersionCondition[];
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly statements: readonly MigrationStatement[];
}

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;
const REQUIRES = /^--\s*requires\s+clickhouse\s*(>=|<)\s*(\d+(?:\.\d+)*)\s*$/i;

export function parseMigration(fileName: string, text: string): Migration {
  const match = FILE.exec(fileName);
  if (!match) throw new Error(`migration file "${fileName}" is not named NNN_name.sql`);
  const statements: MigrationStatement[] = [];
  let lines: string[] = [];
  const flush = (): void => {
    const requires: VersionCondition[] = [];
    for (const line of lines) {
      const m = REQUIRES.exec(line.trim());
      if (m) requires.push({ op: m[1] as '>=' | '<', version: m[2].split('.').map(Number) });
    }
    const sql = lines
      .filter((l) => !l.trim().startsWith('--'))
      .join('\n')
      .trim()
      .replace(/;\s*$/, '');
    if (sql !== '') statements.push({ sql, requires });
    lines = [];
  };
  for (const line of text.split(/\r?\n/)) {
    lines.push(line);
    if (/;\s*$/.test(line) && !line.trim().startsWith('--')) flush();
  }
  flush();
  return {
    version: Number(match[1]),
    name: match[2],
    checksum: createHash('sha256').update(text).digest('hex'),
    statements,
  };
}

export function appliesTo(statement: MigrationStatement, server: readonly number[]): boolean {
  return statement.requires.every((c) =>
    c.op === '>='
      ? compareVersions(server, c.version) >= 0
      : compareVersions(server, c.version) < 0,
  );
}

/** Every NNN_name.sql in `dir`, in order; two files with one number are an error. */
export function loadMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseMigration(f, readFileSync(join(dir, f), 'utf8')));
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new Error(`two migrations numbered ${migrations[i].version}`);
    }
  }
  return migrations;
}

/** The migrations shipped with this library. */
export const BUILTIN_MIGRATIONS_DIR = join(__dirname, 'migrations');
