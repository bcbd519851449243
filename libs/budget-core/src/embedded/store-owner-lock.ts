import { DatabaseSync } from 'node:sqlite';

/**
 * Says that a process keeps an embedded budget store's balances (`budget.db`) in memory: the
 * embedded gateway, or a budget service without Redis. Such a process writes each balance
 * back whole, so a change another process makes to the file (a `budget:rebuild --restore`)
 * is never seen by it and is overwritten at that balance's next settlement. Held as an
 * exclusive SQLite lock on a file beside the store (`budget.db.owner`), which the operating
 * system lets go when the process ends, however it ends.
 */
export class BudgetStoreOwnerLock {
  private constructor(private readonly db: DatabaseSync) {}

  /** Takes the lock; undefined when another process holds it (no waiting). */
  static acquire(storePath: string): BudgetStoreOwnerLock | undefined {
    const db = new DatabaseSync(`${storePath}.owner`, { timeout: 0 });
    try {
      // In exclusive locking mode a connection keeps the lock of its first write until it closes.
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL, since INTEGER NOT NULL)');
      db.exec('DELETE FROM owner');
      db.prepare('INSERT INTO owner (pid, since) VALUES (?, ?)').run(process.pid, Date.now());
      db.exec('COMMIT');
      return new BudgetStoreOwnerLock(db);
    } catch {
      db.close();
      return undefined;
    }
  }

  release(): void {
    if (this.db.isOpen) this.db.close();
  }
}
