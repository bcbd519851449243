// With AI_GATEWAY_SQLITE_SYNC=full the log commits unfsynced (synchronous NORMAL) and the
// bus waits for its WAL's fdatasync, off the event loop, before it hands appended events on
// (so before any position moves past them) and before an answer held for its record goes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topic, type GatewayEvent, type TokenUsageRecorded } from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import { EmbeddedEventBus, EventLogNotDurableError } from './embedded-event-bus';
import { SqliteEventLog } from './sqlite-event-log';
import { HeldSyncs } from './testing/held-syncs';
import type { WalSyncOutcome } from './wal-durable-point';

const nextTurns = async (turns = 3) => {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
};
const userOf = (event: GatewayEvent): string => (event as TokenUsageRecorded).userId;

/** A bus on a log file whose syncs wait for the test; subscribed with syncs passing. */
async function busOnHeldLog() {
  const syncs = new HeldSyncs();
  const outcomes: WalSyncOutcome[] = [];
  const path = join(mkdtempSync(join(tmpdir(), 'aigw-bus-sync-')), 'events.db');
  const log = new SqliteEventLog(path, {
    syncWal: syncs.sync,
    onSync: (outcome) => outcomes.push(outcome),
  });
  const bus = new EmbeddedEventBus(log, {
    flushIntervalMs: 60_000,
    maxBatch: 100,
    answersAwaitRecord: true,
    onError: (error) => assert.fail(String(error)),
  });
  const seen: string[] = [];
  syncs.passing = true;
  await bus.subscribe({
    group: 'sink',
    topics: [Topic.UsageRecorded],
    handle: async (events) => void seen.push(...events.map(userOf)),
  });
  syncs.passing = false;
  return { syncs, outcomes, log, bus, seen };
}

describe('EmbeddedEventBus with the log synced off the event loop', () => {
  it('hands appended events on, and moves the position, only once the sync after the append resolves', async () => {
    const { syncs, log, bus, seen } = await busOnHeldLog();
    const before = syncs.started;
    bus.publish(numberedUsageEvent('u1', 1));
    const flushing = bus.flush();
    await nextTurns();
    assert.equal(log.count(), 1, 'appended');
    assert.equal(syncs.started, before + 1, 'one sync, begun after the append');
    assert.deepEqual(seen, [], 'not handed on while the sync runs');
    assert.equal(log.committed('sink'), 0);
    syncs.resolveNext();
    await flushing;
    assert.deepEqual(seen, ['u1']);
    assert.equal(log.committed('sink'), 1);
    syncs.passing = true;
    await bus.close();
    log.close();
  });

  it('a failed sync hands nothing on and moves no position; the next flush syncs again and delivers', async () => {
    const { syncs, outcomes, log, bus, seen } = await busOnHeldLog();
    bus.publish(numberedUsageEvent('u1', 1));
    const flushing = bus.flush();
    await nextTurns();
    syncs.rejectNext(new Error('EIO: i/o error, fdatasync'));
    await flushing;
    assert.deepEqual(seen, []);
    assert.equal(log.committed('sink'), 0);
    assert.match(String(outcomes.at(-1)?.error), /EIO/, 'reported (the metric and the log)');
    syncs.passing = true;
    await bus.flush();
    assert.deepEqual(seen, ['u1']);
    assert.equal(log.committed('sink'), 1);
    await bus.close();
    log.close();
  });

  it('an answer held for its record waits for the sync, and its waiters share one', async () => {
    const { syncs, log, bus } = await busOnHeldLog();
    const before = syncs.started;
    bus.publish(numberedUsageEvent('u1', 1));
    bus.publish(numberedUsageEvent('u2', 1));
    let answered = 0;
    const waits = [bus.durable(), bus.durable()].map((wait) => wait.then(() => answered++));
    await nextTurns();
    assert.equal(log.count(), 2, 'appended');
    assert.equal(answered, 0, 'not on the disk yet');
    assert.equal(syncs.started, before + 1);
    // Published after the sync began: its waiter waits for a sync of its own.
    bus.publish(numberedUsageEvent('u3', 1));
    const later = bus.durable();
    syncs.resolveNext();
    await Promise.all(waits);
    assert.equal(answered, 2);
    await nextTurns();
    assert.equal(syncs.started, before + 2);
    syncs.resolveNext();
    await later;
    syncs.passing = true;
    await bus.close();
    log.close();
  });

  it('an answer held for its record is told when the sync fails', async () => {
    const { syncs, log, bus } = await busOnHeldLog();
    bus.publish(numberedUsageEvent('u1', 1));
    const wait = bus.durable();
    await nextTurns();
    syncs.rejectNext(new Error('EIO: i/o error, fdatasync'));
    await assert.rejects(wait, (error: unknown) => {
      assert.ok(error instanceof EventLogNotDurableError);
      assert.match(String(error.cause), /EIO/);
      return true;
    });
    syncs.passing = true;
    await bus.close();
    log.close();
  });
});
