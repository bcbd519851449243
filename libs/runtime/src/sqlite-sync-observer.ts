import type { WalSyncOutcome } from '@aigw/embedded';
import type { Logger, MetricsRegistry } from '@aigw/observability';

export type SqliteStoreName = 'event_log' | 'analytics' | 'budget';

/**
 * Told of each WAL sync of a SQLite store (AI_GATEWAY_SQLITE_SYNC=full): timed on
 * ai_gateway_sqlite_sync_seconds{store,outcome}, and a failure logged, since what waited on
 * it (a consumer position, a Kafka offset, a held answer) stays put until a sync succeeds.
 */
export function sqliteSyncObserver(
  metrics: MetricsRegistry,
  logger: Pick<Logger, 'error'>,
  store: SqliteStoreName,
): (outcome: WalSyncOutcome) => void {
  return ({ seconds, error }) => {
    metrics.observeSqliteSync(store, error === undefined ? 'synced' : 'failed', seconds);
    if (error !== undefined) {
      logger.error('SQLite WAL sync failed; positions and held answers wait for the next one', {
        store,
        error,
      });
    }
  };
}
