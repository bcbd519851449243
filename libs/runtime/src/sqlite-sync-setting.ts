import { DEFAULT_SQLITE_SYNC, SQLITE_SYNC_MODES, type SqliteSync } from '@aigw/embedded';
import { StartupError } from './listen';
import type { Env } from './service-settings';

export const SQLITE_SYNC_SETTING = 'AI_GATEWAY_SQLITE_SYNC';

/**
 * AI_GATEWAY_SQLITE_SYNC: how the SQLite stores under the data directory commit (the
 * embedded event log, the budget balances without Redis, the analytics without
 * ClickHouse). `full` (default) fsyncs each commit, so a power loss loses nothing a
 * consumer position or an answer already moved past; `normal` fsyncs only at
 * checkpoints (about once a second), trading those last commits for a little less
 * work per write. Anything else stops the start.
 */
export function sqliteSync(env: Env): SqliteSync {
  const given = env[SQLITE_SYNC_SETTING];
  const raw = given?.trim().toLowerCase();
  if (raw === undefined || raw === '') return DEFAULT_SQLITE_SYNC;
  const mode = SQLITE_SYNC_MODES.find((candidate) => candidate === raw);
  if (mode) return mode;
  throw new StartupError(`${SQLITE_SYNC_SETTING} must be "full" or "normal", got "${given}"`);
}
