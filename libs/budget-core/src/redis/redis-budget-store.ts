import type { Redis } from 'ioredis';
import {
  appliedMarkerExpiresAt,
  KEY_GRACE_MS,
  type AdjustResult,
  type Balance,
  type BalanceAdjustment,
  type BalanceChange,
  type BudgetStore,
  type ReserveResult,
  type SettleResult,
} from '../budget-store.port';
import type { HoldLapseListener } from '../domain/hold-kind';
import {
  ADJUST_LUA,
  BALANCES_LUA,
  holdRecordKey,
  REFRESH_LUA,
  RELEASE_LUA,
  RESERVE_LUA,
  SETTLE_LUA,
} from './budget-scripts';

type ScriptReply = (string | number)[];

interface BudgetCommands {
  aigwReserve(numKeys: number, ...args: (string | number)[]): Promise<ScriptReply>;
  aigwRefresh(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  aigwRelease(numKeys: number, ...args: (string | number)[]): Promise<number>;
  aigwSettle(numKeys: number, ...args: (string | number)[]): Promise<ScriptReply>;
  aigwBalances(numKeys: number, ...args: (string | number)[]): Promise<ScriptReply>;
  aigwAdjust(numKeys: number, ...args: (string | number)[]): Promise<ScriptReply>;
}

export interface RedisBudgetStoreOptions {
  /** Prefix of every key; lets several gateways (or a rebuild) share one Redis. */
  readonly namespace?: string;
  /**
   * The least time an event id is remembered as applied (`appliedMarkerExpiresAt`), which
   * otherwise lasts until every balance the event changed has expired: by default
   * `APPLIED_MARKER_FLOOR_MS`, for redeliveries after a crash or a rebalance. A rebuild's
   * scratch copy sets 0: a copy of an event in the log it replays needs refusing only while
   * the balance it would count in lasts, and a floor kept a marker for every event of a
   * long history in the live Redis.
   */
  readonly appliedMarkerFloorMs?: number;
  /** The clock of marker expiries (ms since epoch); the tests set it. */
  readonly now?: () => number;
  /** Told of the lapsed holds this process's scripts swept (each counted by one sweep). */
  readonly onLapse?: HoldLapseListener;
}

/** How long the key `confirmWritable` sets is kept: it only has to be taken. */
const WRITABLE_KEY_TTL_MS = 60_000;

// Numbers cross the script boundary as strings: Lua would truncate floats to integers.
const num = (value: string | number | undefined): number => Number(value ?? 0);
const amount = (value: number): string => String(Math.round(value * 1e6) / 1e6);

/** The authoritative balances in Redis, each change one atomic script (EVALSHA, cached). */
export class RedisBudgetStore implements BudgetStore {
  private readonly redis: Redis & BudgetCommands;
  private readonly namespace: string;
  private readonly appliedMarkerFloorMs: number | undefined;
  private readonly now: () => number;
  private readonly onLapse: HoldLapseListener | undefined;
  /** The hold records' prefix: a sweep names the record of each lapsed hold it finds. */
  private readonly holdPrefix: string;

  constructor(redis: Redis, options: RedisBudgetStoreOptions = {}) {
    redis.defineCommand('aigwReserve', { lua: RESERVE_LUA });
    redis.defineCommand('aigwRefresh', { lua: REFRESH_LUA });
    redis.defineCommand('aigwRelease', { lua: RELEASE_LUA });
    redis.defineCommand('aigwSettle', { lua: SETTLE_LUA });
    redis.defineCommand('aigwBalances', { lua: BALANCES_LUA });
    redis.defineCommand('aigwAdjust', { lua: ADJUST_LUA });
    this.redis = redis as Redis & BudgetCommands;
    this.namespace = options.namespace ?? 'aigw';
    this.appliedMarkerFloorMs = options.appliedMarkerFloorMs;
    this.now = options.now ?? Date.now;
    this.onLapse = options.onLapse;
    this.holdPrefix = this.holdKey('');
  }

  async reserve(
    reservationId: string,
    changes: readonly BalanceChange[],
    holdMs: number,
    now: number,
  ): Promise<ReserveResult> {
    if (changes.length === 0) return { ok: true, balances: [] };
    const args: (string | number)[] = [
      ...changes.map((c) => c.key),
      this.holdKey(reservationId),
      now,
      now + holdMs,
      reservationId,
      this.holdPrefix,
    ];
    for (const change of changes) {
      args.push(amount(change.amount), change.limit, change.windowEndsAt + KEY_GRACE_MS);
    }
    const reply = await this.redis.aigwReserve(changes.length + 1, ...args);
    // The lapses the sweep counted close the reply (two figures, past the balances).
    this.reportLapses(reply);
    if (num(reply[0]) === 0) {
      const blocked = changes[num(reply[1]) - 1];
      return {
        ok: false,
        blocked: {
          key: blocked.key,
          limit: blocked.limit,
          used: num(reply[2]),
          reserved: num(reply[3]),
        },
      };
    }
    return {
      ok: true,
      balances: changes.map((c, i) => ({
        key: c.key,
        limit: c.limit,
        used: num(reply[1 + 2 * i]),
        reserved: num(reply[2 + 2 * i]),
      })),
    };
  }

  async refresh(
    reservationIds: readonly string[],
    holdMs: number,
    now: number,
  ): Promise<readonly boolean[]> {
    if (reservationIds.length === 0) return [];
    const reply = await this.redis.aigwRefresh(
      reservationIds.length,
      ...reservationIds.map((id) => this.holdKey(id)),
      now,
      now + holdMs,
      ...reservationIds,
    );
    return reply.map((refreshed) => num(refreshed) === 1);
  }

  async heldKeys(reservationId: string): Promise<readonly string[]> {
    // The hold's record maps each balance key it holds on to the amount held there.
    return this.redis.hkeys(this.holdKey(reservationId));
  }

  async release(reservationId: string): Promise<void> {
    await this.redis.aigwRelease(1, this.holdKey(reservationId), reservationId);
  }

  async settle(
    eventId: string,
    reservationId: string | undefined,
    changes: readonly BalanceChange[],
    occurredAt: number,
  ): Promise<SettleResult> {
    const args: (string | number)[] = [
      `${this.namespace}:applied:${eventId}`,
      this.holdKey(reservationId ?? 'none'),
      ...changes.map((c) => c.key),
      reservationId ?? '',
      this.markerExpiresAt(changes),
      // Lapsed if past its time when the usage came, or when it is settled (a late event).
      Math.max(occurredAt, this.now()),
    ];
    for (const change of changes)
      args.push(amount(change.amount), change.windowEndsAt + KEY_GRACE_MS);
    const reply = await this.redis.aigwSettle(changes.length + 2, ...args);
    // After the balances: each one's spend before, then whether the hold had lapsed.
    const spentBefore = changes.map((_, i) => num(reply[1 + 2 * changes.length + i]));
    return {
      ...appliedBalances(reply, changes),
      holdLapsed: num(reply[reply.length - 1]) === 1,
      spentBefore,
    };
  }

  async adjust(
    eventId: string,
    changes: readonly BalanceAdjustment[],
    _occurredAt: number,
  ): Promise<AdjustResult> {
    const args: (string | number)[] = [
      `${this.namespace}:applied:${eventId}`,
      ...changes.map((c) => c.key),
      this.markerExpiresAt(changes),
    ];
    for (const change of changes) {
      const credit = change.credit === 'reset' ? 'reset' : amount(change.credit);
      args.push(credit, change.windowEndsAt + KEY_GRACE_MS);
    }
    const reply = await this.redis.aigwAdjust(changes.length + 1, ...args);
    return appliedBalances(reply, changes);
  }

  async balances(keys: readonly { key: string; limit: number }[], now: number): Promise<Balance[]> {
    if (keys.length === 0) return [];
    const reply = await this.redis.aigwBalances(
      keys.length,
      ...keys.map((k) => k.key),
      now,
      this.holdPrefix,
    );
    this.reportLapses(reply);
    return keys.map((k, i) => ({
      key: k.key,
      limit: k.limit,
      used: num(reply[2 * i]),
      reserved: num(reply[2 * i + 1]),
    }));
  }

  /**
   * One small key set (SET is refused as a settlement's marker is: OOM under noeviction,
   * READONLY on a replica, MISCONF when snapshots fail), expiring on its own.
   */
  async confirmWritable(): Promise<void> {
    await this.redis.set(`${this.namespace}:writable`, '1', 'PX', WRITABLE_KEY_TTL_MS);
  }

  /** When an event's applied marker may go (see `appliedMarkerExpiresAt`). */
  private markerExpiresAt(changes: readonly { readonly windowEndsAt: number }[]): number {
    const now = this.now();
    return appliedMarkerExpiresAt(changes, now, this.appliedMarkerFloorMs);
  }

  private reportLapses(reply: ScriptReply): void {
    const calls = num(reply[reply.length - 2]);
    const batches = num(reply[reply.length - 1]);
    if (calls > 0) this.onLapse?.('call', calls);
    if (batches > 0) this.onLapse?.('batch', batches);
  }

  private holdKey(reservationId: string): string {
    return holdRecordKey(this.namespace, reservationId);
  }
}

/**
 * A settle or adjust script's reply: whether the event was applied this time (not seen
 * before), then used and reserved of each key in the order the changes named them.
 */
function appliedBalances(
  reply: ScriptReply,
  changes: readonly { readonly key: string; readonly limit: number }[],
): AdjustResult {
  return {
    applied: num(reply[0]) === 1,
    balances: changes.map((c, i) => ({
      key: c.key,
      limit: c.limit,
      used: num(reply[1 + 2 * i]),
      reserved: num(reply[2 + 2 * i]),
    })),
  };
}
