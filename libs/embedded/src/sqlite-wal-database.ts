import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * When a WAL database's commit reaches the disk (PRAGMA synchronous). `full`: the WAL is
 * fsynced at every commit, so a commit survives a power loss or an OS crash. `normal`: only
 * at checkpoints, so a power loss may take the last commits back; a process crash loses
 * none either way.
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

/** PRAGMA synchronous's number for each mode (what `PRAGMA synchronous` reads back). */
export const SYNCHRONOUS_LEVEL: Readonly<Record<SqliteSync, number>> = { normal: 1, full: 2 };

/**
 * Opens the SQLite database at `path` (its directory created) in WAL mode, committing as
 * `sync` says. WAL keeps readers off the writer's back.
 */
export function openWalDatabase(
  path: string,
  sync: SqliteSync = DEFAULT_SQLITE_SYNC,
): DatabaseSync {
  const level = SYNCHRONOUS_LEVEL[sync];
  // Checked, not trusted to the type: the mode ends up in a pragma.
  if (level === undefined) throw new Error(`unknown SQLite sync mode "${String(sync)}"`);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${level};`);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** PRAGMA synchronous in force on `db`'s connection: 2 FULL, 1 NORMAL (0 OFF, 3 EXTRA). */
export function synchronousLevel(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA synchronous').get() as { synchronous: number };
  return Number(row.synchronous);
}
