import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWalDatabase } from './sqlite-wal-database';
import {
  durablePointFor,
  NO_WAIT_DURABLE_POINT,
  WalDurablePoint,
  WalFile,
  type WalSyncOutcome,
} from './wal-durable-point';
import { HeldSyncs } from './testing/held-syncs';

const settled = async (promise: Promise<unknown>): Promise<string> => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

function pointWith(syncs: HeldSyncs, outcomes: WalSyncOutcome[] = []): WalDurablePoint {
  return new WalDurablePoint('/nowhere/store.db', {
    syncWal: syncs.sync,
    onSync: (outcome) => outcomes.push(outcome),
  });
}

describe('WalDurablePoint', () => {
  it('resolves a commit only once the sync begun after it resolves', async () => {
    const syncs = new HeldSyncs();
    const point = pointWith(syncs);
    const waiting = point.afterCommit();
    assert.equal(syncs.started, 1);
    assert.equal(await settled(waiting), 'pending');
    syncs.resolveNext();
    assert.equal(await settled(waiting), 'resolved');
  });

  it('commits noted before a sync begins share it', async () => {
    const syncs = new HeldSyncs();
    const point = pointWith(syncs);
    point.committed();
    point.committed();
    point.committed();
    const waits = [point.durable(), point.durable(), point.durable()];
    assert.equal(syncs.started, 1);
    syncs.resolveNext();
    await Promise.all(waits);
    assert.equal(syncs.started, 1);
  });

  it('a commit made while a sync runs waits for one begun after it, shared by the later ones', async () => {
    const syncs = new HeldSyncs();
    const point = pointWith(syncs);
    const first = point.afterCommit();
    const second = point.afterCommit(); // its frames may be after the first sync began
    const third = point.afterCommit();
    assert.equal(syncs.started, 1, 'the second sync waits for the first to end');
    syncs.resolveNext();
    assert.equal(await settled(first), 'resolved');
    assert.equal(await settled(second), 'pending');
    assert.equal(syncs.started, 2);
    syncs.resolveNext();
    assert.deepEqual(
      [await settled(second), await settled(third), syncs.started],
      ['resolved', 'resolved', 2],
    );
  });

  it('a waiter with nothing new joins the sync under way, and needs none once it is done', async () => {
    const syncs = new HeldSyncs();
    const point = pointWith(syncs);
    const committed = point.afterCommit();
    const joined = point.durable();
    syncs.resolveNext();
    await Promise.all([committed, joined]);
    await point.durable();
    assert.equal(syncs.started, 1);
  });

  it('a failed sync rejects its waiters, is reported, and the next wait syncs again', async () => {
    const syncs = new HeldSyncs();
    const outcomes: WalSyncOutcome[] = [];
    const point = pointWith(syncs, outcomes);
    point.committed();
    point.committed();
    const waits = [point.durable(), point.durable()];
    syncs.rejectNext(new Error('EIO: i/o error, fdatasync'));
    for (const wait of waits) await assert.rejects(wait, /EIO/);
    assert.equal(outcomes.length, 1);
    assert.match(String(outcomes[0].error), /EIO/);
    // Nothing committed since: the commits before the failure are still not on the disk.
    const retried = point.durable();
    assert.equal(syncs.started, 2);
    syncs.resolveNext();
    await retried;
    assert.equal(outcomes.length, 2);
    assert.equal(outcomes[1].error, undefined);
    assert.ok(outcomes[1].seconds >= 0);
  });

  it('its first wait syncs what an earlier process may have left unsynced', async () => {
    const syncs = new HeldSyncs();
    const point = pointWith(syncs);
    const first = point.durable();
    assert.equal(syncs.started, 1);
    syncs.resolveNext();
    await first;
  });

  it('waits for nothing with AI_GATEWAY_SQLITE_SYNC=normal or in memory', () => {
    assert.equal(durablePointFor('/data/x.db', 'normal'), NO_WAIT_DURABLE_POINT);
    assert.equal(durablePointFor(':memory:', 'full'), NO_WAIT_DURABLE_POINT);
    assert.ok(durablePointFor('/data/x.db', 'full') instanceof WalDurablePoint);
  });
});

describe('WalDurablePoint on a database file', () => {
  const withDir = async (run: (dir: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-durable-'));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('fdatasyncs the -wal file, timing each sync', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'store.db');
      const db = openWalDatabase(path, 'full');
      db.exec('CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1)');
      const outcomes: WalSyncOutcome[] = [];
      const point = new WalDurablePoint(path, { onSync: (outcome) => outcomes.push(outcome) });
      await point.afterCommit();
      assert.equal(outcomes.length, 1);
      assert.equal(outcomes[0].error, undefined);
      await point.close();
      db.close();
    });
  });

  it('follows the -wal file to a new inode (deleted at the last close, made at the next open)', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'store.db');
      const file = new WalFile(`${path}-wal`);
      const first = openWalDatabase(path, 'full');
      first.exec('CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1)');
      await file.datasync();
      assert.equal(file.inode, statSync(`${path}-wal`).ino);
      const before = file.inode;
      first.close(); // the last connection: checkpointed, the -wal file deleted
      // The old inode lives on while the handle holds it, so the new file cannot reuse it.
      const second = openWalDatabase(path, 'full');
      second.exec('INSERT INTO t VALUES (2)');
      const now = statSync(`${path}-wal`).ino;
      assert.notEqual(now, before);
      await file.datasync();
      assert.equal(file.inode, now, 'the handle follows the file its name now names');
      await file.close();
      second.close();
    });
  });

  it('fails (and the position waits) when the -wal file is not there', async () => {
    await withDir(async (dir) => {
      const point = new WalDurablePoint(join(dir, 'never-opened.db'));
      await assert.rejects(point.afterCommit(), /ENOENT/);
    });
  });
});
