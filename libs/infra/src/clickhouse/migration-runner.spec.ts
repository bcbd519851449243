// The ALTERs a migration run again from its first statement must recognise as done: every
// `ADD COLUMN` the shipped migrations hold (18.16 has no `IF NOT EXISTS` for it), and
// nothing else (a statement of several clauses runs as written).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_MIGRATIONS_DIR, loadMigrations } from './migration-files';
import { addedColumn } from './migration-runner';

test('every ALTER of the shipped migrations is one ADD COLUMN the runner can see as done', () => {
  const alters = loadMigrations(BUILTIN_MIGRATIONS_DIR)
    .flatMap((m) => m.statements)
    .filter((s) => /^ALTER\b/i.test(s.sql));
  assert.ok(alters.length >= 6);
  for (const statement of alters) assert.ok(addedColumn(statement.sql), statement.sql);
  assert.deepEqual(addedColumn("ALTER TABLE usage_events ADD COLUMN route String DEFAULT ''"), {
    table: 'usage_events',
    column: 'route',
  });
});

test('a statement that is not a single ADD COLUMN is run as written', () => {
  assert.equal(addedColumn('CREATE TABLE IF NOT EXISTS t (x String) ENGINE = Memory'), undefined);
  assert.equal(addedColumn('ALTER TABLE t ADD COLUMN a String, ADD COLUMN b String'), undefined);
  assert.equal(addedColumn('ALTER TABLE t DROP COLUMN a'), undefined);
});
