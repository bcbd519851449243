import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
