import type { DatabaseSync } from 'node:sqlite';
import { inTransaction } from '@aigw/embedded';
import { RAW_TABLES, TABLE_COLUMNS, type RawTable } from '../domain/event-rows';

/**
 * Layout of the embedded raw tables, in `PRAGMA user_version`:
 * 0. `event_id TEXT PRIMARY KEY` plus an index on `occurred_at` (or no tables yet);
 * 1. keyed by `(occurred_at, event_id)`, clustered (`WITHOUT ROWID`), no other index.
 *
 * Why 1: layout 0 kept three B-trees per table (rows, the id index, the time index) and
 * the time index served no query (their time filter is an expression over the column).
 * One B-tree led by the time takes each insert at its end whatever the ids look like:
 * 4.5 → 4.0 µs CPU per event with time-ordered (v7) ids, and with random (v4) ids
 * 9–14 µs, growing with the table, → 5 µs, flat (300k events, measured). A redelivered
 * event carries the same time, so the key still stores each event id once; ClickHouse
 * folds on the same key (`ORDER BY (occurred_at, event_id)`).
 * 2. as 1, and `usage_events` has `cache_write_input_tokens` (ClickHouse migration 004).
 * 3. as 2, and `usage_events` has `operation` ('' in rows stored before; migration 006).
 * 4. as 3, and a `budget_adjustment_events` table (migration 007).
 * 5. as 4, and `budget_adjustment_events` has `operator` ('' in rows stored before; 008).
 * 6. as 5, and a `request_payload_events` table (migration 009), indexed by request id
 *    and by user and time, the two ways it is read.
 * 7. as 6, and `usage_events` and `request_completed_events` have `route`, the backend's
 *    route ('' in rows stored before; migration 010).
 * 8. as 7, and `usage_events` has `web_search_requests`, the server-tool web searches
 *    billed in its cost (0 in rows stored before; migration 012).
 */
const CLUSTERED_BY_TIME = 1;
const REQUEST_PAYLOADS = 6;
const WEB_SEARCHES = 8;
const LAYOUT = WEB_SEARCHES;

/**
 * Columns added to a table after it was first laid out, with the value the rows stored
 * before it hold. They come last in `TABLE_COLUMNS`, where ALTER TABLE adds them.
 */
const ADDED_COLUMNS: Readonly<Partial<Record<RawTable, Readonly<Record<string, number | ''>>>>> = {
  usage_events: {
    cache_write_input_tokens: 0,
    operation: '',
    route: '',
    web_search_requests: 0,
  },
  request_completed_events: { route: '' },
  budget_adjustment_events: { operator: '' },
};

/** Creates the raw tables, or moves a database of an older layout onto the current one. */
export function prepareRawTables(db: DatabaseSync): void {
  // IMMEDIATE: the version is read and the tables moved under one write lock.
  inTransaction(
    db,
    () => {
      const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
        user_version: number;
      };
      if (version < CLUSTERED_BY_TIME) {
        for (const table of RAW_TABLES) {
          if (exists(db, table)) migrate(db, table);
          else db.exec(createTable(table, table));
        }
      }
      // Each adds only what a database lacks, so one pass serves every older layout. Tables
      // first: a table made now has every column, and the columns go to older tables only.
      if (version < LAYOUT) addTables(db);
      if (version < LAYOUT) addColumns(db);
      if (version < REQUEST_PAYLOADS) addPayloadIndexes(db);
      if (version < LAYOUT) db.exec(`PRAGMA user_version = ${LAYOUT}`);
    },
    'BEGIN IMMEDIATE',
  );
}

function createTable(table: RawTable, name: string): string {
  // Numbers bind as REAL; INTEGER affinity keeps times whole for bucket arithmetic.
  const added = ADDED_COLUMNS[table] ?? {};
  const rest = TABLE_COLUMNS[table]
    .filter((c) => c !== 'event_id' && c !== 'occurred_at')
    .map((c) => (Object.hasOwn(added, c) ? `${c} DEFAULT ${sqlDefault(added[c])}` : c));
  return `CREATE TABLE ${name} (
    occurred_at INTEGER NOT NULL, event_id TEXT NOT NULL, ${rest.join(', ')},
    PRIMARY KEY (occurred_at, event_id)
  ) WITHOUT ROWID`;
}

/**
 * Copies the rows of a table of layout 0 into one of the current layout (drops its index).
 * Columns added since take their default.
 */
function migrate(db: DatabaseSync, table: RawTable): void {
  const held = columnsOf(db, table);
  const columns = TABLE_COLUMNS[table].filter((c) => held.has(c)).join(', ');
  db.exec(`${createTable(table, `${table}_next`)};
    INSERT INTO ${table}_next (${columns}) SELECT ${columns} FROM ${table};
    DROP TABLE ${table};
    ALTER TABLE ${table}_next RENAME TO ${table}`);
}

/** Adds to each table the columns added since it was made, with their default. */
function addColumns(db: DatabaseSync): void {
  for (const [table, added] of Object.entries(ADDED_COLUMNS)) {
    const held = columnsOf(db, table);
    for (const [column, value] of Object.entries(added)) {
      if (!held.has(column)) {
        db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} DEFAULT ${sqlDefault(value)}`);
      }
    }
  }
}

/** A default from the fixed table above: a number, or the empty text. */
function sqlDefault(value: number | ''): string {
  return value === '' ? `''` : String(value);
}

/** Creates the tables added since a database was laid out (a table of a topic sunk later). */
function addTables(db: DatabaseSync): void {
  for (const table of RAW_TABLES) if (!exists(db, table)) db.exec(createTable(table, table));
}

/** A payload is looked up by its request, or listed by user newest first. */
function addPayloadIndexes(db: DatabaseSync): void {
  db.exec(`CREATE INDEX IF NOT EXISTS request_payload_events_request
             ON request_payload_events (request_id);
           CREATE INDEX IF NOT EXISTS request_payload_events_user
             ON request_payload_events (user_id, occurred_ms)`);
}

function columnsOf(db: DatabaseSync, table: string): Set<string> {
  const rows = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as {
    name: string;
  }[];
  return new Set(rows.map((row) => row.name));
}

function exists(db: DatabaseSync, table: string): boolean {
  return (
    db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(table) !==
    undefined
  );
}
