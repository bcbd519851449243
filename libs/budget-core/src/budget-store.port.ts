import { Topic, TOPIC_SETTINGS } from '@aigw/contracts';

/** One limit's share of a reservation or a settlement. */
export interface BalanceChange {
  /** The balance key (limit and window). */
  readonly key: string;
  readonly amount: number;
  readonly limit: number;
  /** When the window ends (ms since epoch): the key may be dropped some time after. */
  readonly windowEndsAt: number;
}

/** An operator's adjustment of one limit's balance in its current window. */
export interface BalanceAdjustment {
  readonly key: string;
  readonly limit: number;
  readonly windowEndsAt: number;
  /** Spend taken off, in the limit's unit, down to 0 at most; `reset` takes it all. */
  readonly credit: number | 'reset';
}

export interface Balance {
  readonly key: string;
  readonly used: number;
  readonly reserved: number;
  readonly limit: number;
}

export type ReserveResult =
  | { readonly ok: true; readonly balances: readonly Balance[] }
  /** `blocked` is the first limit that cannot take the amount. */
  | { readonly ok: false; readonly blocked: Balance };

/** What an adjustment did: whether it was applied this time, and the balances after. */
export interface AdjustResult {
  /** False when this event id was applied before: nothing changed. */
  readonly applied: boolean;
  readonly balances: readonly Balance[];
}

export interface SettleResult extends AdjustResult {
  /**
   * The settlement named a hold that had lapsed (past its time, or swept) before it was
   * settled: its call outlived it, or its usage event came late. Charged all the same.
   */
  readonly holdLapsed?: boolean;
  /**
   * Each balance's spend before this settlement, in the changes' order, as the store held
   * it (for a redelivery, its spend now: nothing was added). A threshold is crossed when
   * this is below it and `used` is not; `used - amount` in floating point may read spend
   * that sits exactly on a threshold as just under it (1.0006 - 0.0006 is
   * 0.9999999999999999), and cross it again.
   */
  readonly spentBefore: readonly number[];
}

/**
 * The authoritative balances. Every operation is atomic across all the keys it names:
 * a reservation either holds on every limit or on none.
 */
export interface BudgetStore {
  /**
   * Holds `amount` on every limit if each still has room (used + reserved + amount <=
   * limit). The hold lapses after `holdMs` if nobody settles or releases it. A store that
   * answers at once (the embedded one) gives a plain result, as from `settle`: a promise
   * and a tick less a request; callers await it or check for a promise.
   */
  reserve(
    reservationId: string,
    changes: readonly BalanceChange[],
    holdMs: number,
    now: number,
  ): ReserveResult | Promise<ReserveResult>;
  /**
   * Pushes the lapse of each hold still in force to `now + holdMs`, for calls still
   * running (a long stream, a Realtime session): a hold lapses so that an abandoned one
   * frees its room, not under a call that is still spending it. Never shortens a hold. A
   * hold already settled, released or lapsed is left alone (false at its index), so the
   * caller can stop refreshing it. Optional: a store without holds of its own needs none.
   */
  refresh?(
    reservationIds: readonly string[],
    holdMs: number,
    now: number,
  ): readonly boolean[] | Promise<readonly boolean[]>;
  /**
   * The balance keys a hold in force was placed on (none once it is settled, released or
   * swept after it lapsed). The settler asks it only when the config can no longer name a limit the call
   * was admitted under (its tier renamed or removed by a reload), so that its spend lands
   * where its hold was. Optional: without it such a call's tier limit goes uncharged.
   */
  heldKeys?(reservationId: string): readonly string[] | Promise<readonly string[]>;
  /** Drops a hold (the call failed or was abandoned). Unknown ids are ignored. */
  release(reservationId: string): Promise<void>;
  /**
   * Records real usage once per event, and drops the reservation it settles. Usage is
   * recorded even past a limit: it was spent. `occurredAt` is the event's own time (ms
   * since epoch): every delivery of one event carries it unchanged with its id.
   */
  settle(
    eventId: string,
    reservationId: string | undefined,
    changes: readonly BalanceChange[],
    occurredAt: number,
  ): SettleResult | Promise<SettleResult>;
  /**
   * Gives spend back once per event id (an operator's reset or credit): `used` goes down
   * by the credit, never below 0, or to 0 for a reset; holds in flight stay. A balance
   * nothing spent against stays absent. `occurredAt` is the event's own time, as in `settle`.
   */
  adjust(
    eventId: string,
    changes: readonly BalanceAdjustment[],
    occurredAt: number,
  ): Promise<AdjustResult>;
  balances(keys: readonly { key: string; limit: number }[], now: number): Promise<Balance[]>;
  /**
   * Makes every settlement so far durable. A store that writes each one at once needs
   * none; one that batches writes (the embedded store) does them here, and the settler
   * calls it before its batch of events is committed.
   */
  flush?(): Promise<void>;
  /**
   * Fails unless the store takes writes now, changing no balance and no marker. The settler
   * asks it after a batch that wrote nothing to the store (usage no limit watches): the
   * buses take a batch handled as proof that the store works before they dead-letter an
   * event that keeps failing, and one handled without the store proves nothing while Redis
   * refuses writes (maxmemory under noeviction, a read-only replica) or is away.
   */
  confirmWritable?(): Promise<void>;
}

export const BUDGET_STORE = Symbol('BUDGET_STORE');

/** Balance keys outlive their window a little, for inspection and late settlements. */
export const KEY_GRACE_MS = 3_600_000;

const DAY_MS = 86_400_000;

/**
 * The least time the Redis store remembers a settled event id. A consumer that crashed
 * or lost its partitions in a rebalance gets its uncommitted events again within
 * seconds or minutes; an hour covers that with room, and bounds the markers a full
 * replay of the topic leaves behind (events whose windows have ended need none, below).
 */
export const APPLIED_MARKER_FLOOR_MS = 3_600_000;

/**
 * When the Redis store may forget a settled (or adjusted) event id: once every balance
 * the event changed has expired (its window's end plus `KEY_GRACE_MS`), and not before
 * the floor. A redelivery after that finds nothing left to count twice: it would land in
 * keys that are gone and are dropped again at once (they expire in the past). So the
 * markers live as long as the longest window an event touched, not the topic's retention:
 * a month at most with `1mo` limits (half of one on average), a day with daily ones.
 */
export function appliedMarkerExpiresAt(
  changes: readonly { readonly windowEndsAt: number }[],
  now: number,
  /** The least time kept; a rebuild's replay, which nothing redelivers, needs none. */
  floorMs = APPLIED_MARKER_FLOOR_MS,
): number {
  let expiresAt = now + floorMs;
  for (const change of changes) {
    const keyEnd = change.windowEndsAt + KEY_GRACE_MS;
    if (keyEnd > expiresAt) expiresAt = keyEnd;
  }
  return expiresAt;
}

/**
 * How long the embedded store remembers a settled event id, so a redelivery is refused
 * (on disk, where the Redis store's memory limits do not apply). The budget
 * consumer reads the usage topic from the beginning when its group has no committed offset
 * (a new group, or offsets expired during a long outage), so every event the topic may
 * still hold must be recognised: its retention, plus the week a record can outlive that in
 * a segment not yet rolled (Kafka's default `segment.ms`).
 */
export const APPLIED_EVENT_MEMORY_MS = TOPIC_SETTINGS[Topic.UsageRecorded].retentionMs + 7 * DAY_MS;
