import type { UsageLog } from '@aigw/budget';
import { decodeEvent, Topic, type GatewayEvent } from '@aigw/contracts';
import type { SqliteEventLog } from '@aigw/embedded';

/** Events a rebuild's replay read but could not decode, so left out of the balances. */
export interface SkippedEvents {
  undecodable: number;
}

const READ_BATCH = 500;

/**
 * The embedded log's usage events and operators' adjustments, oldest first, in one
 * sequence (adjustments come back where they were written among the usage), counting
 * into `skipped` each stored event that does not decode: a rebuild without it would be
 * short of that usage and still report success.
 */
export function embeddedUsageLog(
  log: Pick<SqliteEventLog, 'read'>,
  skipped: SkippedEvents,
): UsageLog {
  return {
    replay: async (onBatch) => {
      let after = 0;
      for (;;) {
        const rows = log.read([Topic.UsageRecorded, Topic.BudgetAdjusted], after, READ_BATCH);
        if (rows.length === 0) return;
        const events: GatewayEvent[] = [];
        for (const row of rows) {
          const decoded = decodeEvent(row.topic, row.value);
          if (decoded.ok) events.push(decoded.value);
          else skipped.undecodable++;
        }
        if (events.length > 0) await onBatch(events);
        after = rows[rows.length - 1].seq;
      }
    },
  };
}

/** Exit codes of `npm run budget:rebuild`. */
export const REBUILD_EXIT = { match: 0, mismatch: 1, failed: 2, undecodable: 3 } as const;

/**
 * The exit code: a rebuild that skipped events cannot vouch for the balances, so it fails
 * (3, before any mismatch) unless the operator accepted the skipped events.
 */
export function rebuildExitCode(
  mismatches: number,
  undecodable: number,
  acceptUndecodable: boolean,
): number {
  if (undecodable > 0 && !acceptUndecodable) return REBUILD_EXIT.undecodable;
  return mismatches === 0 ? REBUILD_EXIT.match : REBUILD_EXIT.mismatch;
}
