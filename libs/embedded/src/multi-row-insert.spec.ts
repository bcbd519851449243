import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { MultiRowInsert, ROWS_PER_STATEMENT } from './multi-row-insert';

function database(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE pairs (a INTEGER NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b))');
  return db;
}

const rowsOf = (db: DatabaseSync): unknown[] =>
  db
    .prepare('SELECT a, b FROM pairs ORDER BY a, b')
    .all()
    .map((row) => ({ ...row }));

describe('MultiRowInsert', () => {
  it('writes the SQL of one INSERT OR IGNORE with a row of placeholders per row', () => {
    const insert = new MultiRowInsert(database(), 'pairs', ['a', 'b']);
    assert.equal(
      insert.statementFor(1).sourceSQL,
      'INSERT OR IGNORE INTO pairs (a, b) VALUES (?, ?)',
    );
    assert.equal(
      insert.statementFor(3).sourceSQL,
      'INSERT OR IGNORE INTO pairs (a, b) VALUES (?, ?), (?, ?), (?, ?)',
    );
  });

  it('prepares each row count once and keeps it', () => {
    const insert = new MultiRowInsert(database(), 'pairs', ['a', 'b']);
    for (let rows = 1; rows <= ROWS_PER_STATEMENT; rows++) {
      assert.equal(insert.statementFor(rows), insert.statementFor(rows));
    }
    assert.notEqual(insert.statementFor(1), insert.statementFor(2));
  });

  it('inserts every row of flat values, skipping keys already stored or earlier in it', () => {
    const db = database();
    const insert = new MultiRowInsert(db, 'pairs', ['a', 'b']);
    assert.equal(insert.run(1, [2, 'y']).changes, 1);
    const values = Array.from({ length: ROWS_PER_STATEMENT }, (_, i) => [
      i % 4,
      'xyz'[i % 3],
    ]).flat();
    const result = insert.run(ROWS_PER_STATEMENT, values);
    assert.equal(result.changes, 11); // 12 distinct (a, b) pairs, one of them stored before
    assert.equal(rowsOf(db).length, 12);
  });

  it('refuses a row count it has no statement for', () => {
    const insert = new MultiRowInsert(database(), 'pairs', ['a', 'b']);
    for (const rows of [0, ROWS_PER_STATEMENT + 1, 1.5]) {
      assert.throws(() => insert.statementFor(rows), {
        name: 'RangeError',
        message: `An insert takes 1 to ${ROWS_PER_STATEMENT} rows, not ${rows}`,
      });
    }
  });

  it('refuses a table without a column', () => {
    assert.throws(() => new MultiRowInsert(database(), 'pairs', []), /pairs needs a column/);
  });
});
