import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { openWalDatabase, synchronousLevel, type SqliteSync } from './sqlite-wal-database';

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-wal-db-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const journalMode = (db: DatabaseSync) =>
  (db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;

describe('openWalDatabase', () => {
  // The all-in-one gateway keeps several stores (events.db, budget.db, the analytics):
  // SQLite's bare 'file is not a database' left the operator to guess which one.
  it('refuses a file that is not a database naming it, and leaves it as it is', () => {
    withDir((dir) => {
      const path = join(dir, 'events.db');
      writeFileSync(path, 'not a database '.repeat(400));
      assert.throws(
        () => openWalDatabase(path),
        (error: Error) => {
          assert.match(error.message, new RegExp(`^SQLite store ${path} cannot be read`));
          assert.match(error.message, /file is not a database/);
          return true;
        },
      );
      assert.equal(readFileSync(path, 'utf8'), 'not a database '.repeat(400));
    });
  });

  // The checkpoint worker closing a handle of this process (a bus closed, then opened again)
  // holds the file under an exclusive lock for a moment: an open then failed the start with
  // 'database is locked' (seen in CI: embedded-event-bus-quiet-topic's restart case).
  it('waits for a lock another connection holds for a moment, rather than failing the open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-wal-db-'));
    try {
      const path = join(dir, 'events.db');
      openWalDatabase(path).close();
      const holder = new Worker(
        `const { DatabaseSync } = require('node:sqlite');
         const { parentPort, workerData } = require('node:worker_threads');
         const db = new DatabaseSync(workerData);
         db.exec('PRAGMA locking_mode = EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (x); INSERT INTO held VALUES (1);');
         parentPort.postMessage('locked');
         setTimeout(() => db.close(), 300);`,
        { eval: true, workerData: path, execArgv: [] },
      );
      await new Promise((resolve) => holder.once('message', resolve));
      const db = openWalDatabase(path);
      assert.equal(journalMode(db), 'wal');
      db.close();
      await new Promise((resolve) => holder.once('exit', resolve));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens in WAL mode at synchronous NORMAL (1), creating the directory', () => {
    withDir((dir) => {
      const db = openWalDatabase(join(dir, 'nested', 'store.db'));
      assert.equal(journalMode(db), 'wal');
      assert.equal(synchronousLevel(db), 1);
      db.close();
    });
  });

  // `full`'s fsync is the store's DurablePoint's, off the event loop: never the commit's.
  it('commits at NORMAL (1) with either mode', () => {
    withDir((dir) => {
      const normal = openWalDatabase(join(dir, 'normal.db'), 'normal');
      const full = openWalDatabase(join(dir, 'full.db'), 'full');
      assert.deepEqual([synchronousLevel(normal), synchronousLevel(full)], [1, 1]);
      normal.close();
      full.close();
    });
  });

  it('refuses a mode it does not know rather than writing it into a pragma', () => {
    assert.throws(
      () => openWalDatabase(':memory:', 'off; DROP TABLE x' as SqliteSync),
      /unknown SQLite sync mode "off; DROP TABLE x"/,
    );
  });
});
