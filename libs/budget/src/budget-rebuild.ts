import type { GatewayConfig } from '@aigw/config';
import type {
  AdjustResult,
  Balance,
  BalanceAdjustment,
  BalanceChange,
  BudgetStore,
  ReserveResult,
  SettleResult,
} from '@aigw/budget-core';
import { DISCARDING_PUBLISHER, type BudgetAdjusted, type GatewayEvent } from '@aigw/contracts';
import { MetricsRegistry } from '@aigw/observability';
import { BudgetSettler } from './budget-settler';

/**
 * Every usage event from the beginning of the log, oldest first, in batches, with the
 * operators' budget adjustments among them where they were made.
 */
export interface UsageLog {
  replay(onBatch: (events: readonly GatewayEvent[]) => Promise<void>): Promise<void>;
}

/**
 * A usage log whose adjustments come from elsewhere (Kafka: a topic of their own, read
 * first, they are few): each user's adjustment goes in just before the first of their
 * usage that occurred after it, as the live settler most likely met it; the rest at the end.
 */
export function withAdjustments(
  usage: UsageLog,
  adjustments: () => Promise<readonly BudgetAdjusted[]>,
): UsageLog {
  return {
    replay: async (onBatch) => {
      const pending = new Map<string, BudgetAdjusted[]>();
      const oldestFirst = [...(await adjustments())].sort(
        (a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt),
      );
      for (const adjustment of oldestFirst) {
        const queue = pending.get(adjustment.partitionKey);
        if (queue) queue.push(adjustment);
        else pending.set(adjustment.partitionKey, [adjustment]);
      }
      await usage.replay(async (batch) => {
        const merged: GatewayEvent[] = [];
        for (const event of batch) {
          const at = Date.parse(event.occurredAt);
          const queues: BudgetAdjusted[][] = [];
          for (const key of adjustmentKeysOf(event)) {
            const queue = pending.get(key);
            if (queue?.length) queues.push(queue);
          }
          // Oldest first across the queues: a reset of the id and a credit of its key, say.
          for (;;) {
            const due = queues.filter((q) => q.length && Date.parse(q[0].occurredAt) <= at);
            if (due.length === 0) break;
            const next = due.reduce((a, b) =>
              Date.parse(b[0].occurredAt) < Date.parse(a[0].occurredAt) ? b : a,
            );
            merged.push(next.shift()!);
          }
          merged.push(event);
        }
        await onBatch(merged);
      });
      const rest = [...pending.values()].flat();
      if (rest.length > 0) await onBatch(rest);
    },
  };
}

/**
 * The partition keys of the adjustments that may apply to `event`: its own (the user id,
 * or its budget key where users are identified more than one way, which an adjustment
 * naming that key has), and the plain user id an adjustment of every identification has.
 */
function adjustmentKeysOf(event: GatewayEvent): readonly string[] {
  if (event.type !== 'usage.recorded' || event.userId === event.partitionKey) {
    return [event.partitionKey];
  }
  return [event.partitionKey, event.userId];
}

export interface BalanceMismatch {
  readonly key: string;
  readonly rebuilt: number;
  readonly live: number;
  readonly limit: number;
  /** When the balance's window ends (ms since epoch). */
  readonly windowEndsAt: number;
}

export interface RebuildReport {
  /** Usage events replayed. */
  readonly events: number;
  /** Operators' budget adjustments replayed among them. */
  readonly adjustments: number;
  readonly keys: number;
  readonly mismatches: readonly BalanceMismatch[];
}

/**
 * Remembers every balance key a settlement touched, and its limit; writes them to the
 * target under `prefix`, so a rebuild into the live Redis never touches live balances.
 */
class KeyRecordingStore implements BudgetStore {
  readonly keys = new Map<string, { limit: number; windowEndsAt: number }>();

  constructor(
    private readonly inner: BudgetStore,
    private readonly prefix: string,
  ) {}

  reserve(
    id: string,
    changes: readonly BalanceChange[],
    holdMs: number,
    now: number,
  ): ReserveResult | Promise<ReserveResult> {
    return this.inner.reserve(id, changes, holdMs, now);
  }

  release(id: string): Promise<void> {
    return this.inner.release(id);
  }

  settle(
    eventId: string,
    _reservationId: string | undefined,
    changes: readonly BalanceChange[],
    now: number,
  ): SettleResult | Promise<SettleResult> {
    for (const change of changes) this.record(change);
    // A rebuild has no holds to release: the reservation ids belong to the live store.
    return this.inner.settle(
      eventId,
      undefined,
      changes.map((change) => ({ ...change, key: this.prefix + change.key })),
      now,
    );
  }

  adjust(
    eventId: string,
    changes: readonly BalanceAdjustment[],
    occurredAt: number,
  ): Promise<AdjustResult> {
    for (const change of changes) this.record(change);
    return this.inner.adjust(
      eventId,
      changes.map((change) => ({ ...change, key: this.prefix + change.key })),
      occurredAt,
    );
  }

  balances(keys: readonly { key: string; limit: number }[], now: number): Promise<Balance[]> {
    return this.inner.balances(
      keys.map((k) => ({ ...k, key: this.prefix + k.key })),
      now,
    );
  }

  flush(): Promise<void> {
    return this.inner.flush?.() ?? Promise.resolve();
  }

  private record({
    key,
    limit,
    windowEndsAt,
  }: {
    key: string;
    limit: number;
    windowEndsAt: number;
  }) {
    this.keys.set(key, { limit, windowEndsAt });
  }
}

// Floating-point sums in a different order may differ in the last digits.
const TOLERANCE = 1e-6;

/**
 * Rebuilds every balance from the usage log into `target` (an empty store: a fresh
 * Redis namespace, say) with the same settlement code the budget service runs, then
 * compares each rebuilt balance with the live one. Announcements are not repeated.
 */
export async function rebuildBalances(
  config: () => GatewayConfig,
  log: UsageLog,
  target: BudgetStore,
  live: BudgetStore,
  /** Prefix of the rebuilt balance keys in `target` (needed when it shares a Redis). */
  targetPrefix = '',
): Promise<RebuildReport> {
  const recording = new KeyRecordingStore(target, targetPrefix);
  const settler = new BudgetSettler(
    config,
    recording,
    DISCARDING_PUBLISHER,
    new MetricsRegistry({ collectDefaultMetrics: false }),
  );
  let events = 0;
  let adjustments = 0;
  await log.replay(async (batch) => {
    for (const event of batch) {
      if (event.type === 'budget.adjusted') adjustments++;
      else events++;
    }
    await settler.handle(batch);
  });
  const keys = [...recording.keys].map(([key, { limit }]) => ({ key, limit }));
  const now = Date.now();
  const [rebuilt, current] = await Promise.all([
    // Through the recording store: it reads the rebuilt keys under their prefix.
    recording.balances(keys, now),
    live.balances(keys, now),
  ]);
  const mismatches: BalanceMismatch[] = [];
  rebuilt.forEach((balance, index) => {
    const liveUsed = current[index].used;
    if (Math.abs(balance.used - liveUsed) > TOLERANCE) {
      const { limit, windowEndsAt } = recording.keys.get(keys[index].key)!;
      mismatches.push({
        key: keys[index].key,
        rebuilt: balance.used,
        live: liveUsed,
        limit,
        windowEndsAt,
      });
    }
  });
  return { events, adjustments, keys: keys.length, mismatches };
}

/** A live balance a restore raised to what the log says was spent. */
export interface RestoredBalance {
  readonly key: string;
  /** Spend added, in the limit's unit. */
  readonly added: number;
}

/** What a restore did: the balances it raised, and those found no longer short. */
export interface RestoreOutcome {
  readonly restored: readonly RestoredBalance[];
  /**
   * Keys of mismatches whose live spend had reached the rebuilt one by the time of the
   * restore (the budget service settled the usage the rebuild read): nothing added.
   */
  readonly caughtUp: readonly string[];
}

/**
 * Gives the live store back the spend it lost (Redis restarted without its data, a failover
 * that dropped writes): each balance of a window still open whose live spend is below the
 * rebuilt one gets the difference added, as one settlement with an id of its own (applied
 * once, however often the call is retried). The live spend is read again here, not taken
 * from the comparison: the budget service may have settled the usage the rebuild read since
 * (a restore waits for it to catch up), and adding that again would count it twice. Added,
 * not set: usage the live service settles meanwhile stays counted. A live balance above the
 * rebuilt one is never lowered (it may hold usage the log no longer does); ended windows
 * are left alone.
 */
export async function restoreShortfalls(
  live: BudgetStore,
  mismatches: readonly BalanceMismatch[],
  runId: string,
  now = Date.now(),
): Promise<RestoreOutcome> {
  const open = mismatches.filter((m) => m.rebuilt - m.live > TOLERANCE && m.windowEndsAt > now);
  const current = await live.balances(
    open.map(({ key, limit }) => ({ key, limit })),
    now,
  );
  const restored: RestoredBalance[] = [];
  const caughtUp: string[] = [];
  for (const [index, { key, rebuilt, limit, windowEndsAt }] of open.entries()) {
    const added = rebuilt - current[index].used;
    if (added <= TOLERANCE) {
      caughtUp.push(key);
      continue;
    }
    await live.settle(
      `budget-restore:${runId}:${key}`,
      undefined,
      [{ key, amount: added, limit, windowEndsAt }],
      now,
    );
    restored.push({ key, added });
  }
  await live.flush?.();
  return { restored, caughtUp };
}
