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
  // record go once it returns, so an append must be fsynced (FULL) before that.
  it('fsyncs each commit (PRAGMA synchronous FULL, 2) by default', () => {
    withLogPath((path) => {
      const log = new SqliteEventLog(path);
      assert.equal(log.synchronousLevel(), 2);
      log.close();
    });
  });

  it('commits at checkpoints only (NORMAL, 1) when asked, and FULL when asked', () => {
    withLogPath((path) => {
      const normal = new SqliteEventLog(path, { sync: 'normal' });
      assert.equal(normal.synchronousLevel(), 1);
      normal.close();
      const full = new SqliteEventLog(path, { sync: 'full' });
      assert.equal(full.synchronousLevel(), 2);
      full.close();
    });
  });

  it('keeps FULL for appends after committing a position (written at NORMAL), and keeps it', () => {
    withLogPath((path) => {
      const log = new SqliteEventLog(path);
      log.append([{ topic: Topic.UsageRecorded, key: 'u', eventId: 'e1', json: '{}' }]);
      log.commit('sink', 1);
      assert.equal(log.synchronousLevel(), 2);
      assert.equal(log.committed('sink'), 1);
      log.close();
      const reopened = new SqliteEventLog(path);
      assert.equal(reopened.committed('sink'), 1);
      reopened.close();
    });
  });

  it('restores FULL when a position fails to commit', () => {
    withLogPath((path) => {
      const log = new SqliteEventLog(path);
      assert.throws(() => log.commit('sink', Number.NaN));
      assert.equal(log.synchronousLevel(), 2);
      log.close();
    });
  });

  it('leaves NORMAL as it is around a commit', () => {
    withLogPath((path) => {
      const log = new SqliteEventLog(path, { sync: 'normal' });
      log.commit('sink', 3);
      assert.deepEqual([log.synchronousLevel(), log.committed('sink')], [1, 3]);
      log.close();
    });
  });
});
