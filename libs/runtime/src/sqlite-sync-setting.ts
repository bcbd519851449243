import { DEFAULT_SQLITE_SYNC, SQLITE_SYNC_MODES, type SqliteSync } from '@aigw/embedded';
import { StartupError } from './listen';
import type { Env } from './service-settings';

export const SQLITE_SYNC_SETTING = 'AI_GATEWAY_SQLITE_SYNC';

/**
 * AI_GATEWAY_SQLITE_SYNC: what waits for the SQLite stores under the data directory (the
 * embedded event log, the budget balances without Redis, the analytics without
 * ClickHouse) to reach the disk. Each commits at synchronous NORMAL (no fsync on the event
 * loop). `full` (default): consumer positions, Kafka offsets and answers held for their
 * record wait for an fdatasync of the store's WAL on the threadpool, shared by concurrent
 * waiters, so a power loss loses nothing they moved past; `normal`: nothing waits, and the
 * WAL reaches the disk at checkpoints (about once a second). Anything else stops the start.
 */
export function sqliteSync(env: Env): SqliteSync {
  const given = env[SQLITE_SYNC_SETTING];
  const raw = given?.trim().toLowerCase();
  if (raw === undefined || raw === '') return DEFAULT_SQLITE_SYNC;
  const mode = SQLITE_SYNC_MODES.find((candidate) => candidate === raw);
  if (mode) return mode;
  throw new StartupError(`${SQLITE_SYNC_SETTING} must be "full" or "normal", got "${given}"`);
}
