import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  appliesTo,
  BUILTIN_MIGRATIONS_DIR,
  loadMigrations,
  parseMigration,
} from './migration-files';
import { compareVersions, parseServerVersion, sqlIdentifier, sqlString } from './clickhouse-client';

test('statements split at a semicolon ending a line, comments dropped', () => {
  const m = parseMigration(
    '007_two_tables.sql',
    "-- first\nCREATE TABLE a (x String) ENGINE = Memory;\n\nINSERT INTO a VALUES ('a;b');\n",
  );
  assert.equal(m.version, 7);
  assert.equal(m.name, 'two_tables');
  assert.deepEqual(
    m.statements.map((s) => s.sql),
    ['CREATE TABLE a (x String) ENGINE = Memory', "INSERT INTO a VALUES ('a;b')"],
  );
  assert.match(m.checksum, /^[0-9a-f]{64}$/);
});

test('a requires comment gates a statement by server version', () => {
  const m = parseMigration(
    '002_ttl.sql',
    [
      'CREATE TABLE t (d DateTime) ENGINE = MergeTree() ORDER BY d;',
      '-- requires clickhouse >= 19.6',
      'ALTER TABLE t MODIFY TTL d + INTERVAL 90 DAY;',
      '-- requires clickhouse < 19.6',
      'SELECT 1;',
    ].join('\n'),
  );
  const [create, ttl, old] = m.statements;
  const v18 = parseServerVersion('18.16.1').parts;
  const v24 = parseServerVersion('24.8.4.13').parts;
  assert.ok(appliesTo(create, v18) && appliesTo(create, v24));
  assert.ok(!appliesTo(ttl, v18) && appliesTo(ttl, v24));
  assert.ok(appliesTo(old, v18) && !appliesTo(old, v24));
});

test('badly named files are refused', () => {
  assert.throws(() => parseMigration('1_x.sql', 'SELECT 1;'), /NNN_name/);
  assert.throws(() => parseMigration('001-x.sql', 'SELECT 1;'), /NNN_name/);
});

test('the shipped migrations load in order and keep to 18.16 SQL', () => {
  const migrations = loadMigrations(BUILTIN_MIGRATIONS_DIR);
  assert.ok(migrations.length >= 1);
  assert.deepEqual(
    migrations.map((m) => m.version),
    [...migrations.map((m) => m.version)].sort((a, b) => a - b),
  );
  for (const statement of migrations.flatMap((m) => m.statements)) {
    if (statement.requires.length > 0) continue;
    assert.doesNotMatch(statement.sql, /\bTTL\b|DateTime64|LowCardinality|\{\w+:\w+\}/);
  }
});

test('string literals are escaped; identifiers are checked, never escaped', () => {
  assert.equal(sqlString("o'brien\\"), "'o\\'brien\\\\'");
  assert.equal(sqlIdentifier('usage_events'), 'usage_events');
  assert.throws(() => sqlIdentifier('x; DROP TABLE y'), /identifier/);
});

test('versions compare part by part', () => {
  assert.equal(compareVersions([18, 16, 1], [19, 6]), -1);
  assert.equal(compareVersions([24, 8], [24, 8, 0]), 0);
  assert.equal(compareVersions([24, 10], [24, 9, 9]), 1);
  assert.throws(() => parseServerVersion('unknown'), /unrecognised/);
});
