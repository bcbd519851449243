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
  /** Set to the position of the last row read: what the settler must have committed. */
  replayed: { throughSeq: number } = { throughSeq: 0 },
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
        replayed.throughSeq = after;
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

/**
 * Waits up to `waitMs` for what settles budgets to have applied everything the rebuild
 * replayed (`behind` is how much it has not), polling each second; returns what is left.
 * A restore adds what the live store lacks, so usage the settler has yet to apply would be
 * added now and applied again by it: counted twice.
 */
export async function settledThroughReplay(
  behind: () => Promise<number> | number,
  waitMs: number,
  pollMs = 1_000,
): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left = await behind();
    if (left === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
