import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { RAW_TABLES, TABLE_COLUMNS, toRowsByTable } from '../domain/event-rows';
import { buildWorkload, RANGE } from '../testing/analytics-fixture';
import { SqliteUsageStore } from './sqlite-usage.store';

/** A database as the store wrote it before the tables were keyed by time (layout 0). */
function writeLayoutZero(path: string, rows: ReturnType<typeof toRowsByTable>): void {
  const db = new DatabaseSync(path);
  for (const table of RAW_TABLES) {
    const columns = TABLE_COLUMNS[table];
    const rest = columns
      .filter((c) => c !== 'event_id')
      .map((c) => (c === 'occurred_at' ? 'occurred_at INTEGER NOT NULL' : c));
    db.exec(
      `CREATE TABLE ${table} (event_id TEXT PRIMARY KEY, ${rest.join(', ')});
       CREATE INDEX ${table}_time ON ${table} (occurred_at)`,
    );
    const insert = db.prepare(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    for (const row of rows.get(table) ?? []) insert.run(...columns.map((c) => row[c]));
  }
  db.close();
}

test('a database of the older layout keeps its rows and ids when the store opens it', async () => {
  const { events, usage, completed } = buildWorkload();
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');
  writeLayoutZero(path, toRowsByTable(events));

  const store = new SqliteUsageStore(path);
  try {
    assert.equal(store.count('usage_events'), usage.length);
    assert.equal(store.count('request_completed_events'), completed.length);
    // The same events again (a redelivery after the upgrade) add nothing.
    await store.write(events);
    assert.equal(store.count('usage_events'), usage.length);
    const report = await store.usage({
      from: new Date(RANGE.from),
      to: new Date(RANGE.to),
      bucket: 'day',
      groupBy: 'none',
      filters: {},
    });
    assert.equal(report.totals.requests, usage.length);
  } finally {
    store.close();
  }

  const db = new DatabaseSync(path);
  const indexes = db
    .prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL`)
    .all();
  db.close();
  assert.deepEqual(indexes, [], 'the occurred_at indexes are gone');
});

test('a store opened again keeps its rows', async () => {
  const { events, usage } = buildWorkload();
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');
  const first = new SqliteUsageStore(path);
  await first.write(events);
  first.close();
  const again = new SqliteUsageStore(path);
  try {
    await again.write(events);
    assert.equal(again.count('usage_events'), usage.length);
  } finally {
    again.close();
  }
});
