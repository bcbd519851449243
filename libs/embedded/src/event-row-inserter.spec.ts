import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Topic, type SerializedEvent } from '@aigw/contracts';
import { SqliteEventLog } from './sqlite-event-log';

let counter = 0;
function event(): SerializedEvent {
  const id = `00000000-0000-7000-8000-${String(++counter).padStart(12, '0')}`;
  return { topic: Topic.UsageRecorded, key: 'alice', eventId: id, json: `{"eventId":"${id}"}` };
}

function storedSeqs(path: string, events: readonly SerializedEvent[]): (number | undefined)[] {
  const db = new DatabaseSync(path, { readOnly: true });
  const get = db.prepare('SELECT seq FROM events WHERE event_id = ?');
  const seqs = events.map((e) => (get.get(e.eventId) as { seq: number } | undefined)?.seq);
  db.close();
  return seqs;
}

const tempLog = (): string => join(mkdtempSync(join(tmpdir(), 'aigw-rows-')), 'events.db');

describe('appending many rows per statement', () => {
  it('returns the stored position of every event, in order, across statements', () => {
    const path = tempLog();
    const log = new SqliteEventLog(path);
    const events = Array.from({ length: 41 }, event);
    const seqs = log.appendAll(events);
    assert.deepEqual(
      seqs,
      Array.from({ length: 41 }, (_, i) => i + 1),
    );
    assert.deepEqual(seqs, storedSeqs(path, events));
    log.close();
  });

  it('skips ids already stored or repeated in the batch, and places the rest right', () => {
    const path = tempLog();
    const log = new SqliteEventLog(path);
    const old = Array.from({ length: 5 }, event);
    log.appendAll(old);
    const fresh = Array.from({ length: 30 }, event);
    const batch = [...fresh.slice(0, 10), old[2], fresh[3], ...fresh.slice(10), old[4]];
    const seqs = log.appendAll(batch);

    const expected = storedSeqs(path, batch);
    expected[10] = undefined; // old[2]: stored before
    expected[11] = undefined; // fresh[3] again: its first copy holds the position
    expected[expected.length - 1] = undefined; // old[4]
    assert.deepEqual(seqs, expected);
    const placed = seqs.filter((seq) => seq !== undefined);
    assert.equal(placed.length, 30);
    // Increasing in batch order; an ignored row may leave a position unused.
    placed.forEach((seq, i) => assert.ok(i === 0 || seq > placed[i - 1], `${seq} at ${i}`));
    assert.ok(placed[0] > 5);
    assert.equal(log.count(), 35);
    log.close();
  });

  it('reads positions back when the log skipped some (rows deleted at its end)', () => {
    const path = tempLog();
    const first = new SqliteEventLog(path);
    first.appendAll(Array.from({ length: 20 }, event));
    first.close();
    const raw = new DatabaseSync(path);
    raw.exec('DELETE FROM events WHERE seq > 15');
    raw.close();

    const log = new SqliteEventLog(path);
    const events = Array.from({ length: 20 }, event);
    const seqs = log.appendAll(events);
    assert.deepEqual(seqs, storedSeqs(path, events));
    assert.equal(seqs[0], 21, 'AUTOINCREMENT never reuses a position');
    log.close();
  });
});
