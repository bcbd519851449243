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

/** How long applied event ids are kept to refuse a redelivery (well past any retry). */
const APPLIED_MEMORY_MS = 7 * 86_400_000;
const RECENT_APPLIED = 100_000;

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
  private readonly used = new Map<string, number>();
  private readonly reserved = new Map<string, number>();
  private readonly holds = new Map<string, Hold>();
  // Settlements apply in memory at once and reach SQLite in one transaction per flush.
  private readonly dirty = new Map<string, number>(); // key -> expires_at
  private readonly appliedPending: string[] = [];
  private readonly appliedRecently = new Set<string>();
  private readonly db: DatabaseSync;
  private readonly saveUsed: StatementSync;
  private readonly markApplied: StatementSync;
  private readonly isApplied: StatementSync;
  private readonly checkpointer: WalCheckpointer | undefined;
  private lastSettledAt = 0;

  constructor(path = ':memory:') {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      -- Durable across a process crash (WAL); an OS crash may lose the last commits,
      -- which the event log replays (settlement is idempotent per event id).
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS balances (key TEXT PRIMARY KEY, used REAL NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS applied_events (event_id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
    `);
    this.saveUsed = this.db.prepare(
      `INSERT INTO balances (key, used, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET used = excluded.used, expires_at = excluded.expires_at`,
    );
    this.markApplied = this.db.prepare(
      'INSERT OR IGNORE INTO applied_events (event_id, applied_at) VALUES (?, ?)',
    );
    this.isApplied = this.db.prepare('SELECT 1 AS found FROM applied_events WHERE event_id = ?');
    const now = Date.now();
    this.db.prepare('DELETE FROM balances WHERE expires_at < ?').run(now);
    // An event older than this is never delivered again: its id need not be remembered.
    this.db.prepare('DELETE FROM applied_events WHERE applied_at < ?').run(now - APPLIED_MEMORY_MS);
    for (const row of this.db.prepare('SELECT key, used FROM balances').all() as {
      key: string;
      used: number;
    }[]) {
      this.used.set(row.key, row.used);
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
    const balances = changes.map((change) => this.balance(change.key, change.limit));
    for (const [index, change] of changes.entries()) {
      const balance = balances[index];
      if (balance.used + balance.reserved + change.amount > change.limit) {
        return { ok: false, blocked: balance };
      }
    }
    for (const change of changes) {
      this.reserved.set(change.key, (this.reserved.get(change.key) ?? 0) + change.amount);
    }
    this.holds.set(reservationId, { until: now + holdMs, changes });
    return { ok: true, balances: changes.map((c) => this.balance(c.key, c.limit)) };
  }

  async release(reservationId: string): Promise<void> {
    this.dropHold(reservationId);
  }

  async settle(
    eventId: string,
    reservationId: string | undefined,
    changes: readonly BalanceChange[],
    now: number,
  ): Promise<SettleResult> {
    if (this.appliedRecently.has(eventId) || this.isApplied.get(eventId)) {
      return { applied: false, balances: changes.map((c) => this.balance(c.key, c.limit)) };
    }
    if (reservationId) this.dropHold(reservationId);
    for (const change of changes) {
      this.used.set(change.key, (this.used.get(change.key) ?? 0) + change.amount);
      this.dirty.set(change.key, change.windowEndsAt + KEY_GRACE_MS);
    }
    this.appliedRecently.add(eventId);
    this.appliedPending.push(eventId);
    this.lastSettledAt = now;
    return { applied: true, balances: changes.map((c) => this.balance(c.key, c.limit)) };
  }

  async flush(): Promise<void> {
    if (this.dirty.size === 0 && this.appliedPending.length === 0) return;
    this.db.exec('BEGIN');
    try {
      for (const [key, expiresAt] of this.dirty)
        this.saveUsed.run(key, this.used.get(key) ?? 0, expiresAt);
      for (const eventId of this.appliedPending) this.markApplied.run(eventId, this.lastSettledAt);
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    this.dirty.clear();
    this.appliedPending.length = 0;
    // Ids of this batch stay answerable from memory; older ones from SQLite.
    if (this.appliedRecently.size > RECENT_APPLIED) this.appliedRecently.clear();
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

  private balance(key: string, limit: number): Balance {
    return { key, limit, used: this.used.get(key) ?? 0, reserved: this.reserved.get(key) ?? 0 };
  }

  private dropHold(reservationId: string): void {
    const hold = this.holds.get(reservationId);
    if (!hold) return;
    this.holds.delete(reservationId);
    for (const change of hold.changes) {
      const left = (this.reserved.get(change.key) ?? 0) - change.amount;
      if (left > 1e-9) this.reserved.set(change.key, left);
      else this.reserved.delete(change.key);
    }
  }

  private dropLapsedHolds(now: number): void {
    // A scan: in-flight requests of one process are few, and holds differ in length.
    for (const [id, hold] of this.holds) {
      if (hold.until <= now) this.dropHold(id);
    }
  }
}
