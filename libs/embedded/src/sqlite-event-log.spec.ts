import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topic, type EventTopic, type SerializedEvent } from '@aigw/contracts';
import { SqliteEventLog } from './sqlite-event-log';

function withLogPath(run: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-event-log-'));
  try {
    run(join(dir, 'events.db'));
  } finally {
    // The WAL checkpoint worker closes its own connection in its own time: retried.
    rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
  }
}

describe('SqliteEventLog durability', () => {
  // The log is the record: positions move on past an append, and answers held for their
  // record go once it is appended, so `durable()` waits for an fsync of the WAL (off the
  // event loop) by default; commits themselves never fsync on the event loop (NORMAL, 1).
  it('commits at NORMAL (1) and waits for a WAL sync in durable() by default', () => {
    withLogPath((path) => {
      const log = new SqliteEventLog(path);
      assert.deepEqual([log.synchronousLevel(), log.waitsForSync], [1, true]);
      log.close();
    });
  });

  it('waits for no sync with normal, and for one with full', () => {
    withLogPath((path) => {
      const normal = new SqliteEventLog(path, { sync: 'normal' });
      assert.deepEqual([normal.synchronousLevel(), normal.waitsForSync], [1, false]);
      normal.close();
      const full = new SqliteEventLog(path, { sync: 'full' });
      assert.deepEqual([full.synchronousLevel(), full.waitsForSync], [1, true]);
      full.close();
    });
  });

  it('durable() resolves after a real fdatasync of the appends, and positions commit without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-event-log-'));
    try {
      const path = join(dir, 'events.db');
      let syncs = 0;
      const log = new SqliteEventLog(path, { onSync: () => syncs++ });
      log.append([{ topic: Topic.UsageRecorded, key: 'u', eventId: 'e1', json: '{}' }]);
      await log.durable();
      assert.equal(syncs, 1);
      log.commit('sink', 1); // replays at worst: needs no sync
      await log.durable();
      assert.equal(syncs, 1);
      log.close();
      const reopened = new SqliteEventLog(path);
      assert.deepEqual([reopened.count(), reopened.committed('sink')], [1, 1]);
      reopened.close();
    } finally {
      // The WAL checkpoint worker closes its own connection in its own time: retried.
      rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
    }
  });
});

describe('SqliteEventLog.lastOfTopic', () => {
  const usage = Topic.UsageRecorded;
  const deadLetter = Topic.DeadLetter as unknown as EventTopic;
  const row = (topic: EventTopic, eventId: string): SerializedEvent => ({
    topic,
    key: 'u',
    eventId,
    json: '{}',
  });

  // The quiet-topic rule's check after a restart must be an event the group handled: one it
  // dead-lettered (by id, or by position when it could not be read) never was.
  it("skips the group's lettered events, newest first, and keeps another group's", () => {
    withLogPath((path) => {
      const log = new SqliteEventLog(path);
      log.append([
        row(usage, 'good'), // 1
        row(usage, 'p1'), // 2
        row(deadLetter, 'p1:dead-letter:budget'), // 3
        row(usage, 'unreadable'), // 4
        row(deadLetter, 'seq-4:dead-letter:budget'), // 5
        row(usage, 'p2'), // 6
        row(deadLetter, 'p2:dead-letter:usage-sink'), // 7
      ]);
      const seqs = (group: string, through: number, limit = 20) =>
        log.lastOfTopic(usage, through, limit, group).map((r) => r.seq);
      assert.deepEqual(seqs('budget', 6), [6, 1]);
      assert.deepEqual(seqs('budget', 5), [1]);
      assert.deepEqual(seqs('budget', 6, 1), [6]);
      assert.deepEqual(seqs('usage-sink', 6), [4, 2, 1]);
      log.close();
    });
  });
});
