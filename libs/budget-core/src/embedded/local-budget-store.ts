import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { WalCheckpointer } from '@aigw/embedded';
import {
  KEY_GRACE_MS,
  type Balance,
  type BalanceChange,
  type BudgetStore,
  type ReserveResult,
  type SettleResult,
} from '../budget-store.port';
import { AppliedEventLedger } from './applied-event-ledger';

/** One balance key: spent, and held by reservations in flight. */
interface KeyBalance {
  used: number;
  reserved: number;
}

interface Hold {
  readonly until: number;
  readonly changes: readonly BalanceChange[];
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
  private readonly dirty = new Map<string, number>(); // key -> expires_at
  private readonly db: DatabaseSync;
  private readonly applied: AppliedEventLedger;
  private readonly saveUsed: StatementSync;
  private readonly checkpointer: WalCheckpointer | undefined;

  constructor(path = ':memory:') {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      -- Durable across a process crash (WAL); an OS crash may lose the last commits,
      -- which the event log replays (settlement is idempotent per event).
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS balances (key TEXT PRIMARY KEY, used REAL NOT NULL, expires_at INTEGER NOT NULL);
    `);
    this.saveUsed = this.db.prepare(
      `INSERT INTO balances (key, used, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET used = excluded.used, expires_at = excluded.expires_at`,
    );
    const now = Date.now();
    this.applied = new AppliedEventLedger(this.db, now);
    this.db.prepare('DELETE FROM balances WHERE expires_at < ?').run(now);
    for (const row of this.db.prepare('SELECT key, used FROM balances').all() as {
      key: string;
      used: number;
    }[]) {
      this.keys.set(row.key, { used: row.used, reserved: 0 });
    }
    this.checkpointer = WalCheckpointer.start(this.db, path);
  }

  async reserve(
    reservationId: string,
    changes: readonly BalanceChange[],
    holdMs: number,
    now: number,
  ): Promise<ReserveResult> {
    this.dropLapsedHolds(now);
    const entries: KeyBalance[] = [];
    for (const change of changes) {
      const entry = this.entry(change.key);
      const { used, reserved } = entry;
      if (used + reserved + change.amount > change.limit) {
        return { ok: false, blocked: { key: change.key, limit: change.limit, used, reserved } };
      }
      entries.push(entry);
    }
    const balances: Balance[] = [];
    for (let index = 0; index < changes.length; index++) {
      const { key, limit, amount } = changes[index];
      const entry = entries[index];
      entry.reserved += amount;
      balances.push({ key, limit, used: entry.used, reserved: entry.reserved });
    }
    const until = now + holdMs;
    this.holds.set(reservationId, { until, changes });
    if (until < this.nextLapseAt) this.nextLapseAt = until;
    return { ok: true, balances };
  }

  async release(reservationId: string): Promise<void> {
    this.dropHold(reservationId);
  }

  async settle(
    eventId: string,
    reservationId: string | undefined,
    changes: readonly BalanceChange[],
    occurredAt: number,
  ): Promise<SettleResult> {
    if (this.applied.has(eventId, occurredAt)) {
      return { applied: false, balances: changes.map((c) => this.balance(c.key, c.limit)) };
    }
    if (reservationId) this.dropHold(reservationId);
    const balances: Balance[] = changes.map((change) => {
      const entry = this.entry(change.key);
      entry.used += change.amount;
      this.dirty.set(change.key, change.windowEndsAt + KEY_GRACE_MS);
      return { key: change.key, limit: change.limit, used: entry.used, reserved: entry.reserved };
    });
    this.applied.add(eventId, occurredAt);
    return { applied: true, balances };
  }

  async flush(): Promise<void> {
    if (this.dirty.size === 0 && !this.applied.hasPending) return;
    this.db.exec('BEGIN');
    try {
      for (const [key, expiresAt] of this.dirty)
        this.saveUsed.run(key, this.keys.get(key)?.used ?? 0, expiresAt);
      this.applied.writePending();
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    this.dirty.clear();
    this.applied.written(Date.now());
  }

  async balances(keys: readonly { key: string; limit: number }[], now: number): Promise<Balance[]> {
    this.dropLapsedHolds(now);
    return keys.map(({ key, limit }) => this.balance(key, limit));
  }

  close(): void {
    void this.flush();
    this.checkpointer?.stop();
    this.db.close();
  }

  private entry(key: string): KeyBalance {
    let entry = this.keys.get(key);
    if (!entry) {
      entry = { used: 0, reserved: 0 };
      this.keys.set(key, entry);
    }
    return entry;
  }

  private balance(key: string, limit: number): Balance {
    const entry = this.keys.get(key);
    return { key, limit, used: entry?.used ?? 0, reserved: entry?.reserved ?? 0 };
  }

  private dropHold(reservationId: string): void {
    const hold = this.holds.get(reservationId);
    if (!hold) return;
    this.holds.delete(reservationId);
    for (const change of hold.changes) {
      const entry = this.keys.get(change.key);
      if (!entry) continue;
      const left = entry.reserved - change.amount;
      entry.reserved = left > 1e-9 ? left : 0;
    }
  }

  private dropLapsedHolds(now: number): void {
    if (now < this.nextLapseAt) return;
    // A scan, but only once the earliest hold has lapsed: holds differ in length.
    let next = Infinity;
    for (const [id, hold] of this.holds) {
      if (hold.until <= now) this.dropHold(id);
      else if (hold.until < next) next = hold.until;
    }
    this.nextLapseAt = next;
  }
}
