import type { DatabaseSync } from 'node:sqlite';
import { DEFAULT_SQLITE_SYNC, openWalDatabase, type SqliteSync } from './sqlite-wal-database';
import {
  durablePointFor,
  type DurablePoint,
  type WalDurablePointOptions,
} from './wal-durable-point';

/** How a store under the data directory is opened: its sync mode and its sync's options. */
export type DurableSqliteOptions = { readonly sync?: SqliteSync } & WalDurablePointOptions;

/**
 * Opens a store's WAL database and the durable point its commits wait on, for the same
 * `sync` (the event log, the budget balances and the analytics store open theirs alike).
 */
export function openDurableSqlite(
  path: string,
  options: DurableSqliteOptions = {},
): { readonly db: DatabaseSync; readonly durablePoint: DurablePoint } {
  const sync = options.sync ?? DEFAULT_SQLITE_SYNC;
  const db = openWalDatabase(path, sync);
  return { db, durablePoint: durablePointFor(path, sync, options) };
}
