// The embedded bus's on-demand durability (durable(), the recordBarrier answers wait on with
// AI_GATEWAY_ANSWER_AFTER_RECORD=on): one append per event-loop turn for all its callers,
// subscribers still fed by the timed flush from memory, and a clear answer when the log
// refuses writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeEvent, Topic, type GatewayEvent, type TokenUsageRecorded } from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import {
  EmbeddedEventBus,
  EventLogNotWritableError,
  type EmbeddedEventBusOptions,
} from './embedded-event-bus';
import { SqliteEventLog } from './sqlite-event-log';

const usage = (user: string): TokenUsageRecorded => numberedUsageEvent(user, 1);

const userOf = (event: GatewayEvent): string => (event as TokenUsageRecorded).userId;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A bus offering durable() whose timer never fires by itself (60 s); `options` override. */
function awaitingBus(log: SqliteEventLog, options: Partial<EmbeddedEventBusOptions> = {}) {
  return new EmbeddedEventBus(log, {
    flushIntervalMs: 60_000,
    maxBatch: 100,
    onError: (error) => assert.fail(String(error)),
    answersAwaitRecord: true,
    ...options,
  });
}

/**
 * Subscribes group `g` to usage with a handler that holds up its first batch (and so the
 * writer, or a catch-up) until `free()`, then records the users it was handed in `seen`.
 */
function heldSubscriber(bus: EmbeddedEventBus) {
  let free!: () => void;
  const busy = new Promise<void>((resolve) => (free = resolve));
  const seen: string[] = [];
  const subscribed = bus.subscribe({
    group: 'g',
    topics: [Topic.UsageRecorded],
    handle: async (events) => {
      await busy;
      seen.push(...events.map(userOf));
    },
  });
  return { free, seen, subscribed };
}

/**
 * A bus whose timer never fires by itself (60 s), on a log that counts its appends and
 * reads and fails writes while `broken()`; one subscriber recording each batch it got.
 */
async function busWithCounts(
  broken: () => boolean = () => false,
  busOptions: Partial<EmbeddedEventBusOptions> = {},
  path = ':memory:',
) {
  const log = new SqliteEventLog(path);
  const bus = awaitingBus(log, { onWriteError: () => undefined, ...busOptions });
  const batches: string[][] = [];
  await bus.subscribe({
    group: 'g',
    topics: [Topic.UsageRecorded],
    handle: async (events) => void batches.push(events.map(userOf)),
  });
  const counts = { appends: 0, reads: 0 };
  const appendAll = log.appendAll.bind(log);
  log.appendAll = (events) => {
    counts.appends++;
    if (broken()) throw new Error('database or disk is full');
    return appendAll(events);
  };
  const read = log.read.bind(log);
  log.read = (...args) => {
    counts.reads++;
    return read(...args);
  };
  return { log, bus, batches, counts };
}

describe('EmbeddedEventBus.durable', () => {
  it('is the recordBarrier only when answers await their record', () => {
    const log = new SqliteEventLog(':memory:');
    const plain = new EmbeddedEventBus(log, {
      flushIntervalMs: 60_000,
      maxBatch: 100,
      onError: () => undefined,
    });
    assert.equal(plain.recordBarrier, undefined);
    const awaiting = new EmbeddedEventBus(log, {
      flushIntervalMs: 60_000,
      maxBatch: 100,
      onError: () => undefined,
      answersAwaitRecord: true,
    });
    assert.equal(typeof awaiting.recordBarrier, 'function');
    log.close();
  });

  it('writes everything published so far in one append for all the callers of a turn, and delivers nothing', async () => {
    const { log, bus, batches, counts } = await busWithCounts();
    bus.publish(usage('a'));
    const first = bus.durable();
    bus.publish(usage('b'));
    const second = bus.recordBarrier!();
    bus.publish(usage('c'));
    const third = bus.durable();
    assert.equal(log.count(), 0, 'nothing is written within the turn');
    let resolved = 0;
    for (const waiter of [first, second, third]) {
      void waiter.then(() => {
        // Resolved only once its event is in the log.
        assert.equal(log.count(), 3);
        resolved++;
      });
    }
    await Promise.all([first, second, third]);
    assert.equal(resolved, 3);
    assert.equal(counts.appends, 1, 'one transaction for the turn');
    assert.equal(bus.pendingCount, 0);
    assert.deepEqual(batches, [], 'subscribers wait for the timed flush');

    // A later turn appends again; the flush hands both runs on as one batch, from memory.
    bus.publish(usage('d'));
    await bus.durable();
    assert.equal(counts.appends, 2);
    const readsBefore = counts.reads;
    await bus.flush();
    assert.deepEqual(batches, [['a', 'b', 'c', 'd']]);
    assert.equal(counts.reads, readsBefore, 'no read of the log for rows it appended itself');
    assert.equal(log.committed('g'), 4);
    await bus.close();
    log.close();
  });

  it('resolves at once with nothing waiting, and after a flush wrote what it waited for', async () => {
    const { log, bus, counts } = await busWithCounts();
    await bus.durable();
    assert.equal(counts.appends, 0);
    bus.publish(usage('a'));
    const waiting = bus.durable();
    await bus.flush(); // the writer gets there first
    await waiting;
    assert.equal(counts.appends, 1, 'the flush wrote it; the turn found nothing left');
    assert.equal(log.count(), 1);
    await bus.close();
    log.close();
  });

  it('rejects its callers when the log refuses the write, and at once while it still fails; the retry writes in order', async () => {
    let broken = true;
    const { log, bus, batches, counts } = await busWithCounts(() => broken);
    bus.publish(usage('a'));
    bus.publish(usage('b'));
    const callers = [bus.durable(), bus.durable()];
    for (const caller of callers) {
      await assert.rejects(caller, (error: unknown) => {
        assert.ok(error instanceof EventLogNotWritableError);
        assert.match(String((error.cause as Error).message), /disk is full/);
        return true;
      });
    }
    assert.equal(counts.appends, 1);
    assert.deepEqual(bus.status(), { writable: false, pending: 2, refused: 0 });

    // While failing, no caller causes a write (only the retry timer writes) nor waits.
    bus.publish(usage('c'));
    await assert.rejects(bus.durable(), EventLogNotWritableError);
    await nextTurn();
    assert.equal(counts.appends, 1);

    broken = false;
    await bus.flush(); // the retry
    assert.deepEqual(bus.status(), { writable: true, pending: 0, refused: 0 });
    assert.deepEqual(batches.flat(), ['a', 'b', 'c']);
    bus.publish(usage('d'));
    await bus.durable();
    await bus.flush();
    assert.deepEqual(batches.flat(), ['a', 'b', 'c', 'd']);
    await bus.close();
    log.close();
  });

  it('does not wait behind a subscriber holding up the writer, and hands on every row once it is free', async () => {
    const log = new SqliteEventLog(':memory:');
    const bus = awaitingBus(log, { maxBatch: 2 });
    const { free, seen, subscribed } = heldSubscriber(bus);
    await subscribed;
    bus.publish(usage('a'));
    const held = bus.flush(); // its subscriber does not return
    await nextTurn();
    // More than a batch appended on demand meanwhile: memory keeps none of it (the log does).
    for (const user of ['b', 'c', 'd', 'e', 'f']) {
      bus.publish(usage(user));
      await bus.durable();
    }
    assert.equal(log.count(), 6);
    free();
    await held;
    await bus.flush();
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.equal(log.committed('g'), 6);
    await bus.close();
    log.close();
  });

  it('keeps a catch-up in progress from skipping rows appended on demand while its handler runs', async () => {
    const log = new SqliteEventLog(':memory:');
    // Rows written before the bus starts: its subscriber catches up on them from the log.
    log.append([serializeEvent(usage('old'))]);
    const bus = awaitingBus(log);
    const { free, seen, subscribed } = heldSubscriber(bus);
    await nextTurn();
    bus.publish(usage('new'));
    await bus.durable(); // appended while the catch-up's handler holds 'old'
    free();
    await subscribed;
    await bus.flush();
    assert.deepEqual(seen, ['old', 'new']);
    await bus.close();
    log.close();
  });

  it('reads rows another handle wrote between two on-demand appends, in log order', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aigw-durable-')), 'events.db');
    const { log, bus, batches } = await busWithCounts(() => false, {}, path);
    bus.publish(usage('alice'));
    await bus.durable();
    const other = new SqliteEventLog(path);
    other.append([serializeEvent(usage('bob'))]);
    other.close();
    bus.publish(usage('carol'));
    await bus.durable();
    await bus.flush();
    assert.deepEqual(batches.flat(), ['alice', 'bob', 'carol']);
    assert.equal(log.committed('g'), 3);
    await bus.close();
    log.close();
  });

  it('keeps the backlog bound: what durable() writes behind a busy writer leaves room for new events', async () => {
    const eventBytes = serializeEvent(usage('a')).json.length;
    const log = new SqliteEventLog(':memory:');
    let refused = 0;
    const bus = awaitingBus(log, {
      maxBatch: 2,
      maxPendingBytes: 3 * eventBytes,
      onRefused: () => refused++,
    });
    // Holds up the writer: events past a batch count against the bound.
    const { free, seen, subscribed } = heldSubscriber(bus);
    await subscribed;
    const published: string[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 1; i <= 3; i++) {
        published.push(`r${round}-${i}`);
        bus.publish(usage(`r${round}-${i}`));
      }
      await bus.durable();
    }
    // Without their bytes given back on the append, the fourth event past a batch is refused.
    assert.equal(refused, 0);
    assert.equal(log.count(), 30);
    free();
    await bus.flush();
    assert.deepEqual(seen, published);
    await bus.close();
    log.close();
  });
});
