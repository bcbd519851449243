import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isUnreadableDatabase } from './unreadable-database';

/**
 * When what waits on a WAL database's commit moves on. Every store commits with
 * `PRAGMA synchronous = NORMAL` (frames written to the -wal file, no fsync on the event
 * loop). `full`: a consumer position or a held answer waits for an fdatasync of the -wal
 * file on the threadpool (WalDurablePoint), so nothing moves past a commit a power loss or
 * an OS crash could take back. `normal`: nothing waits; commits reach the disk at
 * checkpoints (about once a second), so a power loss may take the last ones back. A
 * process crash loses none either way.
 */
export type SqliteSync = 'full' | 'normal';

export const SQLITE_SYNC_MODES: readonly SqliteSync[] = ['full', 'normal'];

/**
 * `full`: each of these stores commits before something that cannot be taken back, a
 * consumer position moving on (the event log's own, or Kafka's offset) or an answer
 * held for its record (AI_GATEWAY_ANSWER_AFTER_RECORD). A commit lost after that is lost
 * for good: nothing replays it.
 */
export const DEFAULT_SQLITE_SYNC: SqliteSync = 'full';

/** PRAGMA synchronous NORMAL: the fsync a `full` store needs is its DurablePoint's. */
const NORMAL = 1;

/** How long an open waits for another connection's lock on the file (SQLITE_BUSY). */
const OPEN_BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens the SQLite database at `path` (its directory created) in WAL mode with
 * `PRAGMA synchronous = NORMAL` whatever `sync` says: `full`'s durability comes from the
 * store's DurablePoint (durablePointFor), off the event loop. WAL keeps readers off the
 * writer's back.
 */
export function openWalDatabase(
  path: string,
  sync: SqliteSync = DEFAULT_SQLITE_SYNC,
): DatabaseSync {
  // Checked, not trusted to the type: it comes from the environment.
  if (!SQLITE_SYNC_MODES.includes(sync))
    throw new Error(`unknown SQLite sync mode "${String(sync)}"`);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
    // Another connection may hold the file for a moment as this one opens: the checkpoint
    // worker closing a handle of this process checkpoints and removes the WAL under an
    // exclusive lock. Waited for here, at the start; afterwards (busy_timeout 0) a write on
    // the event loop never waits on a lock.
    db.exec(
      `PRAGMA busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; ` +
        `PRAGMA synchronous = ${NORMAL}; PRAGMA busy_timeout = 0;`,
    );
  } catch (error) {
    db.close();
    if (!isUnreadableDatabase(error)) throw error;
    // Named: the gateway keeps several stores, and SQLite's words say not which one.
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `SQLite store ${path} cannot be read (${reason}): restore it from a backup, or move ` +
        'it aside to start without what it held',
      { cause: error },
    );
  }
  return db;
}

/** PRAGMA synchronous in force on `db`'s connection: 2 FULL, 1 NORMAL (0 OFF, 3 EXTRA). */
export function synchronousLevel(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA synchronous').get() as { synchronous: number };
  return Number(row.synchronous);
}
