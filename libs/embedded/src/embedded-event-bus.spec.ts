import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BudgetState,
  BudgetUnit,
  createBudgetStateChanged,
  createRequestAccepted,
  LimitKind,
  GatewayEndpoint,
  serializeEvent,
  Topic,
  type GatewayEvent,
  type TokenUsageRecorded,
} from '@aigw/contracts';
import { numberedUsageEvent, until } from '@aigw/testing';
import { EmbeddedEventBus, type EmbeddedEventBusOptions } from './embedded-event-bus';
import { SqliteEventLog } from './sqlite-event-log';

const usage = numberedUsageEvent;

function accepted(user: string): GatewayEvent {
  return createRequestAccepted({
    requestId: `req-${user}`,
    partitionKey: user,
    userId: user,
    endpoint: GatewayEndpoint.ChatCompletions,
    modelRequested: 'gpt-4',
    stream: false,
  });
}

const userOf = (event: GatewayEvent): string => (event as TokenUsageRecorded).userId;

function options(errors: unknown[] = []) {
  return { flushIntervalMs: 5, maxBatch: 100, onError: (error: unknown) => errors.push(error) };
}

/**
 * A bus on an in-memory log whose writes fail while `failing()` says so, a subscriber
 * recording the users it was handed, and a count of the writes tried.
 */
async function busOnFlakyLog(
  failing: () => boolean,
  busOptions: Partial<EmbeddedEventBusOptions> = {},
) {
  const log = new SqliteEventLog(':memory:');
  const bus = new EmbeddedEventBus(log, { ...options(), flushIntervalMs: 60_000, ...busOptions });
  const seen: string[] = [];
  await bus.subscribe({
    group: 'g',
    topics: [Topic.UsageRecorded],
    handle: async (events) => void seen.push(...events.map(userOf)),
  });
  const appendAll = log.appendAll.bind(log);
  const writes = { tried: 0 };
  log.appendAll = (events) => {
    writes.tried++;
    if (failing()) throw new Error('database or disk is full');
    return appendAll(events);
  };
  return { log, bus, seen, writes };
}

describe('EmbeddedEventBus on the SQLite log', () => {
  it('persists published events and delivers them to a subscriber in order', async () => {
    const log = new SqliteEventLog(':memory:');
    const bus = new EmbeddedEventBus(log, options());
    const seen: GatewayEvent[] = [];
    await bus.subscribe({
      group: 'g',
      topics: [Topic.UsageRecorded],
      handle: async (events) => void seen.push(...events),
    });
    bus.publish(usage('alice', 1));
    bus.publish(usage('bob', 2));
    await bus.flush();
    assert.equal(log.count(Topic.UsageRecorded), 2);
    assert.deepEqual(
      seen.map((e) => (e as TokenUsageRecorded).userId),
      ['alice', 'bob'],
    );
  });

  it('skips a stored event this build cannot read, saying which topic and why', async () => {
    const log = new SqliteEventLog(':memory:');
    // Written by a producer that did not validate: a user key past the contract's 256.
    log.append([serializeEvent(usage('u'.repeat(300), 1)), serializeEvent(usage('bob', 2))]);
    const skipped: { topic: string; code: string; reason: string }[] = [];
    const bus = new EmbeddedEventBus(log, {
      ...options(),
      onUndecodable: (event, group) =>
        skipped.push({ ...event, reason: `${group}: ${event.reason}` }),
    });
    const seen: GatewayEvent[] = [];
    await bus.subscribe({
      group: 'g',
      topics: [Topic.UsageRecorded],
      handle: async (events) => void seen.push(...events),
    });
    await bus.flush();
    await bus.close();
    assert.deepEqual(seen.map(userOf), ['bob']);
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].topic, Topic.UsageRecorded);
    assert.equal(skipped[0].code, 'CONTRACTS.INVALID_PAYLOAD');
    assert.match(skipped[0].reason, /^g: .*userId/);
  });

  it('writes in the background without an explicit flush', async () => {
    const log = new SqliteEventLog(':memory:');
    const bus = new EmbeddedEventBus(log, options());
    bus.publish(usage('alice', 1));
    assert.equal(log.count(), 0, 'publishing does not write on the caller’s path');
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(log.count(), 1);
  });

  it('lets waiting I/O run between the append and each subscriber of a flush', async () => {
    const log = new SqliteEventLog(':memory:');
    const bus = new EmbeddedEventBus(log, options());
    const order: string[] = [];
    // Stands for a request whose socket became readable while the flush was running.
    const requestArrived = (): void => void setImmediate(() => order.push('request'));
    for (const group of ['first', 'second']) {
      await bus.subscribe({
        group,
        topics: [Topic.UsageRecorded],
        handle: async () => {
          order.push(group);
          if (group === 'first') requestArrived();
        },
      });
    }
    bus.publish(usage('alice', 1));
    await bus.flush();
    assert.deepEqual(order, ['first', 'request', 'second']);
  });

  it('deletes what its topics let go in the background, and keeps serving', async () => {
    const log = new SqliteEventLog(':memory:');
    const outcomes: unknown[] = [];
    const bus = new EmbeddedEventBus(log, {
      ...options(),
      pruneEveryMs: 10,
      onPruned: (outcome) => outcomes.push(outcome),
    });
    const state = (budgetKey: string, remaining: number) =>
      createBudgetStateChanged({
        requestId: `req-${remaining}`,
        partitionKey: budgetKey,
        budgetKey,
        limitKind: LimitKind.TokenBudgetPerMinute,
        windowId: '60000@0',
        state: BudgetState.Remaining,
        remaining,
        limit: 100,
        unit: BudgetUnit.Tokens,
        resetAt: '2026-01-01T00:01:00.000Z',
      });
    // A compacted topic: only the newest state of each limit needs to stay.
    [state('alice', 90), state('bob', 80), state('alice', 70), state('alice', 60)].forEach((e) =>
      bus.publish(e),
    );
    await bus.flush();
    for (let waited = 0; log.count(Topic.BudgetState) > 2 && waited < 2_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(log.count(Topic.BudgetState), 2);
    assert.ok(
      outcomes.some((o) => (o as { deleted?: number }).deleted === 2),
      String(outcomes),
    );
    const seen: GatewayEvent[] = [];
    await bus.subscribe({
      group: 'late',
      topics: [Topic.BudgetState],
      handle: async (events) => void seen.push(...events),
    });
    assert.deepEqual(
      seen.map((e) => (e as { remaining: number }).remaining),
      [80, 60],
    );
    await bus.close();
  });

  it('appends an event id once, however often it is written', () => {
    const log = new SqliteEventLog(':memory:');
    const event = serializeEvent(usage('alice', 1));
    assert.equal(log.append([event, event]), 1);
    assert.equal(log.append([event]), 0);
    assert.equal(log.count(), 1);
  });

  it('redelivers a batch the subscriber failed on after its backoff, and nothing twice once it succeeded', async () => {
    const errors: unknown[] = [];
    const log = new SqliteEventLog(':memory:');
    const bus = new EmbeddedEventBus(log, { ...options(errors), retryMinMs: 50 });
    let failNext = true;
    const applied: string[] = [];
    await bus.subscribe({
      group: 'g',
      topics: [Topic.UsageRecorded],
      handle: async (events) => {
        if (failNext) {
          failNext = false;
          throw new Error('sink down');
        }
        applied.push(...events.map((e) => e.eventId));
      },
    });
    const event = usage('alice', 1);
    bus.publish(event);
    await bus.flush();
    assert.equal(errors.length, 1);
    assert.deepEqual(applied, []);
    await bus.flush(); // within the backoff: not retried yet
    assert.deepEqual(applied, []);
    // The retry timer redelivers with nothing new published.
    await until('the timed retry', () => applied.length > 0);
    await bus.flush();
    await bus.flush();
    assert.deepEqual(applied, [event.eventId]);
  });

  it('survives a restart: a new process replays only what its group had not committed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aigw-log-')), 'events.db');
    const first = new SqliteEventLog(path);
    const bus = new EmbeddedEventBus(first, options());
    const applied: string[] = [];
    await bus.subscribe({
      group: 'g',
      topics: [Topic.UsageRecorded],
      handle: async (events) => void applied.push(...events.map((e) => e.eventId)),
    });
    bus.publish(usage('alice', 1));
    await bus.close();
    first.close();

    // Written while no consumer ran (a crash between write and delivery, say).
    const offline = new SqliteEventLog(path);
    offline.append([serializeEvent(usage('bob', 2))]);
    offline.close();

    const second = new SqliteEventLog(path);
    const restarted = new EmbeddedEventBus(second, options());
    const replayed: string[] = [];
    await restarted.subscribe({
      group: 'g',
      topics: [Topic.UsageRecorded],
      handle: async (events) =>
        void replayed.push(...events.map((e) => (e as TokenUsageRecorded).userId)),
    });
    assert.deepEqual(replayed, ['bob']);
    assert.equal(second.count(), 2);
    second.close();
  });

  it('keeps a batch the log failed to write and writes it on the next flush, in order', async () => {
    const failures: { waiting: number }[] = [];
    let failNext = true;
    const { log, bus, seen } = await busOnFlakyLog(
      () => {
        const fail = failNext;
        failNext = false;
        return fail;
      },
      { onWriteError: (_error: unknown, waiting: number) => failures.push({ waiting }) },
    );
    bus.publish(usage('a', 1));
    bus.publish(usage('b', 1));
    await bus.flush(); // fails, must not reject
    assert.deepEqual(failures, [{ waiting: 2 }]);
    assert.equal(bus.pendingCount, 2);
    assert.equal(log.count(), 0);
    bus.publish(usage('c', 1));
    await bus.flush();
    assert.equal(log.count(), 3);
    assert.deepEqual(seen, ['a', 'b', 'c']);
    await bus.close();
    log.close();
  });
});

describe('EmbeddedEventBus heldCount (the spool depth gauge)', () => {
  it('holds nothing a healthy log is about to write; all that waits while it fails or piles up', async () => {
    let failing = false;
    const { log, bus } = await busOnFlakyLog(() => failing, { maxBatch: 3 });
    bus.publish(usage('a', 1));
    bus.publish(usage('b', 1));
    assert.equal(bus.pendingCount, 2);
    assert.equal(bus.heldCount, 0, 'waiting for the timed flush is not held');

    failing = true;
    await bus.flush();
    assert.equal(bus.heldCount, 2, 'the log refused them');
    failing = false;
    await bus.flush();
    assert.equal(bus.heldCount, 0);

    // A fourth before the writer took the first three: more than a batch waits.
    for (const user of ['c', 'd', 'e', 'f']) bus.publish(usage(user, 1));
    assert.equal(bus.heldCount, 4);
    await bus.flush();
    assert.equal(bus.heldCount, 0);
    assert.equal(log.count(), 6);
    await bus.close();
    log.close();
  });
});

describe('EmbeddedEventBus while the log refuses writes', () => {
  it('retries on its timer only, bounds what waits in memory, and writes what it kept in order', async () => {
    const eventBytes = serializeEvent(usage('a', 1)).json.length;
    const refusedTopics: string[] = [];
    let broken = true;
    const { log, bus, seen, writes } = await busOnFlakyLog(() => broken, {
      maxBatch: 2,
      maxPendingBytes: 3 * eventBytes,
      onWriteError: () => undefined,
      onRefused: (topic) => refusedTopics.push(topic),
    });
    bus.publish(usage('a', 1));
    bus.publish(usage('b', 1)); // a full batch: written at once, and the write fails
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.tried, 1);
    assert.deepEqual(bus.status(), { writable: false, pending: 2, refused: 0 });

    bus.publish(usage('c', 1)); // past a full batch, yet no new write until the retry
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.tried, 1);
    bus.publish(usage('d', 1)); // three events' bytes wait already: refused
    assert.deepEqual(bus.status(), { writable: false, pending: 3, refused: 1 });
    assert.deepEqual(refusedTopics, [Topic.UsageRecorded]);

    broken = false;
    await bus.flush();
    assert.deepEqual(bus.status(), { writable: true, pending: 0, refused: 1 });
    assert.equal(log.count(), 3);
    assert.deepEqual(seen, ['a', 'b', 'c']);
    // Room again once written.
    bus.publish(usage('e', 1));
    await bus.flush();
    assert.deepEqual(seen, ['a', 'b', 'c', 'e']);
    await bus.close();
    log.close();
  });
});

describe('EmbeddedEventBus behind a slow subscriber', () => {
  it('bounds what waits past one batch, and writes what it kept in order once it is free', async () => {
    const eventBytes = serializeEvent(usage('a', 1)).json.length;
    const log = new SqliteEventLog(':memory:');
    let refused = 0;
    const bus = new EmbeddedEventBus(log, {
      ...options(),
      flushIntervalMs: 60_000,
      maxBatch: 2,
      maxPendingBytes: 3 * eventBytes,
      onRefused: () => refused++,
    });
    let free!: () => void;
    const busy = new Promise<void>((resolve) => (free = resolve));
    const seen: string[] = [];
    await bus.subscribe({
      group: 'g',
      topics: [Topic.UsageRecorded],
      handle: async (events) => {
        await busy; // a store that stopped answering holds up the writer
        seen.push(...events.map(userOf));
      },
    });
    bus.publish(usage('a', 1));
    bus.publish(usage('b', 1)); // a full batch: written, then its subscriber does not return
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (const user of ['c', 'd', 'e', 'f', 'g', 'h', 'i']) bus.publish(usage(user, 1));
    // One batch waits uncounted (c, d), three events' bytes past it (e, f, g): h, i refused.
    assert.deepEqual(bus.status(), { writable: true, pending: 5, refused: 2 });
    assert.equal(refused, 2);
    free();
    await bus.flush();
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    assert.equal(log.count(), 7);
    // Room again once written.
    bus.publish(usage('j', 1));
    await bus.close();
    assert.deepEqual(seen.at(-1), 'j');
    log.close();
  });
});

describe('EmbeddedEventBus delivery positions', () => {
  it('delivers rows another handle wrote between flushes, in log order', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aigw-log-')), 'events.db');
    const log = new SqliteEventLog(path);
    const bus = new EmbeddedEventBus(log, options());
    const seen: string[] = [];
    await bus.subscribe({
      group: 'g',
      topics: [Topic.UsageRecorded],
      handle: async (events) => void seen.push(...events.map(userOf)),
    });
    bus.publish(usage('alice', 1));
    await bus.flush();

    const other = new SqliteEventLog(path);
    other.append([serializeEvent(usage('bob', 2))]);
    other.close();

    bus.publish(usage('carol', 3));
    await bus.flush();
    assert.deepEqual(seen, ['alice', 'bob', 'carol']);
    assert.equal(log.committed('g'), 3);
    log.close();
  });

  it('keeps a subscriber of a quiet topic current while other topics flow', async () => {
    const log = new SqliteEventLog(':memory:');
    const bus = new EmbeddedEventBus(log, options());
    const seen: string[] = [];
    await bus.subscribe({
      group: 'accepted',
      topics: [Topic.RequestAccepted],
      handle: async (events) => void seen.push(...events.map(userOf)),
    });
    for (let i = 1; i <= 3; i++) {
      bus.publish(usage('alice', i));
      await bus.flush();
    }
    bus.publish(accepted('bob'));
    bus.publish(usage('alice', 4));
    await bus.flush();
    await bus.flush();
    assert.deepEqual(seen, ['bob']);
    assert.equal(log.committed('accepted'), 5, 'committed through the batch it handled');
  });

  it('gives every published event to each subscriber once, in order, over many flushes', async () => {
    const log = new SqliteEventLog(':memory:');
    const bus = new EmbeddedEventBus(log, options());
    const usageSeen: string[] = [];
    const allSeen: string[] = [];
    await bus.subscribe({
      group: 'usage',
      topics: [Topic.UsageRecorded],
      handle: async (events) => void usageSeen.push(...events.map((e) => e.eventId)),
    });
    await bus.subscribe({
      group: 'all',
      topics: [Topic.RequestAccepted, Topic.UsageRecorded],
      handle: async (events) => void allSeen.push(...events.map((e) => e.eventId)),
    });
    const published: GatewayEvent[] = [];
    for (let flush = 0; flush < 20; flush++) {
      for (let i = 0; i < 7; i++) {
        const event = i % 3 === 0 ? accepted(`u${flush}-${i}`) : usage(`u${flush}`, i);
        published.push(event);
        bus.publish(event);
      }
      await bus.flush();
    }
    assert.deepEqual(
      usageSeen,
      published.filter((e) => e.type === 'usage.recorded').map((e) => e.eventId),
    );
    assert.deepEqual(
      allSeen,
      published.map((e) => e.eventId),
    );
  });
});

describe('EmbeddedEventBus ephemeral subscriptions', () => {
  it('read from the beginning at every start, advance as they go, and commit nothing', async () => {
    const log = new SqliteEventLog(':memory:');
    const bus = new EmbeddedEventBus(log, options());
    bus.publish(usage('alice', 1));
    await bus.flush();
    const seen: string[] = [];
    await bus.subscribe({
      group: 'view',
      topics: [Topic.UsageRecorded],
      ephemeral: true,
      handle: async (events) =>
        void seen.push(...events.map((e) => (e as TokenUsageRecorded).userId)),
    });
    bus.publish(usage('bob', 2));
    await bus.flush();
    await bus.flush();
    assert.deepEqual(seen, ['alice', 'bob']);
    assert.equal(log.committed('view'), 0);
  });
});
