import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import type { GatewayEvent, TokenUsageRecorded } from '@aigw/contracts';
import { RAW_TABLES, TABLE_COLUMNS, toRowsByTable, type RawTable } from '../domain/event-rows';
import { ADJUSTMENTS, buildWorkload, payloadEvents, RANGE } from '../testing/analytics-fixture';
import { SqliteUsageStore } from './sqlite-usage.store';

/** The layout the store writes (sqlite-usage.schema.ts). */
const LAYOUT = 8;

/** Columns added by layouts 2, 3, 5, 7 and 8 (7's to two tables). */
const ADDED_BY: Readonly<Record<2 | 3 | 5 | 7 | 8, string>> = {
  2: 'cache_write_input_tokens',
  3: 'operation',
  5: 'operator',
  7: 'route',
  8: 'web_search_requests',
};

/** The columns of a table in an older layout: every one but those added since. */
function olderColumns(table: RawTable, layout = 1): readonly string[] {
  const later = Object.entries(ADDED_BY)
    .filter(([added]) => Number(added) > layout)
    .map(([, column]) => column);
  return TABLE_COLUMNS[table].filter((c) => !later.includes(c));
}

/** The prompt-cache writes stored in a database, and the rows without their column filled. */
function storedWrites(path: string): { total: number; unset: number } {
  const db = new DatabaseSync(path);
  const row = db
    .prepare(
      `SELECT coalesce(sum(cache_write_input_tokens), 0) AS total,
         count(*) - count(cache_write_input_tokens) AS unset FROM usage_events`,
    )
    .get() as { total: number; unset: number };
  db.close();
  return { total: row.total, unset: row.unset };
}

const writesOf = (usage: readonly TokenUsageRecorded[]) =>
  usage.reduce((sum, u) => sum + (u.cacheWriteInputTokens ?? 0), 0);

/** A database as the store wrote it before the tables were keyed by time (layout 0). */
function writeLayoutZero(path: string, rows: ReturnType<typeof toRowsByTable>): void {
  const db = new DatabaseSync(path);
  for (const table of RAW_TABLES) {
    const columns = olderColumns(table);
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
    .all()
    .map((row) => row.name as string);
  db.close();
  // Only the payload table's look-ups (layout 6) are left.
  assert.deepEqual(
    indexes.sort(),
    ['request_payload_events_request', 'request_payload_events_user'],
    'the occurred_at indexes are gone',
  );
  // Written before the column existed: every row reads 0 writes, none is left unset.
  assert.deepEqual(storedWrites(path), { total: 0, unset: 0 });
});

/**
 * A database as the store wrote it before usage rows had their cache writes (layout 1), or
 * their operation (layout 2).
 */
function writeLayoutOne(path: string, rows: ReturnType<typeof toRowsByTable>, layout = 1): void {
  const db = new DatabaseSync(path);
  // Budget adjustments have a table from layout 4 on, payloads from layout 6.
  const tables = RAW_TABLES.filter(
    (t) =>
      (layout >= 4 || t !== 'budget_adjustment_events') &&
      (layout >= 6 || t !== 'request_payload_events'),
  );
  for (const table of tables) {
    const columns = olderColumns(table, layout);
    const rest = columns.filter((c) => c !== 'event_id' && c !== 'occurred_at');
    db.exec(`CREATE TABLE ${table} (
      occurred_at INTEGER NOT NULL, event_id TEXT NOT NULL, ${rest.join(', ')},
      PRIMARY KEY (occurred_at, event_id)
    ) WITHOUT ROWID`);
    const insert = db.prepare(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    for (const row of rows.get(table) ?? []) insert.run(...columns.map((c) => row[c]));
  }
  db.exec(`PRAGMA user_version = ${layout}`);
  db.close();
}

test('a database of layout 1 gains the cache-write column, its rows at 0, and stores writes', async () => {
  const older = buildWorkload(30);
  const newer = buildWorkload(30);
  assert.ok(writesOf(newer.usage) > 0, 'the workload writes to the prompt cache');
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');
  writeLayoutOne(path, toRowsByTable(older.events));

  const store = new SqliteUsageStore(path);
  try {
    assert.equal(store.count('usage_events'), older.usage.length);
    await store.write(newer.events);
    assert.equal(store.count('usage_events'), older.usage.length + newer.usage.length);
  } finally {
    store.close();
  }
  assert.deepEqual(storedWrites(path), { total: writesOf(newer.usage), unset: 0 });
  const db = new DatabaseSync(path);
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
    user_version: number;
  };
  const columns = db.prepare(`SELECT name FROM pragma_table_info('usage_events')`).all();
  db.close();
  assert.equal(version, LAYOUT);
  const later = TABLE_COLUMNS.usage_events.filter((c) => c !== 'event_id' && c !== 'occurred_at');
  assert.deepEqual(
    columns.map((c) => c.name),
    ['occurred_at', 'event_id', ...later],
  );
});

/** Rows per operation stored in a database ('' for none), and the rows left unset. */
function storedOperations(path: string): Record<string, number> {
  const db = new DatabaseSync(path);
  const rows = db
    .prepare(
      `SELECT coalesce(operation, 'NULL') AS op, count(*) AS n FROM usage_events GROUP BY op`,
    )
    .all() as { op: string; n: number }[];
  db.close();
  return Object.fromEntries(rows.map((r) => [r.op, r.n]));
}

test("a database of layout 2 gains the operation column, its rows at '', and stores operations", async () => {
  const older = buildWorkload(30);
  const newer = buildWorkload(30);
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');
  writeLayoutOne(path, toRowsByTable(older.events), 2);

  const store = new SqliteUsageStore(path);
  try {
    await store.write(newer.events);
    assert.equal(store.count('usage_events'), older.usage.length + newer.usage.length);
    const report = await store.usage({
      from: new Date(RANGE.from),
      to: new Date(RANGE.to),
      bucket: 'day',
      groupBy: 'operation',
      filters: {},
    });
    const requests = (key: string) =>
      report.series.filter((p) => p.key === key).reduce((n, p) => n + p.requests, 0);
    const named = (op: string) => newer.usage.filter((u) => (u.operation ?? '') === op).length;
    assert.ok(named('transcriptions') > 0, 'the workload has audio calls');
    assert.equal(requests('transcriptions'), named('transcriptions'));
    assert.equal(requests(''), older.usage.length + named(''), 'stored before: no operation');
  } finally {
    store.close();
  }
  const expected: Record<string, number> = { '': older.usage.length };
  for (const u of newer.usage) {
    const key = u.operation ?? '';
    expected[key] = (expected[key] ?? 0) + 1;
  }
  assert.deepEqual(storedOperations(path), expected);
  const db = new DatabaseSync(path);
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
    user_version: number;
  };
  db.close();
  assert.equal(version, LAYOUT);
});

test('a database of layout 3 gains the budget adjustments table, and stores adjustments', async () => {
  const older = buildWorkload(30);
  const newer = buildWorkload(30);
  const adjustments = (events: readonly { type: string }[]) =>
    events.filter((e) => e.type === 'budget.adjusted').length;
  assert.ok(adjustments(newer.events) > 0, 'the workload adjusts budgets');
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');
  writeLayoutOne(path, toRowsByTable(older.events), 3);

  const store = new SqliteUsageStore(path);
  try {
    assert.equal(store.count('usage_events'), older.usage.length);
    await store.write([...newer.events, ...newer.events]);
    assert.equal(store.count('budget_adjustment_events'), adjustments(newer.events));
    const rows = await store.budgetAdjustments({
      from: new Date(RANGE.from),
      to: new Date(RANGE.to),
      limit: 100,
      filters: {},
    });
    assert.equal(rows.length, adjustments(newer.events));
  } finally {
    store.close();
  }
  const db = new DatabaseSync(path);
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
    user_version: number;
  };
  db.close();
  assert.equal(version, LAYOUT);
});

test('a database of layout 4 gains the operator column, its adjustments unnamed, and stores operators', async () => {
  const older = buildWorkload(30);
  const newer = buildWorkload(30);
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');
  writeLayoutOne(path, toRowsByTable(older.events), 4);

  const store = new SqliteUsageStore(path);
  try {
    assert.equal(store.count('budget_adjustment_events'), ADJUSTMENTS.length);
    await store.write(newer.events);
    const rows = await store.budgetAdjustments({
      from: new Date(RANGE.from),
      to: new Date(RANGE.to),
      limit: 100,
      filters: {},
    });
    const ids = (events: readonly GatewayEvent[]) =>
      new Set(events.filter((e) => e.type === 'budget.adjusted').map((e) => e.eventId));
    const before = ids(older.events);
    // Stored before the column: no operator. Stored after: the events' own.
    assert.deepEqual(
      rows.filter((r) => before.has(r.eventId)).map((r) => r.operator),
      ADJUSTMENTS.map(() => null),
    );
    assert.deepEqual(
      rows.filter((r) => ids(newer.events).has(r.eventId)).map((r) => r.operator),
      [...ADJUSTMENTS].reverse().map((a) => a.operator),
    );
  } finally {
    store.close();
  }
  const db = new DatabaseSync(path);
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
    user_version: number;
  };
  db.close();
  assert.equal(version, LAYOUT);
});

test('a database of layout 5 gains the payload table and its indexes, and stores payloads', async () => {
  const older = buildWorkload(30);
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');
  writeLayoutOne(path, toRowsByTable(older.events), 5);
  const store = new SqliteUsageStore(path);
  try {
    assert.equal(store.count('usage_events'), older.usage.length);
    await store.write(payloadEvents());
    assert.equal(store.count('request_payload_events'), payloadEvents().length);
    assert.equal((await store.payload('req-payload-2'))?.request.truncated, true);
  } finally {
    store.close();
  }
  const db = new DatabaseSync(path);
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
    user_version: number;
  };
  const plan = db
    .prepare(`EXPLAIN QUERY PLAN SELECT * FROM request_payload_events WHERE request_id = ?`)
    .all('x')
    .map((row) => String(row.detail))
    .join('\n');
  db.close();
  assert.equal(version, LAYOUT);
  assert.match(plan, /USING INDEX request_payload_events_request/);
});

test("a database of layout 6 gains the route columns, its rows at '', and stores routes", async () => {
  const older = buildWorkload(30);
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');
  writeLayoutOne(path, toRowsByTable(older.events), 6);
  const routed = buildWorkload(30).events.map((event) =>
    event.type === 'usage.recorded' || event.type === 'request.completed'
      ? { ...event, route: 'embed' }
      : event,
  );
  const store = new SqliteUsageStore(path);
  try {
    await store.write(routed);
  } finally {
    store.close();
  }
  const db = new DatabaseSync(path);
  const routes = (table: RawTable) =>
    Object.fromEntries(
      (
        db
          .prepare(`SELECT coalesce(route, 'NULL') AS r, count(*) AS n FROM ${table} GROUP BY r`)
          .all() as { r: string; n: number }[]
      ).map((row) => [row.r, row.n]),
    );
  const count = (events: readonly GatewayEvent[], type: string) =>
    events.filter((e) => e.type === type).length;
  try {
    // Stored before the column: no route. Stored after: the events' own.
    assert.deepEqual(routes('usage_events'), {
      '': count(older.events, 'usage.recorded'),
      embed: count(routed, 'usage.recorded'),
    });
    assert.deepEqual(routes('request_completed_events'), {
      '': count(older.events, 'request.completed'),
      embed: count(routed, 'request.completed'),
    });
    const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
      user_version: number;
    };
    assert.equal(version, LAYOUT);
  } finally {
    db.close();
  }
});

test('a database of layout 7 gains the web-search column, its rows at 0, and stores searches', async () => {
  const older = buildWorkload(30);
  const newer = buildWorkload(30);
  const searchesOf = (usage: readonly TokenUsageRecorded[]) =>
    usage.reduce((sum, u) => sum + (u.webSearchRequests ?? 0), 0);
  assert.ok(searchesOf(newer.usage) > 0, 'the workload runs web searches');
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db');
  writeLayoutOne(path, toRowsByTable(older.events), 7);
  const store = new SqliteUsageStore(path);
  try {
    await store.write(newer.events);
    const report = await store.usage({
      from: new Date(RANGE.from),
      to: new Date(RANGE.to),
      bucket: 'day',
      groupBy: 'none',
      filters: {},
    });
    assert.equal(report.totals.requests, older.usage.length + newer.usage.length);
    assert.equal(report.totals.webSearchRequests, searchesOf(newer.usage));
  } finally {
    store.close();
  }
  const db = new DatabaseSync(path);
  try {
    const row = db
      .prepare(
        `SELECT count(*) - count(web_search_requests) AS unset,
           coalesce(sum(web_search_requests), 0) AS total FROM usage_events`,
      )
      .get() as { unset: number; total: number };
    assert.deepEqual({ ...row }, { unset: 0, total: searchesOf(newer.usage) });
    const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
      user_version: number;
    };
    assert.equal(version, LAYOUT);
  } finally {
    db.close();
  }
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
  assert.deepEqual(storedWrites(path), { total: writesOf(usage), unset: 0 });
});
