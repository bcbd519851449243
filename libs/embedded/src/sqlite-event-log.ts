import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { EventTopic, SerializedEvent } from '@aigw/contracts';
import { EventLogRetention } from './event-log-retention';
import { EventRowInserter } from './event-row-inserter';
import { inTransaction } from './sqlite-transaction';
import { openDurableSqlite } from './durable-sqlite-store';
import { synchronousLevel, type SqliteSync } from './sqlite-wal-database';
import { WalCheckpointer } from './wal-checkpointer';
import {
  NO_WAIT_DURABLE_POINT,
  type DurablePoint,
  type WalDurablePointOptions,
} from './wal-durable-point';

/** One stored event, with its position in the log. */
export interface LoggedEvent {
  readonly seq: number;
  readonly topic: EventTopic;
  readonly value: string;
}

/**
 * The embedded stand-in for Kafka: an append-only, durable event log in SQLite with
 * per-group committed positions, so a restart replays what a consumer had not applied.
 * Appends are idempotent on the event id, as Kafka's idempotent producer is per message.
 */
export class SqliteEventLog {
  private readonly db: DatabaseSync;
  private readonly inserter: EventRowInserter;
  private readonly retention: EventLogRetention;
  private readonly committedStmt: StatementSync;
  private readonly commitStmt: StatementSync;
  private readonly checkpointer: WalCheckpointer | undefined;
  private readonly durablePoint: DurablePoint;
  private readonly selects = new Map<number, StatementSync>();
  private lastOfTopicStmt: StatementSync | undefined;

  /**
   * `sync` (default `full`): this log is the record, consumers are handed what it holds
   * and move their positions on past it, and an answer held for its record
   * (AI_GATEWAY_ANSWER_AFTER_RECORD) goes once it is appended, so `durable()` waits for an
   * fsync of what was appended (off the event loop). `normal`: it waits for nothing, and a
   * power loss may lose the last commits (not a process crash).
   */
  constructor(
    readonly path: string,
    options: { readonly sync?: SqliteSync } & WalDurablePointOptions = {},
  ) {
    ({ db: this.db, durablePoint: this.durablePoint } = openDurableSqlite(path, options));
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        topic TEXT NOT NULL,
        partition_key TEXT NOT NULL,
        value TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_topic_seq ON events (topic, seq);
      CREATE TABLE IF NOT EXISTS consumer_offsets (
        consumer_group TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
      );
    `);
    this.inserter = new EventRowInserter(this.db);
    this.retention = new EventLogRetention(this.db);
    this.committedStmt = this.db.prepare(
      'SELECT seq FROM consumer_offsets WHERE consumer_group = ?',
    );
    this.commitStmt = this.db.prepare(
      `INSERT INTO consumer_offsets (consumer_group, seq) VALUES (?, ?)
       ON CONFLICT (consumer_group) DO UPDATE SET seq = excluded.seq`,
    );
    this.checkpointer = WalCheckpointer.start(this.db, path);
  }

  /** Appends a batch in one transaction; an event id already present is skipped. */
  append(events: readonly SerializedEvent[]): number {
    return this.appendAll(events).filter((seq) => seq !== undefined).length;
  }

  /** Like `append`, returning each event's position (undefined for one already stored). */
  appendAll(events: readonly SerializedEvent[]): (number | undefined)[] {
    // IMMEDIATE: the write lock from the start, so no other handle writes in between.
    const seqs = inTransaction(this.db, () => this.inserter.insert(events), 'BEGIN IMMEDIATE');
    this.durablePoint.committed();
    return seqs;
  }

  /**
   * Resolves once every append so far is on the disk (see DurablePoint): the bus awaits it
   * before it hands appended events on or lets an answer held for its record go.
   */
  durable(): Promise<void> {
    return this.durablePoint.durable();
  }

  /** Whether `durable()` waits for an fsync (`full`, on a file), rather than for nothing. */
  get waitsForSync(): boolean {
    return this.durablePoint !== NO_WAIT_DURABLE_POINT;
  }

  /**
   * Deletes at most `limit` events past their topic's retention or compacted away, as
   * Kafka would (`EventLogRetention`); returns how many. Positions are never reused.
   */
  pruneExpired(now: number, limit: number): number {
    return this.retention.prune(now, limit);
  }

  /** Events after `afterSeq` on the given topics, oldest first. */
  read(topics: readonly EventTopic[], afterSeq: number, limit: number): LoggedEvent[] {
    return this.selectAfter(topics.length).all(
      afterSeq,
      ...topics,
      limit,
    ) as unknown as LoggedEvent[];
  }

  // Readers come back with the same few topic lists: one statement per list length.
  private selectAfter(topicCount: number): StatementSync {
    let statement = this.selects.get(topicCount);
    if (!statement) {
      const placeholders = Array.from({ length: topicCount }, () => '?').join(', ');
      statement = this.db.prepare(
        `SELECT seq, topic, value FROM events
         WHERE seq > ? AND topic IN (${placeholders}) ORDER BY seq LIMIT ?`,
      );
      this.selects.set(topicCount, statement);
    }
    return statement;
  }

  /**
   * The last `limit` events of `topic` at or before `throughSeq` that `group` did not
   * dead-letter, newest first: where the bus finds the quiet-topic rule's check after a
   * restart (see PoisonIsolation). A lettered event was never handled, so it shows nothing.
   * Its letter is a row of this log named after it (the bus's `deadLetter`), found by the
   * unique index on event ids.
   */
  lastOfTopic(topic: EventTopic, throughSeq: number, limit: number, group: string): LoggedEvent[] {
    this.lastOfTopicStmt ??= this.db.prepare(
      `SELECT e.seq, e.topic, e.value FROM events e
       WHERE e.topic = ?1 AND e.seq <= ?2 AND NOT EXISTS (
         SELECT 1 FROM events d
         WHERE d.event_id IN (e.event_id || ':dead-letter:' || ?3,
                              'seq-' || e.seq || ':dead-letter:' || ?3)
       )
       ORDER BY e.seq DESC LIMIT ?4`,
    );
    return this.lastOfTopicStmt.all(topic, throughSeq, group, limit) as unknown as LoggedEvent[];
  }

  committed(group: string): number {
    const row = this.committedStmt.get(group) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /**
   * A consumer group's position, never waited for: one lost to a power loss only replays
   * events (consumers are idempotent per event id), and the next sync carries it anyway,
   * the WAL being written in order. What must be durable first is what it moves past (the
   * consumer's own writes, awaited by its handler), not the position itself.
   */
  commit(group: string, seq: number): void {
    this.commitStmt.run(group, seq);
  }

  /** PRAGMA synchronous on the log's connection: 1 (NORMAL) whatever `sync` says. */
  synchronousLevel(): number {
    return synchronousLevel(this.db);
  }

  count(topic?: EventTopic): number {
    const row = (
      topic
        ? this.db.prepare('SELECT COUNT(*) AS n FROM events WHERE topic = ?').get(topic)
        : this.db.prepare('SELECT COUNT(*) AS n FROM events').get()
    ) as { n: number };
    return row.n;
  }

  close(): void {
    this.checkpointer?.stop();
    void this.durablePoint.close();
    this.db.close();
  }
}
