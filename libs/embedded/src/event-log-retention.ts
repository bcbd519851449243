import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ALL_TOPICS, TOPIC_SETTINGS, type Topic } from '@aigw/contracts';

/** How often the log notes its end position with the time, for retention by age. */
const MARK_EVERY_MS = 10 * 60_000;
const COMPACTED: readonly Topic[] = ALL_TOPICS.filter(
  (topic) => TOPIC_SETTINGS[topic].cleanupPolicy === 'compact',
);
const LONGEST_RETENTION_MS = Math.max(...ALL_TOPICS.map((t) => TOPIC_SETTINGS[t].retentionMs));

/**
 * Kafka's retention for the embedded log, per topic as `TOPIC_SETTINGS` gives it to the
 * brokers: a `delete` topic drops events older than its retention; a `compact` topic keeps
 * the newest event of each key. Rows carry no time, so the log notes (time, last position)
 * every ten minutes and an event counts as old once a note at least that old follows it
 * (it is deleted up to ten minutes late, never early). As on Kafka, a consumer that falls
 * further behind than a topic's retention loses what expired.
 */
export class EventLogRetention {
  private readonly lastMark: StatementSync;
  private readonly addMark: StatementSync;
  private readonly dropMarks: StatementSync;
  private readonly positionAt: StatementSync;
  private readonly deleteThrough: StatementSync;
  private readonly compactors: ReadonlyMap<Topic, StatementSync>;

  constructor(db: DatabaseSync) {
    const compacted = COMPACTED.map((topic) => `'${topic}'`).join(', ');
    db.exec(`
      CREATE TABLE IF NOT EXISTS log_marks (at_ms INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
      ${
        // Only compacted topics' rows: finding a newer event of the same key stays cheap.
        COMPACTED.length > 0
          ? `CREATE INDEX IF NOT EXISTS events_compacted_key
               ON events (topic, partition_key, seq) WHERE topic IN (${compacted});`
          : ''
      }
    `);
    this.lastMark = db.prepare('SELECT max(at_ms) AS at FROM log_marks');
    this.addMark = db.prepare(
      'INSERT OR IGNORE INTO log_marks SELECT ?, coalesce(max(seq), 0) FROM events',
    );
    this.dropMarks = db.prepare('DELETE FROM log_marks WHERE at_ms < ?');
    this.positionAt = db.prepare('SELECT max(seq) AS seq FROM log_marks WHERE at_ms <= ?');
    this.deleteThrough = db.prepare(
      `DELETE FROM events WHERE seq IN (
         SELECT seq FROM events WHERE topic = ? AND seq <= ? ORDER BY seq LIMIT ?)`,
    );
    this.compactors = new Map(
      COMPACTED.map((topic) => [
        topic,
        db.prepare(
          `DELETE FROM events WHERE seq IN (
             SELECT old.seq FROM events old WHERE old.topic = '${topic}' AND EXISTS (
               SELECT 1 FROM events newer WHERE newer.topic = '${topic}'
                 AND newer.partition_key = old.partition_key AND newer.seq > old.seq)
             ORDER BY old.seq LIMIT ?)`,
        ),
      ]),
    );
  }

  /** Deletes at most `limit` expired events (oldest first per topic); returns how many. */
  prune(now: number, limit: number): number {
    this.mark(now);
    let deleted = 0;
    for (const topic of ALL_TOPICS) {
      if (deleted >= limit) break;
      const compactor = this.compactors.get(topic);
      if (compactor) {
        deleted += Number(compactor.run(limit - deleted).changes);
        continue;
      }
      const { retentionMs } = TOPIC_SETTINGS[topic];
      if (retentionMs <= 0) continue;
      const through = this.positionAt.get(now - retentionMs) as { seq: number | null };
      if (through.seq === null) continue;
      deleted += Number(this.deleteThrough.run(topic, through.seq, limit - deleted).changes);
    }
    return deleted;
  }

  private mark(now: number): void {
    const { at } = this.lastMark.get() as { at: number | null };
    if (at !== null && now - at < MARK_EVERY_MS) return;
    this.addMark.run(now);
    // The newest note older than the longest retention still bounds it: keep one spare.
    this.dropMarks.run(now - LONGEST_RETENTION_MS - 2 * MARK_EVERY_MS);
  }
}
