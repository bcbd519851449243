import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { WalCheckpointer } from './wal-checkpointer';

const ROWS = 200;
const ROW_BYTES = 1_000;

function openWal(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT)');
  return db;
}

function fill(db: DatabaseSync): void {
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.exec('BEGIN');
  for (let i = 0; i < ROWS; i++) insert.run('x'.repeat(ROW_BYTES));
  db.exec('COMMIT');
}

/** Pages reach the database file (not just its WAL) only through a checkpoint. */
async function untilCheckpointed(path: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (statSync(path).size < ROWS * ROW_BYTES) {
    if (Date.now() > deadline) assert.fail(`${path} was not checkpointed within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('WalCheckpointer', () => {
  it('checkpoints every database of the process from one worker, and restarts after all stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-wal-'));
    for (const round of [1, 2]) {
      const paths = ['a', 'b'].map((name) => join(dir, `${name}-${round}.db`));
      const dbs = paths.map(openWal);
      const checkpointers = dbs.map((db, i) => WalCheckpointer.start(db, paths[i]));
      dbs.forEach(fill);
      // the writer's own backstop (8,000 pages) is far away: only the worker can do this
      for (const path of paths) await untilCheckpointed(path);
      checkpointers.forEach((c) => c?.stop());
      dbs.forEach((db) => db.close());
    }
  });

  it('keeps checkpointing a database while another handle to it is open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-wal-'));
    const path = join(dir, 'shared.db');
    const first = openWal(path);
    const second = new DatabaseSync(path);
    const a = WalCheckpointer.start(first, path);
    const b = WalCheckpointer.start(second, path);
    a?.stop();
    fill(second);
    await untilCheckpointed(path);
    b?.stop();
    first.close();
    second.close();
  });

  it('has nothing to do for an in-memory database', () => {
    assert.equal(WalCheckpointer.start(new DatabaseSync(':memory:'), ':memory:'), undefined);
  });
});
