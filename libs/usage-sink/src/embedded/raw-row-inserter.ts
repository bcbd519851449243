import type { DatabaseSync } from 'node:sqlite';
import type { GatewayEvent } from '@aigw/contracts';
import { MultiRowInsert, ROWS_PER_STATEMENT } from '@aigw/embedded';
import { rowLayoutOf, TABLE_COLUMNS, type RawTable, type RowValue } from '../domain/event-rows';

/**
 * Rows per INSERT statement. One statement a row spent ~20% of the sink's write in
 * per-statement work: 16 rows a statement cut it from ~6.8 to ~5.6 µs CPU a request (its
 * 3 rows; bench/micro/record.ts and an A/B of the two in one process).
 */
export { ROWS_PER_STATEMENT };

/** The rows of one table waiting for their statement, as flat bind values. */
interface TableRows {
  readonly table: RawTable;
  values: RowValue[];
  rows: number;
}

/**
 * Inserts events into their raw tables, several rows per statement, `INSERT OR IGNORE`:
 * a row whose (time, id) key is stored, or came earlier in the same statement, is skipped,
 * exactly as with one statement per row. Rows of one table keep their order. Runs inside
 * the caller's transaction.
 */
export class RawRowInserter {
  // Made on first use for each table.
  private readonly inserts = new Map<RawTable, MultiRowInsert>();

  constructor(private readonly db: DatabaseSync) {}

  insert(events: readonly GatewayEvent[]): void {
    const waiting = new Map<RawTable, TableRows>();
    for (const event of events) {
      const { table, values } = rowLayoutOf(event);
      let rows = waiting.get(table);
      if (!rows) {
        rows = { table, values: [], rows: 0 };
        waiting.set(table, rows);
      }
      for (const value of values(event)) rows.values.push(value);
      if (++rows.rows === ROWS_PER_STATEMENT) this.write(rows);
    }
    for (const rows of waiting.values()) if (rows.rows > 0) this.write(rows);
  }

  private write(rows: TableRows): void {
    this.insertInto(rows.table).run(rows.rows, rows.values);
    rows.values = [];
    rows.rows = 0;
  }

  private insertInto(table: RawTable): MultiRowInsert {
    let insert = this.inserts.get(table);
    if (!insert) {
      insert = new MultiRowInsert(this.db, table, TABLE_COLUMNS[table]);
      this.inserts.set(table, insert);
    }
    return insert;
  }
}
