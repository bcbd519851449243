import type { DatabaseSync } from 'node:sqlite';

/**
 * Runs `work` in one transaction and commits it. On a failure it rolls back and rethrows
 * the failure itself: SQLite ends the transaction on its own after some errors (a full
 * disk, an I/O error), and a ROLLBACK then would throw "no transaction is active" in place
 * of the error that says what went wrong.
 */
export function inTransaction<T>(
  db: DatabaseSync,
  work: () => T,
  begin: 'BEGIN' | 'BEGIN IMMEDIATE' = 'BEGIN',
): T {
  db.exec(begin);
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
