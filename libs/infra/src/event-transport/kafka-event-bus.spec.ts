// The publisher's pump against a stand-in producer whose broker can be up, down or
// silent: ordering through outages, the spool, its bound and flush. The real broker is
// exercised in kafka-event-bus.int-spec.ts and kafka-outage.int-spec.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Topic } from '@aigw/contracts';
import { type Kafka, type Message, type ProducerBatch } from 'kafkajs';
import { numberedUsageEvent } from '@aigw/testing';
import { EventSpool } from './event-spool';
import { KafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus';

const dir = mkdtempSync(join(tmpdir(), 'aigw-bus-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// silent: answers once it is up again; lost: a request made now never gets an answer.
type BrokerMode = 'up' | 'down' | 'silent' | 'lost';

/** Enough of kafkajs' Kafka for the publisher: producers that obey `mode`. */
class FakeKafka {
  mode: BrokerMode = 'up';
  readonly sent: { topic: string; message: Message }[] = [];
  batches = 0;
  producers = 0;
  /** Requests holding one of these events, or more than `maxMessages`, are too large. */
  readonly tooLarge = new Set<string>();
  maxMessages = Infinity;
  private silent: (() => void)[] = [];

  setMode(mode: BrokerMode): void {
    this.mode = mode;
    if (mode !== 'silent') for (const release of this.silent.splice(0)) release();
  }

  /** Asked at start whether Kafka answers (`whileUnreachable: 'spool'`). */
  admins = 0;
  admin() {
    this.admins++;
    return {
      connect: async () => {
        if (this.mode === 'down') throw new Error('connect ECONNREFUSED');
      },
      disconnect: async () => undefined,
    };
  }

  producer() {
    this.producers++;
    return {
      connect: async () => {
        if (this.mode === 'down') throw new Error('connect ECONNREFUSED');
      },
      disconnect: async () => undefined,
      sendBatch: async (batch: ProducerBatch) => {
        if (this.mode === 'lost') await new Promise<never>(() => undefined);
        // A silent broker answers once it comes back (up) or the connection drops (down).
        while (this.mode === 'silent') await new Promise<void>((r) => this.silent.push(r));
        if (this.mode === 'down') throw new Error('connect ECONNREFUSED');
        const messages = (batch.topicMessages ?? []).flatMap((t) => t.messages);
        if (
          messages.length > this.maxMessages ||
          messages.some((m) => this.tooLarge.has(String(m.headers?.['aigw-event-id'])))
        ) {
          throw messageTooLarge();
        }
        this.batches++;
        for (const { topic, messages } of batch.topicMessages ?? []) {
          for (const message of messages) this.sent.push({ topic, message });
        }
        return [];
      },
    };
  }
}

/** What kafkajs throws for a produce request the broker refuses as too large. */
function messageTooLarge(): Error {
  const message =
    'The request included a message larger than the max message size the server will accept';
  const cause = Object.assign(new Error(message), {
    name: 'KafkaJSProtocolError',
    type: 'MESSAGE_TOO_LARGE',
    code: 10,
    retriable: false,
  });
  return Object.assign(new Error(message), {
    name: 'KafkaJSNonRetriableError',
    retriable: false,
    cause,
  });
}

let files = 0;
function busOn(
  kafka: FakeKafka,
  options: Partial<KafkaEventBusOptions> & { path?: string; maxBytes?: number } = {},
): KafkaEventBus {
  const spool = new EventSpool(options.path ?? join(dir, `spool-${++files}.db`), {
    ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
  });
  return new KafkaEventBus(kafka as unknown as Kafka, {
    lingerMs: 2,
    spoolAfterMs: 50,
    retryMinMs: 5,
    retryMaxMs: 20,
    closeDrainMs: 2_000,
    ...options,
    spool,
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sentIds = (kafka: FakeKafka): string[] =>
  kafka.sent.map((s) => String(s.message.headers?.['aigw-event-id']));

const spoolOf = (bus: KafkaEventBus): EventSpool => (bus as unknown as { spool: EventSpool }).spool;

/** The spool's disk is full: SQLite refuses every write (inserts, and the writability probe). */
function fillDisk(spool: EventSpool): () => void {
  const statements = spool as unknown as Record<string, { run: (...a: unknown[]) => unknown }>;
  const kept = { insertStmt: statements.insertStmt, probeStmt: statements.probeStmt };
  const full = {
    run: () => {
      throw Object.assign(new Error('database or disk is full'), { errcode: 13 });
    },
  };
  statements.insertStmt = full;
  statements.probeStmt = full;
  return () => Object.assign(statements, kept);
}

describe('KafkaEventBus publisher', () => {
  it('started while Kafka does not answer: spools (ready), then replays once it answers', async () => {
    const kafka = new FakeKafka();
    kafka.setMode('down');
    const bus = busOn(kafka);
    const started = await bus.start({ createTopics: false, whileUnreachable: 'spool' });
    assert.equal(started.connected, false);
    assert.match(String((started as { error: unknown }).error), /ECONNREFUSED/);
    const events = Array.from({ length: 120 }, (_, i) => numberedUsageEvent(`u${i % 4}`, i));
    events.slice(0, 60).forEach((e) => bus.publish(e));
    await bus.flush();
    assert.equal(bus.spooledCount, 60, 'every event is on disk');
    assert.equal(kafka.producers, 0, 'nothing is sent before Kafka answers');
    assert.deepEqual(
      { state: bus.status().state, ready: bus.status().ready },
      { state: 'spooling', ready: true },
    );
    await until(() => kafka.admins >= 3, 'attempts to reach Kafka in the background');
    kafka.setMode('up');
    events.slice(60).forEach((e) => bus.publish(e));
    await until(() => kafka.sent.length >= events.length, 'the spool replayed');
    await bus.flush();
    assert.deepEqual(
      sentIds(kafka),
      events.map((e) => e.eventId),
      'every event once, in publish order',
    );
    await until(() => bus.spooledCount === 0, 'the spool emptied');
    assert.equal(bus.status().state, 'connected');
    await bus.close();
  });

  it('started while Kafka does not answer, with the spool full: not ready', async () => {
    const kafka = new FakeKafka();
    kafka.setMode('down');
    const bus = busOn(kafka, { maxBytes: 2_000 });
    await bus.start({ createTopics: false, whileUnreachable: 'spool' });
    for (let i = 0; i < 50; i++) bus.publish(numberedUsageEvent('u', i));
    await bus.flush();
    assert.deepEqual(
      { state: bus.status().state, ready: bus.status().ready },
      { state: 'spool-full', ready: false },
    );
    assert.ok(bus.status().refused > 0);
    await bus.close();
  });

  it('started while Kafka does not answer, by default: the start fails', async () => {
    const kafka = new FakeKafka();
    kafka.setMode('down');
    const bus = busOn(kafka);
    // createTopics (the default) asks Kafka; the fake's admin refuses as a down broker does.
    await assert.rejects(bus.start(), /ECONNREFUSED/);
    await bus.close();
  });

  it('sends batches keyed by the event key, in publish order, bounded in size', async () => {
    const kafka = new FakeKafka();
    const bus = busOn(kafka, { maxBatch: 100 });
    await bus.start({ createTopics: false });
    const events = Array.from({ length: 350 }, (_, i) => numberedUsageEvent(`u${i % 7}`, i));
    for (const event of events) bus.publish(event);
    await bus.flush();
    assert.deepEqual(
      sentIds(kafka),
      events.map((e) => e.eventId),
    );
    assert.ok(kafka.batches >= 4, 'at most maxBatch events per request');
    assert.equal(kafka.sent[0].topic, Topic.UsageRecorded);
    assert.equal(kafka.sent[3].message.key, 'u3');
    assert.equal(bus.spooledCount, 0);
    await bus.close();
  });

  it('spools while the broker is down and replays in order, exactly once, when it is back', async () => {
    const kafka = new FakeKafka();
    const depths: number[] = [];
    const bus = busOn(kafka, { observer: { spoolDepth: (n) => depths.push(n) } });
    await bus.start({ createTopics: false });
    const events = Array.from({ length: 300 }, (_, i) => numberedUsageEvent(`u${i % 5}`, i));
    events.slice(0, 50).forEach((e) => bus.publish(e));
    await bus.flush();
    kafka.setMode('down');
    events.slice(50, 250).forEach((e) => bus.publish(e)); // never throws, never waits
    await bus.flush(); // resolves: everything is in the spool
    assert.ok(bus.spooledCount > 0);
    assert.equal(bus.status().state, 'spooling');
    assert.equal(bus.status().ready, true, 'spooling keeps the service in rotation');
    kafka.setMode('up');
    events.slice(250).forEach((e) => bus.publish(e));
    await until(() => kafka.sent.length >= events.length && bus.spooledCount === 0, 'replay');
    await bus.flush();
    assert.deepEqual(
      sentIds(kafka),
      events.map((e) => e.eventId),
    );
    assert.equal(depths.at(-1), 0);
    assert.equal(bus.status().state, 'connected');
    await bus.close();
  });

  it('a spool it cannot read for a while (a disk I/O error) is read again later, in order, the process unharmed', async () => {
    const kafka = new FakeKafka();
    const bus = busOn(kafka);
    await bus.start({ createTopics: false });
    kafka.setMode('down');
    const events = Array.from({ length: 40 }, (_, i) => numberedUsageEvent(`r${i % 3}`, i));
    events.forEach((e) => bus.publish(e));
    await bus.flush();
    assert.ok(bus.spooledCount > 0);
    const spool = spoolOf(bus);
    const peek = spool.peek.bind(spool);
    let refusedReads = 0;
    spool.peek = () => {
      refusedReads++;
      throw Object.assign(new Error('disk I/O error'), { errcode: 10 });
    };
    kafka.setMode('up');
    await until(() => refusedReads >= 2, 'the pump to try the spool again');
    spool.peek = peek;
    await until(() => kafka.sent.length >= events.length && bus.spooledCount === 0, 'replay');
    assert.deepEqual(
      sentIds(kafka),
      events.map((e) => e.eventId),
    );
    await bus.close();
  });

  it('a spool it cannot read is tried again after the backoff, not at each event published meanwhile', async (t) => {
    const kafka = new FakeKafka();
    let errors = 0;
    const bus = busOn(kafka, {
      retryMaxMs: 2_000,
      logger: { info: () => undefined, warn: () => undefined, error: () => void errors++ },
    });
    await bus.start({ createTopics: false });
    t.after(() => bus.close());
    kafka.setMode('down');
    bus.publish(numberedUsageEvent('unread', 0));
    await bus.flush();
    assert.ok(bus.spooledCount > 0);
    const spool = spoolOf(bus);
    const peek = spool.peek.bind(spool);
    let refusedReads = 0;
    spool.peek = () => {
      refusedReads++;
      throw Object.assign(new Error('disk I/O error'), { errcode: 10 });
    };
    kafka.setMode('up');
    await until(() => refusedReads >= 1, 'the pump to try the spool');
    // Traffic goes on: each publish wakes the pump, which must not read the spool again
    // (and log an error) before its backoff is over.
    for (let i = 1; i <= 20; i++) {
      bus.publish(numberedUsageEvent('unread', i));
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(refusedReads, 1, 'one read refused, none retried within the backoff');
    assert.equal(errors, 1);
    spool.peek = peek;
    await until(() => bus.spooledCount === 0 && kafka.sent.length === 21, 'replay');
  });

  it('drops an event the broker refuses as too large, and splits a batch too large as a whole, so the rest flows', async () => {
    const kafka = new FakeKafka();
    const refused: { topic: string; reason: string; count: number }[] = [];
    const bus = busOn(kafka, {
      maxBatch: 100,
      observer: { refused: (labels, count) => refused.push({ ...labels, count }) },
    });
    await bus.start({ createTopics: false });
    const events = Array.from({ length: 120 }, (_, i) => numberedUsageEvent(`u${i % 3}`, i));
    // One event over the broker's limit, and requests of over 30 events too large together.
    kafka.tooLarge.add(events[37].eventId);
    kafka.maxMessages = 30;
    for (const event of events) bus.publish(event);
    const stuck = new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 5_000));
    assert.equal(await Promise.race([bus.flush().then(() => 'flushed'), stuck]), 'flushed');
    await until(() => bus.spooledCount === 0, 'the spool to empty');
    assert.deepEqual(
      sentIds(kafka),
      events.filter((_, i) => i !== 37).map((e) => e.eventId),
    );
    assert.deepEqual(refused, [{ topic: Topic.UsageRecorded, reason: 'too-large', count: 1 }]);
    assert.equal(bus.status().refused, 1);
    // Later events are not held back either.
    const later = numberedUsageEvent('u0', 500);
    bus.publish(later);
    await until(() => sentIds(kafka).includes(later.eventId), 'a later event');
    await bus.close();
  });

  it('spools a batch the broker is silent about, and drops the copy once it is acknowledged', async () => {
    const kafka = new FakeKafka();
    const bus = busOn(kafka);
    await bus.start({ createTopics: false });
    kafka.setMode('silent');
    const events = Array.from({ length: 40 }, (_, i) => numberedUsageEvent('s', i));
    events.slice(0, 20).forEach((e) => bus.publish(e));
    await bus.flush(); // the watchdog spools the unacknowledged batch
    assert.ok(bus.spooledCount >= 1);
    events.slice(20).forEach((e) => bus.publish(e));
    await bus.flush();
    kafka.setMode('up');
    await until(() => bus.spooledCount === 0, 'the spool to drain');
    assert.deepEqual(
      sentIds(kafka),
      events.map((e) => e.eventId),
      'the acknowledged batch is not sent twice',
    );
    await bus.close();
  });

  it('gives up on a request Kafka never answers and replays its batch with a fresh producer', async () => {
    const kafka = new FakeKafka();
    const warnings: string[] = [];
    const bus = busOn(kafka, {
      sendTimeoutMs: 200,
      logger: { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    });
    await bus.start({ createTopics: false });
    kafka.setMode('lost');
    const events = Array.from({ length: 30 }, (_, i) => numberedUsageEvent('lost', i));
    events.slice(0, 15).forEach((e) => bus.publish(e));
    await bus.flush(); // the watchdog spools the batch the lost request carries
    kafka.setMode('up');
    events.slice(15).forEach((e) => bus.publish(e));
    await until(
      () => bus.spooledCount === 0 && kafka.sent.length === events.length,
      'the replay past the lost request',
    );
    assert.deepEqual(
      sentIds(kafka),
      events.map((e) => e.eventId),
    );
    assert.ok(kafka.producers >= 2, 'a fresh producer replays');
    assert.ok(warnings.some((m) => /did not acknowledge/.test(m)));
    assert.equal(bus.status().state, 'connected');
    await bus.close();
  });

  it('refuses an event larger than the whole spool without marking the spool full (it stays ready)', async () => {
    const kafka = new FakeKafka();
    const refused: { reason: string; count: number }[] = [];
    const bus = busOn(kafka, {
      maxBytes: 100, // less than any one event
      observer: { refused: ({ reason }, count) => refused.push({ reason, count }) },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await bus.start({ createTopics: false });
    kafka.setMode('down');
    bus.publish(numberedUsageEvent('huge', 0));
    await bus.flush();
    assert.deepEqual(refused, [{ reason: 'too-large', count: 1 }]);
    assert.notEqual(bus.status().state, 'spool-full');
    assert.equal(bus.status().ready, true);
    await bus.close();
  });

  it('past the byte bound refuses new events loudly, keeps the old ones, and recovers', async () => {
    const kafka = new FakeKafka();
    const refused: number[] = [];
    const errors: string[] = [];
    const bus = busOn(kafka, {
      maxBytes: 20 * 600, // roughly 20 events
      observer: { refused: (_labels, count) => refused.push(count) },
      logger: { info: () => undefined, warn: () => undefined, error: (m) => errors.push(m) },
    });
    await bus.start({ createTopics: false });
    kafka.setMode('down');
    const events = Array.from({ length: 100 }, (_, i) => numberedUsageEvent('full', i));
    events.forEach((e) => bus.publish(e));
    await bus.flush(); // resolves: each event is spooled or refused, none silently
    const total = refused.reduce((a, b) => a + b, 0);
    assert.ok(total > 0 && total < 100, `some refused: ${total}`);
    assert.equal(bus.status().state, 'spool-full');
    assert.equal(bus.status().ready, false);
    assert.equal(bus.status().refused, total);
    assert.ok(
      errors.some((m) => /refused/.test(m)),
      'an error is logged',
    );
    const kept = bus.spooledCount;
    kafka.setMode('up');
    await until(() => bus.spooledCount === 0, 'the spool to drain');
    assert.deepEqual(
      sentIds(kafka),
      events.slice(0, kept).map((e) => e.eventId),
      'the oldest events are the ones kept',
    );
    assert.equal(bus.status().state, 'connected');
    await bus.close();
  });

  // Kafka away and the spool's disk full: every event is refused, as past the byte bound, so
  // the pod leaves rotation as for a full spool; it was left ready, dropping every call's usage.
  it('while the spool cannot be written and Kafka is away, is not ready; ready again once it writes', async () => {
    const kafka = new FakeKafka();
    const refused: { reason: string; count: number }[] = [];
    const bus = busOn(kafka, {
      spoolProbeMs: 20,
      observer: { refused: ({ reason }, count) => refused.push({ reason, count }) },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await bus.start({ createTopics: false });
    kafka.setMode('down');
    const freeDisk = fillDisk(spoolOf(bus));
    const events = Array.from({ length: 6 }, (_, i) => numberedUsageEvent('disk', i));
    events.slice(0, 3).forEach((e) => bus.publish(e));
    await bus.flush();
    assert.deepEqual(refused, [{ reason: 'write-failed', count: 3 }]);
    assert.equal(bus.status().state, 'spool-unwritable');
    assert.equal(bus.status().ready, false, 'out of rotation while every event is refused');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(bus.status().ready, false, 'still: the disk is full');

    // Out of rotation, no request comes to publish anything: the bus finds the room itself.
    freeDisk();
    await until(() => bus.status().ready, 'ready with room on the disk, nothing published');
    assert.equal(bus.status().state, 'spooling');
    events.slice(3).forEach((e) => bus.publish(e));
    await bus.flush();
    assert.equal(bus.spooledCount, 3);

    kafka.setMode('up');
    await until(() => bus.spooledCount === 0, 'the spool to drain');
    assert.deepEqual(
      sentIds(kafka),
      events.slice(3).map((e) => e.eventId),
    );
    assert.equal(bus.status().state, 'connected');
    await bus.close();
  });

  it('a spool write failing while Kafka answers again leaves the bus ready', async () => {
    const kafka = new FakeKafka();
    const bus = busOn(kafka, {
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await bus.start({ createTopics: false });
    kafka.setMode('down');
    fillDisk(spoolOf(bus));
    bus.publish(numberedUsageEvent('disk-back', 0));
    await bus.flush();
    assert.equal(bus.status().ready, false);
    kafka.setMode('up'); // the spool is still unwritable, but nothing needs it
    const next = numberedUsageEvent('disk-back', 1);
    await until(() => {
      if (!sentIds(kafka).includes(next.eventId)) bus.publish(next);
      return sentIds(kafka).includes(next.eventId);
    }, 'an event acknowledged');
    assert.equal(bus.status().state, 'connected');
    assert.equal(bus.status().ready, true);
    await bus.close();
  });

  it('on a full disk, replays each spooled event once and lets new events flow once Kafka is back', async () => {
    const kafka = new FakeKafka();
    const spool = new EventSpool(join(dir, `full-disk-${++files}.db`));
    const bus = new KafkaEventBus(kafka as unknown as Kafka, {
      spool,
      lingerMs: 2,
      spoolAfterMs: 50,
      retryMinMs: 5,
      retryMaxMs: 20,
    });
    await bus.start({ createTopics: false });
    kafka.setMode('down');
    const events = Array.from({ length: 40 }, (_, i) => numberedUsageEvent(`f${i % 3}`, i));
    events.slice(0, 20).forEach((e) => bus.publish(e));
    await bus.flush();
    assert.equal(bus.spooledCount, 20);

    // The disk fills up: SQLite can no longer write the spool, not even a delete.
    const full = () => {
      throw Object.assign(new Error('database or disk is full'), { errcode: 13 });
    };
    for (const statement of ['insertStmt', 'deleteThroughStmt', 'deleteRangeStmt'] as const) {
      (spool as unknown as Record<string, { run: () => never }>)[statement] = { run: full };
    }
    kafka.setMode('up');
    await until(() => kafka.sent.length >= 20, 'the replay');
    await new Promise((r) => setTimeout(r, 200)); // room for any replay to come again
    assert.deepEqual(
      sentIds(kafka),
      events.slice(0, 20).map((e) => e.eventId),
      'each once',
    );
    assert.equal(bus.spooledCount, 0, 'acknowledged rows no longer count, deleted or not');

    // Nothing waits in the spool any more: new events go straight to Kafka, not refused.
    events.slice(20).forEach((e) => bus.publish(e));
    await bus.flush();
    assert.deepEqual(
      sentIds(kafka),
      events.map((e) => e.eventId),
    );
    assert.equal(bus.status().refused, 0);
    assert.equal(bus.status().state, 'connected');
    await bus.close();
  });

  it('a process that stopped with events in its spool replays them first at the next start', async () => {
    const path = join(dir, 'restart.db');
    const kafka = new FakeKafka();
    const first = busOn(kafka, { path });
    await first.start({ createTopics: false });
    kafka.setMode('down');
    const events = Array.from({ length: 30 }, (_, i) => numberedUsageEvent(`r${i % 2}`, i));
    events.slice(0, 20).forEach((e) => first.publish(e));
    await first.close(); // Kafka is down: the events stay on disk
    assert.equal(kafka.sent.length, 0);

    kafka.setMode('up');
    const second = busOn(kafka, { path });
    assert.equal(second.spooledCount, 20);
    events.slice(20).forEach((e) => second.publish(e));
    await second.start({ createTopics: false });
    await until(() => kafka.sent.length === 30, 'the replay');
    assert.deepEqual(
      sentIds(kafka),
      events.map((e) => e.eventId),
    );
    await second.close();
  });
});

describe('KafkaEventBus.durable (answers waiting on their record)', () => {
  it('is the recordBarrier only when answers await their record', async () => {
    const kafka = new FakeKafka();
    const plain = busOn(kafka);
    assert.equal(plain.recordBarrier, undefined);
    const awaiting = busOn(kafka, { answersAwaitRecord: true });
    assert.equal(typeof awaiting.recordBarrier, 'function');
    await plain.close();
    await awaiting.close();
  });

  it('sends what the callers of one turn published in one request, and resolves once Kafka acknowledged it', async () => {
    const kafka = new FakeKafka();
    // A linger far past the test: only durable() can have sent these.
    const bus = busOn(kafka, { lingerMs: 60_000, answersAwaitRecord: true });
    await bus.start({ createTopics: false });
    const events = Array.from({ length: 5 }, (_, i) => numberedUsageEvent(`d${i}`, i));
    const waiting = events.map((event) => {
      bus.publish(event);
      return bus.recordBarrier!().then(() => sentIds(kafka).includes(event.eventId));
    });
    assert.deepEqual(await Promise.all(waiting), [true, true, true, true, true]);
    assert.equal(kafka.batches, 1, 'one produce request for the turn');
    assert.equal(bus.spooledCount, 0);
    await bus.durable(); // nothing outstanding: at once
    assert.equal(kafka.batches, 1);
    await bus.close();
  });

  it('resolves once the event is in the spool when the broker is silent about it', async () => {
    const kafka = new FakeKafka();
    const bus = busOn(kafka, { lingerMs: 60_000, answersAwaitRecord: true });
    await bus.start({ createTopics: false });
    kafka.setMode('silent');
    const event = numberedUsageEvent('quiet', 1);
    bus.publish(event);
    await bus.durable(); // the watchdog (spoolAfterMs) wrote the unacknowledged batch to disk
    assert.equal(bus.spooledCount, 1);
    assert.deepEqual(sentIds(kafka), []);
    kafka.setMode('up');
    await until(() => bus.spooledCount === 0, 'the spool to drain');
    assert.deepEqual(sentIds(kafka), [event.eventId]);
    await bus.close();
  });
});
