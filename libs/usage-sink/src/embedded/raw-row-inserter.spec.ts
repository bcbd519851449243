import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import type { GatewayEvent } from '@aigw/contracts';
import { RAW_TABLES, rowLayoutOf, TABLE_COLUMNS } from '../domain/event-rows';
import { buildWorkload } from '../testing/analytics-fixture';
import { RawRowInserter, ROWS_PER_STATEMENT } from './raw-row-inserter';
import { prepareRawTables } from './sqlite-usage.schema';

function database(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  prepareRawTables(db);
  return db;
}

/** Every table's rows, in key order: what a store holds. */
function contents(db: DatabaseSync): Record<string, unknown[]> {
  return Object.fromEntries(
    RAW_TABLES.map((table) => [
      table,
      db.prepare(`SELECT * FROM ${table} ORDER BY occurred_at, event_id`).all(),
    ]),
  );
}

/** One statement per row: the reference the batched inserts must equal. */
function insertOneByOne(db: DatabaseSync, events: readonly GatewayEvent[]): void {
  for (const event of events) {
    const { table, values } = rowLayoutOf(event);
    const columns = TABLE_COLUMNS[table];
    db.prepare(
      `INSERT OR IGNORE INTO ${table} (${columns.join(', ')})
       VALUES (${columns.map(() => '?').join(', ')})`,
    ).run(...values(event));
  }
}

test('batched rows equal one statement per row, at every statement boundary', () => {
  const { events } = buildWorkload(60);
  for (const count of [1, ROWS_PER_STATEMENT - 1, ROWS_PER_STATEMENT, ROWS_PER_STATEMENT + 1, 97]) {
    const batch = events.slice(0, count);
    const batched = database();
    const reference = database();
    new RawRowInserter(batched).insert(batch);
    insertOneByOne(reference, batch);
    assert.deepEqual(contents(batched), contents(reference), `${count} events`);
  }
});

test('an id repeated in one statement, or stored before, is stored once', () => {
  const { events, usage } = buildWorkload(40);
  const db = database();
  const inserter = new RawRowInserter(db);
  // The same usage events twice in a row: each repeat lands in the statement of its first.
  inserter.insert(usage.flatMap((event) => [event, event]));
  inserter.insert(events);
  const [{ n }] = db.prepare('SELECT count(*) AS n FROM usage_events').all() as { n: number }[];
  assert.equal(n, usage.length);
  const reference = database();
  insertOneByOne(reference, events);
  assert.deepEqual(contents(db), contents(reference));
});

test('an event of no raw table fails the insert with its type named', () => {
  const { events } = buildWorkload(2);
  const unknown = { ...events[0], type: 'no.such.event' } as unknown as GatewayEvent;
  assert.throws(() => new RawRowInserter(database()).insert([unknown]), /no\.such\.event/);
});
