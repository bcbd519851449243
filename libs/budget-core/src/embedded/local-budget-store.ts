import type { DatabaseSync, StatementSync } from 'node:sqlite';
import {
  inTransaction,
  NO_WAIT_DURABLE_POINT,
  openDurableSqlite,
  synchronousLevel,
  WalCheckpointer,
  type DurablePoint,
  type SqliteSync,
  type WalDurablePointOptions,
} from '@aigw/embedded';
import {
  KEY_GRACE_MS,
  type AdjustResult,
  type Balance,
  type BalanceAdjustment,
  type BalanceChange,
  type BudgetStore,
  type ReserveResult,
  type SettleResult,
} from '../budget-store.port';
import { holdKind, type HoldLapseListener } from '../domain/hold-kind';
import { AppliedEventLedger } from './applied-event-ledger';
import { ExpiryBuckets } from './expiry-buckets';

/** How often a flush looks for balance keys whose window (and grace) has ended. */
export const SWEEP_EVERY_MS = 60_000;

/** One balance key: spent, held by reservations in flight, and when it may be dropped. */
interface KeyBalance {
  readonly key: string;
  used: number;
  reserved: number;
  /** The end of the key's window plus `KEY_GRACE_MS` (ms since epoch). */
  expiresAt: number;
}

/**
 * A reservation in flight: each balance it holds on (a held key is never dropped, see
 * endedKeys, so a release needs no look-up of each key again) and the amount held there.
 * Not the caller's changes: a hold outlives a young-generation GC or two (until its usage
 * is settled), and six change objects a request copied with it were a part of GC's cost.
 */
interface Hold {
  /** When it lapses; a refresh pushes it on while its call runs. */
  until: number;
  readonly entries: readonly KeyBalance[];
  readonly amounts: readonly number[];
}

/**
 * The all-in-one gateway's balances: in memory, with used amounts and applied event
 * ids written through to SQLite so a restart loses none. Holds live in memory only; a
 * restart drops them, which is what their expiry would do anyway.
 */
export class LocalBudgetStore implements BudgetStore {
  private readonly keys = new Map<string, KeyBalance>();
  private readonly holds = new Map<string, Hold>();
  /** No hold lapses before this: until then a call need not look for lapsed holds. */
  private nextLapseAt = Infinity;
  // Settlements apply in memory at once and reach SQLite in one transaction per flush.
  private readonly dirty = new Set<string>();
  /** Every key in `keys`, by expiry: a sweep drops the ended ones, in memory and SQLite. */
  private readonly expiries = new ExpiryBuckets();
  private nextSweepAt = 0;
  private readonly db: DatabaseSync;
  private readonly applied: AppliedEventLedger;
  private readonly saveUsed: StatementSync;
  private readonly deleteKey: StatementSync;
  private readonly checkpointer: WalCheckpointer | undefined;
  private readonly durablePoint: DurablePoint;

  /** `clock` is the time of flushes (and their sweeps); the tests set it. */
  constructor(
    path = ':memory:',
    private readonly clock: () => number = Date.now,
    /** Told of each hold that lapses (a restart drops holds uncounted). */
    private readonly onLapse?: HoldLapseListener,
    /**
     * `sync` (default `full`): the settler's consumer commits its position (Kafka's
     * offset, or the embedded log's) once `flush` returns, and nothing replays a batch
     * after that, so a flush must outlast a power loss: it resolves after an fsync of the
     * WAL (off the event loop). `normal` waits for none and may lose the last flushes to
     * one (spend that then never counts against its limits).
     */
    options: { readonly sync?: SqliteSync } & WalDurablePointOptions = {},
  ) {
    ({ db: this.db, durablePoint: this.durablePoint } = openDurableSqlite(path, options));
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS balances (key TEXT PRIMARY KEY, used REAL NOT NULL, expires_at INTEGER NOT NULL);
    `);
    this.saveUsed = this.db.prepare(
      `INSERT INTO balances (key, used, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET used = excluded.used, expires_at = excluded.expires_at`,
    );
    this.deleteKey = this.db.prepare('DELETE FROM balances WHERE key = ?');
    const now = this.clock();
    this.applied = new AppliedEventLedger(this.db, now);
    this.db.prepare('DELETE FROM balances WHERE expires_at < ?').run(now);
    for (const row of this.db.prepare('SELECT key, used, expires_at FROM balances').all() as {
      key: string;
      used: number;
      expires_at: number;
    }[]) {
      this.keys.set(row.key, {
        key: row.key,
        used: row.used,
        reserved: 0,
        expiresAt: row.expires_at,
      });
      this.expiries.add(row.key, row.expires_at);
    }
    this.checkpointer = WalCheckpointer.start(this.db, path);
  }

  // Not async (nor settle): a plain result spares the caller a promise and a tick.
  reserve(
    reservationId: string,
    changes: readonly BalanceChange[],
    holdMs: number,
    now: number,
  ): ReserveResult {
    this.dropLapsedHolds(now);
    const entries: KeyBalance[] = [];
    for (const change of changes) {
      const entry = this.entry(change.key, change.windowEndsAt);
      const { used, reserved } = entry;
      if (used + reserved + change.amount > change.limit) {
        return { ok: false, blocked: { key: change.key, limit: change.limit, used, reserved } };
      }
      entries.push(entry);
    }
    const balances: Balance[] = [];
    const amounts: number[] = [];
    for (let index = 0; index < changes.length; index++) {
      const { key, limit, amount } = changes[index];
      const entry = entries[index];
      entry.reserved += amount;
      amounts.push(amount);
      balances.push({ key, limit, used: entry.used, reserved: entry.reserved });
    }
    const until = now + holdMs;
    this.holds.set(reservationId, { until, entries, amounts });
    if (until < this.nextLapseAt) this.nextLapseAt = until;
    return { ok: true, balances };
  }

  refresh(reservationIds: readonly string[], holdMs: number, now: number): boolean[] {
    // Lapsed ones go first, so one past its time is not brought back.
    this.dropLapsedHolds(now);
    const until = now + holdMs;
    return reservationIds.map((id) => {
      const hold = this.holds.get(id);
      if (!hold) return false;
      // nextLapseAt stays: at worst an early look finds nothing lapsed and moves it on.
      if (until > hold.until) hold.until = until;
      return true;
    });
  }

  heldKeys(reservationId: string): string[] {
    return this.holds.get(reservationId)?.entries.map((entry) => entry.key) ?? [];
  }

  async release(reservationId: string): Promise<void> {
    this.dropHold(reservationId);
  }

  settle(
    eventId: string,
    reservationId: string | undefined,
    changes: readonly BalanceChange[],
    occurredAt: number,
  ): SettleResult {
    if (this.applied.has(eventId, occurredAt)) {
      const balances = changes.map((c) => this.balance(c.key, c.limit));
      const spentBefore = balances.map((balance) => balance.used);
      return { applied: false, balances, holdLapsed: false, spentBefore };
    }
    let holdLapsed = false;
    if (reservationId) {
      // Lapsed if past its time when the usage came, or when it is settled (a late event);
      // gone already (swept, or dropped by a restart), it lapsed too.
      const hold = this.holds.get(reservationId);
      holdLapsed = !hold || hold.until <= Math.max(occurredAt, this.clock());
      this.dropHold(reservationId);
    }
    const spentBefore: number[] = [];
    const balances: Balance[] = changes.map((change) => {
      const entry = this.entry(change.key, change.windowEndsAt);
      spentBefore.push(entry.used);
      entry.used += change.amount;
      this.dirty.add(change.key);
      return { key: change.key, limit: change.limit, used: entry.used, reserved: entry.reserved };
    });
    this.applied.add(eventId, occurredAt);
    return { applied: true, balances, holdLapsed, spentBefore };
  }

  async adjust(
    eventId: string,
    changes: readonly BalanceAdjustment[],
    occurredAt: number,
  ): Promise<AdjustResult> {
    if (this.applied.hasAdjustment(eventId, occurredAt)) {
      return { applied: false, balances: changes.map((c) => this.balance(c.key, c.limit)) };
    }
    const balances: Balance[] = changes.map((change) => {
      const entry = this.keys.get(change.key);
      if (entry) {
        entry.used = spentAfter(entry.used, change.credit);
        this.dirty.add(change.key);
      }
      return this.balance(change.key, change.limit);
    });
    this.applied.addAdjustment(eventId, occurredAt);
    return { applied: true, balances };
  }

  async flush(): Promise<void> {
    // Nothing new, yet an earlier flush's sync may have failed (its batch comes again, is
    // found applied, and must not be committed past unsynced): that waits here.
    if (!this.commitChanges()) return this.durablePoint.durable();
    await this.durablePoint.afterCommit();
  }

  /** Writes what changed since the last flush in one transaction; false when nothing had. */
  private commitChanges(): boolean {
    const now = this.clock();
    const ended = now >= this.nextSweepAt ? this.endedKeys(now) : [];
    if (this.dirty.size === 0 && !this.applied.hasPending && ended.length === 0) return false;
    try {
      inTransaction(this.db, () => {
        for (const key of this.dirty) {
          const entry = this.keys.get(key);
          if (entry) this.saveUsed.run(key, entry.used, entry.expiresAt);
        }
        this.applied.writePending();
        for (const key of ended) this.deleteKey.run(key);
      });
    } catch (error) {
      // Their rows may still be there: the next sweep tries again.
      for (const key of ended) this.expiries.add(key, this.keys.get(key)?.expiresAt ?? 0);
      throw error;
    }
    for (const key of ended) this.keys.delete(key);
    this.dirty.clear();
    this.applied.written(now);
    return true;
  }

  /** Whether `flush` waits for an fsync (`full`, on a file), rather than for nothing. */
  get waitsForSync(): boolean {
    return this.durablePoint !== NO_WAIT_DURABLE_POINT;
  }

  /** PRAGMA synchronous on the store's connection: 1 (NORMAL) whatever `sync` says. */
  synchronousLevel(): number {
    return synchronousLevel(this.db);
  }

  /** Balance keys held in memory. */
  get size(): number {
    return this.keys.size;
  }

  async balances(keys: readonly { key: string; limit: number }[], now: number): Promise<Balance[]> {
    this.dropLapsedHolds(now);
    return keys.map(({ key, limit }) => this.balance(key, limit));
  }

  close(): void {
    // Committed, not synced: closing the last connection checkpoints the WAL into the
    // database and syncs it. A sync of the WAL started here would find it gone and fail,
    // an error logged at every stop.
    try {
      this.commitChanges();
    } catch {
      // Nothing it held was committed past: the events come again at the next start.
    }
    this.checkpointer?.stop();
    void this.durablePoint.close();
    this.db.close();
  }

  private entry(key: string, windowEndsAt: number): KeyBalance {
    const expiresAt = windowEndsAt + KEY_GRACE_MS;
    let entry = this.keys.get(key);
    if (!entry) {
      entry = { key, used: 0, reserved: 0, expiresAt };
      this.keys.set(key, entry);
      this.expiries.add(key, expiresAt);
    } else if (expiresAt > entry.expiresAt) {
      entry.expiresAt = expiresAt; // moved to its new bucket by the next sweep
    }
    return entry;
  }

  /**
   * The keys whose window and grace ended before `now`, to drop. A key something still
   * holds is kept (and looked at again by the next sweep); so is one that outlives `now`.
   */
  private endedKeys(now: number): string[] {
    this.nextSweepAt = now + SWEEP_EVERY_MS;
    const due = this.expiries.takeDue(now);
    if (due.length === 0) return due;
    // Holds are the requests in flight: few, and looked at once per sweep at most.
    const held = new Set<string>();
    for (const hold of this.holds.values()) for (const entry of hold.entries) held.add(entry.key);
    const ended: string[] = [];
    for (const key of due) {
      const entry = this.keys.get(key);
      if (!entry) continue;
      if (entry.expiresAt >= now || held.has(key)) this.expiries.add(key, entry.expiresAt);
      else ended.push(key);
    }
    return ended;
  }

  private balance(key: string, limit: number): Balance {
    const entry = this.keys.get(key);
    return { key, limit, used: entry?.used ?? 0, reserved: entry?.reserved ?? 0 };
  }

  private dropHold(reservationId: string): void {
    const hold = this.holds.get(reservationId);
    if (!hold) return;
    this.holds.delete(reservationId);
    const { entries, amounts } = hold;
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index];
      const left = entry.reserved - amounts[index];
      entry.reserved = left > 1e-9 ? left : 0;
    }
  }

  private dropLapsedHolds(now: number): void {
    if (now < this.nextLapseAt) return;
    // A scan, but only once the earliest hold has lapsed: holds differ in length.
    let next = Infinity;
    for (const [id, hold] of this.holds) {
      if (hold.until <= now) {
        this.dropHold(id);
        this.onLapse?.(holdKind(id), 1);
      } else if (hold.until < next) next = hold.until;
    }
    this.nextLapseAt = next;
  }
}

/** Spend left after a credit (none after a reset); a float residue counts as none. */
function spentAfter(used: number, credit: number | 'reset'): number {
  if (credit === 'reset') return 0;
  const left = used - credit;
  return left > 1e-9 ? left : 0;
}
