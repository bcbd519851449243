// With AI_GATEWAY_SQLITE_SYNC=full the analytics store commits unfsynced (synchronous
// NORMAL) and `write` resolves only after an fdatasync of its WAL, taken after the commit:
// the sink's position (the embedded log's, or Kafka's offset once `handle` resolves)
// never moves past rows a power loss could take back.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedEventBus, HeldSyncs, SqliteEventLog } from '@aigw/embedded';
import { numberedUsageEvent } from '@aigw/testing';
import { UsageSinkConsumer } from '../usage-sink.consumer';
import { SqliteUsageStore } from './sqlite-usage.store';

const dataDir = () => mkdtempSync(join(tmpdir(), 'aigw-analytics-sync-'));
const nextTurns = async (turns = 3) => {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
};

test('write resolves only once the WAL sync begun after its commit resolves', async () => {
  const syncs = new HeldSyncs();
  const store = new SqliteUsageStore(join(dataDir(), 'a.db'), { syncWal: syncs.sync });
  let written = false;
  const writing = store.write([numberedUsageEvent('u1', 1)]).then(() => (written = true));
  await nextTurns();
  assert.equal(syncs.started, 1);
  assert.equal(written, false);
  syncs.resolveNext();
  await writing;
  assert.equal(written, true);
  store.close();
});

test('a failed sync fails the write (so nothing is committed past it), and the next write syncs again', async () => {
  const syncs = new HeldSyncs();
  const store = new SqliteUsageStore(join(dataDir(), 'a.db'), { syncWal: syncs.sync });
  const writing = store.write([numberedUsageEvent('u1', 1)]);
  syncs.rejectNext(new Error('EIO: i/o error, fdatasync'));
  await assert.rejects(writing, /EIO/);
  const again = store.write([numberedUsageEvent('u1', 1)]); // the redelivery
  await nextTurns();
  assert.equal(syncs.started, 2);
  syncs.resolveNext();
  await again;
  store.close();
});

test("the sink's position in the embedded log waits for the analytics store's sync, and stays put when it fails", async () => {
  const dir = dataDir();
  const log = new SqliteEventLog(join(dir, 'events.db'));
  const syncs = new HeldSyncs();
  syncs.passing = true; // the start's first sync
  const store = new SqliteUsageStore(join(dir, 'analytics.db'), { syncWal: syncs.sync });
  const errors: unknown[] = [];
  const bus = new EmbeddedEventBus(log, {
    flushIntervalMs: 60_000,
    maxBatch: 100,
    onError: (error) => errors.push(error),
    retryMinMs: 60_000,
  });
  const sink = new UsageSinkConsumer(store, { maxItems: 100, maxWaitMs: 0 });
  await bus.subscribe(sink);
  syncs.passing = false;

  bus.publish(numberedUsageEvent('u1', 1));
  const flushing = bus.flush();
  // The log's own (real) fdatasync comes first: on a busy disk, some milliseconds.
  const deadline = Date.now() + 10_000;
  while (syncs.waiting === 0 && Date.now() < deadline) await sleep(5);
  assert.equal(syncs.waiting, 1, "the analytics store's sync runs");
  assert.equal(log.committed(sink.group), 0, 'no position before the sync');
  syncs.rejectNext(new Error('EIO: i/o error, fdatasync'));
  await flushing;
  assert.equal(log.committed(sink.group), 0, 'none after it failed');
  assert.match(String(errors[0]), /EIO/, 'the failure reaches the consumer error log');

  syncs.passing = true;
  await bus.close(); // tries the failed subscriber once more
  assert.equal(log.committed(sink.group), 1, 'committed once synced');
  store.close();
  log.close();
});
