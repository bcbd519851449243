import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { inTransaction } from './sqlite-transaction';

function table(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  return db;
}

const rows = (db: DatabaseSync) =>
  (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

describe('inTransaction', () => {
  it('commits what the work wrote and returns its result', () => {
    const db = table();
    assert.equal(
      inTransaction(db, () => db.prepare('INSERT INTO t VALUES (1)').run().changes),
      1,
    );
    assert.equal(rows(db), 1);
    assert.equal(db.isTransaction, false);
  });

  it('rolls back a failed work and rethrows its error', () => {
    const db = table();
    assert.throws(
      () =>
        inTransaction(db, () => {
          db.prepare('INSERT INTO t VALUES (1)').run();
          throw new Error('the work failed');
        }),
      /the work failed/,
    );
    assert.equal(rows(db), 0);
    assert.equal(db.isTransaction, false);
  });

  it('rethrows the error itself when SQLite already ended the transaction', () => {
    const db = table();
    assert.throws(
      () =>
        inTransaction(db, () => {
          db.exec('ROLLBACK'); // as SQLite does itself on a full disk
          throw new Error('database or disk is full');
        }),
      /database or disk is full/,
    );
  });
});
