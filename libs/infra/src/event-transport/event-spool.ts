// The local disk spool of the Kafka publisher: events that Kafka has not acknowledged
// while it is unreachable, kept in publish order in SQLite until they are replayed.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { type EncodedEvent, type EventTopic } from '@aigw/contracts';
import { inTransaction, isUnreadableDatabase } from '@aigw/embedded';
import { UnreadableSpoolError } from './unreadable-spool-error';

export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;

/** One spooled event with its position; replay goes by ascending `seq`. */
export interface SpooledEvent extends EncodedEvent {
  readonly seq: number;
}

export interface SpoolAppendResult {
  /** How many of the events were stored (always a prefix of the input). */
  readonly accepted: number;
  /** Positions of the stored ones; absent when none was stored. */
  readonly firstSeq?: number;
  readonly lastSeq?: number;
  /** The events that did not fit (the newest ones), or all of them if the write failed. */
  readonly refused: readonly EncodedEvent[];
  /** Why events were refused. */
  readonly reason?: 'full' | 'write-failed';
  readonly error?: unknown;
}

export interface EventSpoolOptions {
  /** Upper bound on the stored payload bytes (key + value + headers). */
  readonly maxBytes?: number;
}

/** Stored size of one event, as the bound counts it. */
export function spooledBytes(event: EncodedEvent): number {
  return event.value.length + Buffer.byteLength(event.key) + Buffer.byteLength(headersJson(event));
}

function headersJson(event: EncodedEvent): string {
  return JSON.stringify(event.headers);
}

interface SpoolRow {
  seq: number;
  topic: string;
  msg_key: string;
  value: Uint8Array;
  headers: string;
}

/**
 * Append-only, bounded, ordered. Writes are fully synced (the spool only grows while Kafka
 * is away, so an fsync per batch costs nothing on the normal path) and survive a restart:
 * a new process replays what the old one left. One process owns a spool file at a time.
 */
export class EventSpool {
  readonly maxBytes: number;
  private readonly db: DatabaseSync;
  private readonly insertStmt: StatementSync;
  private readonly peekStmt: StatementSync;
  private readonly sizeThroughStmt: StatementSync;
  private readonly deleteThroughStmt: StatementSync;
  private readonly sizeRangeStmt: StatementSync;
  private readonly deleteRangeStmt: StatementSync;
  private readonly probeStmt: StatementSync;
  private storedBytes = 0;
  private storedCount = 0;
  /**
   * Rows at or below this position are acknowledged by Kafka: no longer counted or peeked,
   * even while deleting them fails (a full disk). Deleted at the next removal that can;
   * a restart before that replays them again (consumers absorb a redelivery).
   */
  private acknowledgedThrough = 0;
  private closed = false;

  constructor(
    readonly path: string,
    options: EventSpoolOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    try {
      // Held for the life of the process: a second process on the same file (two replicas
      // sharing a data directory) would replay the same rows and break the order.
      this.db.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;');
    } catch (error) {
      this.db.close();
      if (isUnreadableDatabase(error)) throw new UnreadableSpoolError(path, error);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `event spool ${path} is in use by another process (${reason}); ` +
          'give each process its own data directory',
      );
    }
    try {
      this.db.exec(`
        PRAGMA auto_vacuum = INCREMENTAL;
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = FULL;
        CREATE TABLE IF NOT EXISTS spool (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          topic TEXT NOT NULL,
          msg_key TEXT NOT NULL,
          value BLOB NOT NULL,
          headers TEXT NOT NULL,
          bytes INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS spool_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
      `);
      this.insertStmt = this.db.prepare(
        'INSERT INTO spool (topic, msg_key, value, headers, bytes) VALUES (?, ?, ?, ?, ?)',
      );
      this.peekStmt = this.db.prepare(
        'SELECT seq, topic, msg_key, value, headers FROM spool WHERE seq > ? ORDER BY seq LIMIT ?',
      );
      this.sizeThroughStmt = this.db.prepare(
        'SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM spool WHERE seq > ? AND seq <= ?',
      );
      this.deleteThroughStmt = this.db.prepare('DELETE FROM spool WHERE seq <= ?');
      this.sizeRangeStmt = this.db.prepare(
        'SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM spool WHERE seq BETWEEN ? AND ?',
      );
      this.deleteRangeStmt = this.db.prepare('DELETE FROM spool WHERE seq BETWEEN ? AND ?');
      this.probeStmt = this.db.prepare(
        'INSERT INTO spool_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
      );
      const totals = this.db
        .prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM spool')
        .get() as { n: number; b: number };
      this.storedCount = Number(totals.n);
      this.storedBytes = Number(totals.b);
    } catch (error) {
      // A file SQLite cannot read (torn, corrupted) is told apart: the opener sets it aside.
      this.db.close();
      throw isUnreadableDatabase(error) ? new UnreadableSpoolError(path, error) : error;
    }
  }

  get count(): number {
    return this.storedCount;
  }

  get bytes(): number {
    return this.storedBytes;
  }

  /**
   * Stores events in order, in one transaction. Once one does not fit under the bound,
   * it and every later one are refused: the oldest events keep their place, new ones are
   * turned away, and nothing already stored is ever evicted.
   */
  append(events: readonly EncodedEvent[]): SpoolAppendResult {
    if (events.length === 0) return { accepted: 0, refused: [] };
    if (this.closed) {
      return { accepted: 0, refused: events, reason: 'write-failed', error: 'spool closed' };
    }
    let bytes = this.storedBytes;
    let fits = 0;
    const sizes: number[] = [];
    for (const event of events) {
      const size = spooledBytes(event);
      if (bytes + size > this.maxBytes) break;
      bytes += size;
      sizes.push(size);
      fits++;
    }
    if (fits === 0) return { accepted: 0, refused: events, reason: 'full' };
    let firstSeq = 0;
    let lastSeq = 0;
    try {
      inTransaction(
        this.db,
        () => {
          for (let i = 0; i < fits; i++) {
            const event = events[i];
            const result = this.insertStmt.run(
              event.topic,
              event.key,
              event.value,
              headersJson(event),
              sizes[i],
            );
            lastSeq = Number(result.lastInsertRowid);
            if (i === 0) firstSeq = lastSeq;
          }
        },
        'BEGIN IMMEDIATE',
      );
    } catch (error) {
      return { accepted: 0, refused: events, reason: 'write-failed', error };
    }
    this.storedBytes = bytes;
    this.storedCount += fits;
    const refused = events.slice(fits);
    return {
      accepted: fits,
      firstSeq,
      lastSeq,
      refused,
      ...(refused.length > 0 ? { reason: 'full' as const } : {}),
    };
  }

  /**
   * Whether a write commits now: one small row, changed in place, so a full disk refuses it
   * as it would an event. Asked while appends fail, to learn without traffic when they would not.
   */
  writable(): boolean {
    if (this.closed) return false;
    try {
      inTransaction(this.db, () => this.probeStmt.run(Date.now()), 'BEGIN IMMEDIATE');
      return true;
    } catch {
      return false;
    }
  }

  /** The oldest `limit` events, in order. */
  peek(limit: number): SpooledEvent[] {
    const rows = this.peekStmt.all(this.acknowledgedThrough, limit) as unknown as SpoolRow[];
    const events: SpooledEvent[] = [];
    for (const row of rows) {
      events.push({
        seq: Number(row.seq),
        // Replayed as stored, even if this build no longer knows the topic.
        topic: row.topic as EventTopic,
        key: row.msg_key,
        value: Buffer.from(row.value),
        headers: JSON.parse(row.headers) as Record<string, string>,
      });
    }
    return events;
  }

  /**
   * Forgets every event up to and including `seq` (acknowledged by Kafka). Never fails for
   * the disk: a delete refused (a full disk) must not have the same rows replayed again
   * and again, nor keep the spool looking busy so that new events queue behind it.
   */
  removeThrough(seq: number): void {
    if (seq <= this.acknowledgedThrough) return;
    const size = this.sizeThroughStmt.get(this.acknowledgedThrough, seq) as {
      n: number;
      b: number;
    };
    this.acknowledgedThrough = seq;
    this.forget(Number(size.n), Number(size.b));
    try {
      this.deleteThroughStmt.run(seq);
    } catch {
      // Kept as acknowledged; the next removal deletes them with its own.
    }
  }

  /**
   * Forgets the events with `first <= seq <= last` (a batch acknowledged after the watchdog
   * spooled it). Never fails for the disk either: rows `removeThrough` already acknowledged
   * are not forgotten twice, and a range that cannot be deleted is held as acknowledged when
   * it is the oldest (as such a batch's is); otherwise it stays and is sent once more.
   */
  removeRange(first: number, last: number): void {
    const from = Math.max(first, this.acknowledgedThrough + 1);
    if (from > last) return;
    const size = this.sizeRangeStmt.get(from, last) as { n: number; b: number };
    try {
      this.deleteRangeStmt.run(from, last);
    } catch {
      const before = this.sizeThroughStmt.get(this.acknowledgedThrough, from - 1) as { n: number };
      if (Number(before.n) > 0) return; // not the oldest: replayed once, absorbed downstream
      this.acknowledgedThrough = last;
    }
    this.forget(Number(size.n), Number(size.b));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private forget(count: number, bytes: number): void {
    this.storedCount -= count;
    this.storedBytes -= bytes;
    // Give the pages back once drained, so an outage does not leave a large file behind.
    if (this.storedCount === 0) {
      try {
        this.db.exec('PRAGMA incremental_vacuum');
      } catch {
        // Only space: tried again the next time the spool drains.
      }
    }
  }
}
