import type {
  DatabaseSync,
  SQLInputValue,
  StatementResultingChanges,
  StatementSync,
} from 'node:sqlite';

/**
 * Most rows one INSERT takes. One statement a row was mostly per-statement work: 16 a
 * statement cut an appended event from 2.9 to 2.4 µs CPU (the event log; the usage sink's
 * rows and the budget store's ledger measured alike), and past 16 rows saves nothing more.
 */
export const ROWS_PER_STATEMENT = 16;

/**
 * `INSERT OR IGNORE INTO <table> (<columns>) VALUES (...), (...), ...` for 1 to
 * ROWS_PER_STATEMENT rows, each count's statement prepared on its first use and kept.
 */
export class MultiRowInsert {
  private readonly statements: StatementSync[] = [];
  private readonly head: string;
  private readonly row: string;

  constructor(
    private readonly db: DatabaseSync,
    table: string,
    columns: readonly string[],
  ) {
    if (columns.length === 0) throw new Error(`An insert into ${table} needs a column`);
    this.head = `INSERT OR IGNORE INTO ${table} (${columns.join(', ')}) VALUES `;
    this.row = `(${columns.map(() => '?').join(', ')})`;
  }

  /** The statement for `rows` rows; bind it each row's values in turn, flat. */
  statementFor(rows: number): StatementSync {
    let statement = this.statements[rows];
    if (!statement) {
      if (!Number.isInteger(rows) || rows < 1 || rows > ROWS_PER_STATEMENT) {
        throw new RangeError(`An insert takes 1 to ${ROWS_PER_STATEMENT} rows, not ${rows}`);
      }
      statement = this.db.prepare(
        this.head + Array.from({ length: rows }, () => this.row).join(', '),
      );
      this.statements[rows] = statement;
    }
    return statement;
  }

  /** Inserts `rows` rows whose values follow one another in `values`. */
  run(rows: number, values: readonly SQLInputValue[]): StatementResultingChanges {
    return this.statementFor(rows).run(...values);
  }
}
