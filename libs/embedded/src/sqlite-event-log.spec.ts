import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topic } from '@aigw/contracts';
import { SqliteEventLog } from './sqlite-event-log';

function withLogPath(run: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-event-log-'));
  try {
    run(join(dir, 'events.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
