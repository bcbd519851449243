import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { SerializedEvent } from '@aigw/contracts';
import { MultiRowInsert, ROWS_PER_STATEMENT } from './multi-row-insert';

/**
 * Inserts events into the log's `events` table, several rows per statement, and tells
 * which position each got. Must run inside a write transaction (BEGIN IMMEDIATE): with
 * no other writer, the rows above the log's end were all written by this inserter.
 */
export class EventRowInserter {
  private readonly rows: MultiRowInsert;
  private readonly lastSeq: StatementSync;
  private readonly idsBetween: StatementSync;

  constructor(db: DatabaseSync) {
    this.rows = new MultiRowInsert(db, 'events', ['event_id', 'topic', 'partition_key', 'value']);
    this.lastSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM events');
    this.idsBetween = db.prepare(
      'SELECT seq, event_id FROM events WHERE seq > ? AND seq <= ? ORDER BY seq',
    );
  }

  /** Each event's new position, or undefined where its id was already stored. */
  insert(events: readonly SerializedEvent[]): (number | undefined)[] {
    const seqs = new Array<number | undefined>(events.length).fill(undefined);
    let end = Number((this.lastSeq.get() as { seq: number | bigint }).seq);
    for (let start = 0; start < events.length; start += ROWS_PER_STATEMENT) {
      const chunk = events.slice(start, start + ROWS_PER_STATEMENT);
      const args: string[] = [];
      for (const event of chunk) args.push(event.eventId, event.topic, event.key, event.json);
      const result = this.rows.run(chunk.length, args);
      const inserted = Number(result.changes);
      if (inserted === 0) continue;
      const last = Number(result.lastInsertRowid);
      if (inserted === chunk.length && last - end === inserted) {
        // Every row went in, at end + 1 ... last in VALUES order.
        for (let i = 0; i < chunk.length; i++) seqs[start + i] = end + 1 + i;
      } else {
        // Some ids were already stored (a retried batch), or positions were skipped:
        // read back which of them this statement wrote.
        this.mapWritten(chunk, start, end, last, seqs);
      }
      end = last;
    }
    return seqs;
  }

  private mapWritten(
    chunk: readonly SerializedEvent[],
    offset: number,
    end: number,
    last: number,
    seqs: (number | undefined)[],
  ): void {
    const written = new Map<string, number>();
    for (const row of this.idsBetween.all(end, last) as { seq: number; event_id: string }[]) {
      written.set(row.event_id, Number(row.seq));
    }
    chunk.forEach((event, index) => {
      const seq = written.get(event.eventId);
      if (seq === undefined) return;
      seqs[offset + index] = seq;
      written.delete(event.eventId); // a second copy in the same chunk was the ignored one
    });
  }
}
