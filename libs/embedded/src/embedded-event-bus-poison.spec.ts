// A subscriber that always fails on one event (a poison event) against one whose store is
// down (every event fails): the first is dead-lettered to the log's dead-letter topic and
// the group moves on; the second is retried until the store is back, and nothing is lost.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createRequestAccepted,
  GatewayEndpoint,
  serializeEvent,
  Topic,
  type EventTopic,
  type GatewayEvent,
} from '@aigw/contracts';
import { numberedUsageEvent, until } from '@aigw/testing';
import { EmbeddedEventBus, type HandlerDeadLetter } from './embedded-event-bus';
import { SqliteEventLog } from './sqlite-event-log';

const DEAD_LETTER = Topic.DeadLetter as unknown as EventTopic;

function busWith(
  log: SqliteEventLog,
  errors: unknown[],
  letters: HandlerDeadLetter[],
  retried: { group: string; topic: string }[] = [],
) {
  return new EmbeddedEventBus(log, {
    flushIntervalMs: 5,
    maxBatch: 100,
    retryMinMs: 2,
    retryMaxMs: 10,
    handlerAttempts: 3,
    onError: (error) => errors.push(error),
    onDeadLettered: (letter) => letters.push(letter),
    onHandlerRetried: (labels) => retried.push(labels),
  });
}

describe('EmbeddedEventBus with a handler that keeps failing', () => {
  it('dead-letters the one event its handler always fails on; the others are handled and the group commits past it', async () => {
    const log = new SqliteEventLog(':memory:');
    const errors: unknown[] = [];
    const letters: HandlerDeadLetter[] = [];
    const bus = busWith(log, errors, letters);
    const [first, poison, third] = [1, 2, 3].map((n) => numberedUsageEvent('alice', n));
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        if (events.some((e) => e.eventId === poison.eventId)) {
          throw new Error('cannot apply: Authorization: Bearer sk-live-abcdefghijklmnop');
        }
        for (const e of events) handled.add(e.eventId);
      },
    });
    bus.publish(first);
    bus.publish(poison);
    bus.publish(third);
    await bus.flush();
    await until('the poison event is dead-lettered', () => letters.length === 1);
    await bus.flush();

    assert.deepEqual([...handled].sort(), [first.eventId, third.eventId].sort());
    const [letter] = letters;
    assert.equal(letter.eventId, poison.eventId);
    assert.equal(letter.attempts, 3);
    assert.equal(letter.topic, Topic.UsageRecorded);
    assert.match(letter.reason, /cannot apply/);
    assert.doesNotMatch(letter.reason, /sk-live|Bearer sk/, 'secrets masked');
    // The letter is kept in the log, beside the original event.
    const [row] = log.read([DEAD_LETTER], 0, 10);
    const stored = JSON.parse(row.value) as Record<string, unknown>;
    assert.equal(stored.code, 'HANDLER.FAILED');
    assert.equal(stored.group, 'budget');
    assert.equal(stored.reason, letter.reason);
    assert.equal((stored.event as GatewayEvent).eventId, poison.eventId);
    assert.equal(log.count(Topic.UsageRecorded), 3, 'the original stays in its topic');
    // The group committed past all three: a later event is handled at once, alone.
    assert.equal(log.committed('budget'), letter.seq + 1);
    const later = numberedUsageEvent('alice', 4);
    const errorsBefore = errors.length;
    bus.publish(later);
    await bus.flush();
    assert.equal(handled.has(later.eventId), true);
    assert.equal(errors.length, errorsBefore, 'no failure after the poison event left');
    await bus.close();
    log.close();
  });

  it('dead-letters a poison event once while a flaky one in its delivery still fails, and never hands it over again', async () => {
    const log = new SqliteEventLog(':memory:');
    const errors: unknown[] = [];
    const letters: HandlerDeadLetter[] = [];
    const bus = busWith(log, errors, letters); // handlerAttempts: 3
    const [good, poison, flaky] = [1, 2, 3].map((n) => numberedUsageEvent('dave', n));
    const handled = new Set<string>();
    let flakyAlone = 0;
    let poisonAfterLetter = 0;
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        const ids = events.map((e) => e.eventId);
        if (ids.includes(poison.eventId)) {
          if (letters.length > 0) poisonAfterLetter++;
          throw new Error('cannot apply the poison event');
        }
        // Alone, the flaky event fails in the 2nd and 3rd isolation rounds: it is still
        // failing (2 strikes of 3) in the round where the poison event earns its 3rd.
        if (ids.length === 1 && ids[0] === flaky.eventId) {
          flakyAlone++;
          if (flakyAlone === 2 || flakyAlone === 3) throw new Error('flaky store hiccup');
        }
        for (const id of ids) handled.add(id);
      },
    });
    bus.publish(good);
    bus.publish(poison);
    bus.publish(flaky);
    await bus.flush();
    await until('the group commits past all three', () => log.committed('budget') === 3);
    await bus.flush();

    assert.deepEqual(
      letters.map((l) => l.eventId),
      [poison.eventId],
      'onDeadLettered fires once',
    );
    assert.equal(poisonAfterLetter, 0, 'the poison event is not handed over after its letter');
    // Alone only in the three isolation rounds: the next retry took the rest as one batch.
    assert.equal(flakyAlone, 3, 'the flaky event failed in the round of the letter');
    assert.equal(log.count(DEAD_LETTER), 1);
    assert.deepEqual([...handled].sort(), [good.eventId, flaky.eventId].sort());
    // Past the dead-lettered range, later events go through at once.
    const later = numberedUsageEvent('dave', 4);
    const errorsBefore = errors.length;
    bus.publish(later);
    await bus.flush();
    assert.equal(handled.has(later.eventId), true);
    assert.equal(errors.length, errorsBefore);
    await bus.close();
    log.close();
  });

  it('while every event fails (the store is down) retries with backoff, dead-letters nothing, and handles all once the store is back', async () => {
    const log = new SqliteEventLog(':memory:');
    const errors: unknown[] = [];
    const letters: HandlerDeadLetter[] = [];
    const retried: { group: string; topic: string }[] = [];
    const bus = busWith(log, errors, letters, retried);
    const events = [1, 2, 3].map((n) => numberedUsageEvent('bob', n));
    let storeDown = true;
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'usage-sink',
      topics: [Topic.UsageRecorded],
      handle: async (batch: readonly GatewayEvent[]) => {
        if (storeDown) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
        for (const e of batch) handled.add(e.eventId);
      },
    });
    for (const event of events) bus.publish(event);
    await bus.flush();
    // Far more failed retries than handlerAttempts, with nothing published meanwhile.
    await until('retries go on', () => errors.length >= 12);
    assert.deepEqual(letters, []);
    assert.equal(log.count(DEAD_LETTER), 0);
    assert.equal(log.committed('usage-sink'), 0);
    assert.equal(handled.size, 0);
    assert.ok(retried.length >= 12, 'each retry is counted');
    assert.deepEqual(retried[0], { group: 'usage-sink', topic: Topic.UsageRecorded });

    storeDown = false;
    await until('every event is handled', () => handled.size === 3);
    await bus.flush();
    assert.deepEqual([...handled].sort(), events.map((e) => e.eventId).sort());
    assert.deepEqual(letters, []);
    assert.equal(log.count(DEAD_LETTER), 0);
    assert.equal(log.committed('usage-sink'), 3);
    await bus.close();
    log.close();
  });

  it("strikes nothing for another topic's success in the same retry: one topic's store refusing writes while another takes its events letters nothing", async () => {
    const log = new SqliteEventLog(':memory:');
    const errors: unknown[] = [];
    const letters: HandlerDeadLetter[] = [];
    const bus = busWith(log, errors, letters); // handlerAttempts: 3
    const usage = numberedUsageEvent('erin', 1);
    const accepted = createRequestAccepted({
      requestId: 'req-erin-accepted',
      partitionKey: 'erin',
      userId: 'erin',
      endpoint: GatewayEndpoint.ChatCompletions,
      modelRequested: 'gpt-4o-mini',
      stream: false,
    });
    let usageTableDown = true;
    const handled = new Set<string>();
    let acceptedHandled = 0;
    await bus.subscribe({
      group: 'usage-sink',
      topics: [Topic.UsageRecorded, Topic.RequestAccepted],
      handle: async (events: readonly GatewayEvent[]) => {
        if (usageTableDown && events.some((e) => e.type === usage.type)) {
          throw new Error('TOO_MANY_PARTS: the usage table refuses inserts');
        }
        for (const e of events) {
          handled.add(e.eventId);
          if (e.eventId === accepted.eventId) acceptedHandled++;
        }
      },
    });
    bus.publish(usage);
    bus.publish(accepted);
    await bus.flush();
    // Retry rounds handle the other topic's event alone each time: far past 3 rounds (or
    // a letter ends the retries, the failure this guards against).
    await until(
      'the other topic handled in many retries',
      () => acceptedHandled >= 12 || letters.length > 0,
    );
    assert.deepEqual(letters, [], 'nothing dead-lettered');
    assert.equal(log.count(DEAD_LETTER), 0);
    assert.equal(log.committed('usage-sink'), 0, 'the usage event not passed');

    usageTableDown = false;
    await until('the usage event is handled once its table takes writes', () =>
      handled.has(usage.eventId),
    );
    await until('and committed', () => log.committed('usage-sink') === 2);
    assert.deepEqual(letters, []);
    await bus.close();
    log.close();
  });

  it('tries a failed subscriber once more at close, within its backoff', async () => {
    const log = new SqliteEventLog(':memory:');
    const errors: unknown[] = [];
    const bus = new EmbeddedEventBus(log, {
      flushIntervalMs: 5,
      maxBatch: 100,
      retryMinMs: 60_000,
      onError: (error) => errors.push(error),
    });
    let failNext = true;
    const handled: string[] = [];
    await bus.subscribe({
      group: 'usage-sink',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        if (failNext) {
          failNext = false;
          throw new Error('sink crashed');
        }
        handled.push(...events.map((e) => e.eventId));
      },
    });
    const event = numberedUsageEvent('carol', 1);
    bus.publish(event);
    await bus.flush();
    await bus.flush(); // within the minute's backoff: not retried
    assert.deepEqual(handled, []);
    await bus.close();
    assert.deepEqual(handled, [event.eventId]);
    assert.equal(log.committed('usage-sink'), 1);
    assert.equal(errors.length, 1);
    log.close();
  });

  it('dead-letters a stored event this build cannot read once, though its range is read again while the store is down', async () => {
    const log = new SqliteEventLog(':memory:');
    // Written by a producer that did not validate: a user key past the contract's 256.
    const unreadable = numberedUsageEvent('u'.repeat(300), 1);
    const good = numberedUsageEvent('ivy', 2);
    log.append([serializeEvent(unreadable), serializeEvent(good)]);
    const skipped: { topic: string; code: string }[] = [];
    let storeDown = true;
    let calls = 0;
    const bus = new EmbeddedEventBus(log, {
      flushIntervalMs: 5,
      maxBatch: 100,
      retryMinMs: 2,
      retryMaxMs: 10,
      onError: () => undefined,
      onUndecodable: ({ topic, code }) => skipped.push({ topic, code }),
    });
    const handled: string[] = [];
    await bus.subscribe({
      group: 'usage-sink',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        calls++;
        if (storeDown) throw new Error('SQLITE_FULL: database or disk is full');
        handled.push(...events.map((e) => e.eventId));
      },
    });
    await until('the range is read again and again', () => calls >= 4);
    storeDown = false;
    await until('the readable event is handled', () => handled.length === 1);
    await bus.close();

    assert.deepEqual(handled, [good.eventId]);
    assert.deepEqual(skipped, [{ topic: Topic.UsageRecorded, code: 'CONTRACTS.INVALID_PAYLOAD' }]);
    assert.equal(log.count(DEAD_LETTER), 1, 'one letter in the log');
    const stored = JSON.parse(log.read([DEAD_LETTER], 0, 10)[0].value) as Record<string, unknown>;
    assert.equal(stored.code, 'CONTRACTS.INVALID_PAYLOAD');
    assert.equal(stored.group, 'usage-sink');
    assert.equal(stored.topic, Topic.UsageRecorded);
    assert.equal(stored.seq, 1);
    assert.equal(JSON.parse(String(stored.value)).eventId, unreadable.eventId, 'the row as it was');
    assert.equal(log.committed('usage-sink'), 2);
    log.close();
  });
});
