// A handler that always fails on one event (a poison event) against one whose store is
// down (every event fails), on stand-in kafkajs consumers and producers: the poison event
// goes to the dead-letter topic and the partition's offset moves past it; an outage is
// retried until the store is back, and nothing is dead-lettered. The real broker is in
// kafka-handler-poison.int-spec.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeEvent, Topic, type GatewayEvent } from '@aigw/contracts';
import { type EachBatchPayload, type Kafka, type Message } from 'kafkajs';
import { numberedUsageEvent, until } from '@aigw/testing';
import { EventSpool } from './event-spool';
import { DEAD_LETTER_HEADERS, KafkaEventBus } from './kafka-event-bus';
import { kafkaMessagesOf } from '../testing/fake-kafka-consumer';
import { handlerFailingOn } from '../testing/poison-handler';

const dir = mkdtempSync(join(tmpdir(), 'aigw-bus-poison-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Listener = () => void;

/** A fetched message: an event, or bytes no build can read. */
type Fetched = GatewayEvent | Buffer;

/** Enough of a kafkajs consumer: joins when run, and hands the bus the batches given. */
class FakeConsumer {
  readonly events = {
    HEARTBEAT: 'heartbeat',
    GROUP_JOIN: 'group_join',
    FETCH_START: 'fetch_start',
    FETCH: 'fetch',
    START_BATCH_PROCESS: 'start_batch',
    END_BATCH_PROCESS: 'end_batch',
    CRASH: 'crash',
    REBALANCING: 'rebalancing',
  };
  readonly commits: { topic: string; partition: number; offset: string }[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;

  on(event: string, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  connect = async (): Promise<void> => undefined;
  subscribe = async (): Promise<void> => undefined;
  seek = (): void => undefined;
  disconnect = async (): Promise<void> => undefined;

  run = async (options: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) => {
    this.eachBatch = options.eachBatch;
    setImmediate(() => {
      for (const listener of this.listeners.get(this.events.GROUP_JOIN) ?? []) listener();
    });
  };

  commitOffsets = async (offsets: { topic: string; partition: number; offset: string }[]) => {
    this.commits.push(...offsets);
  };

  /** Fetches batches of `events` (which may grow) until all of it is committed. */
  async consume(topic: string, events: Fetched[], partition = 0): Promise<void> {
    for (;;) {
      const from = Number(this.committedOf(partition) ?? 0);
      if (from >= events.length) return;
      this.fetches++;
      await this.deliver(topic, events, from, partition);
    }
  }

  fetches = 0;

  committedOf(partition: number): string | undefined {
    return this.commits.filter((c) => c.partition === partition).at(-1)?.offset;
  }

  /**
   * One fetched batch of `events` from offset `from`, as kafkajs' fetch loop hands it over;
   * kafkajs fetches what is left unresolved again (see `consume`). A Buffer stands for a
   * message no build can read.
   */
  deliver(topic: string, events: readonly Fetched[], from = 0, partition = 0): Promise<void> {
    assert.ok(this.eachBatch, 'the consumer runs');
    const messages = events.slice(from).map((event, i) => {
      if (!Buffer.isBuffer(event)) return kafkaMessagesOf([event], from + i)[0];
      return { key: null, value: event, headers: {}, offset: String(from + i) };
    });
    return this.eachBatch({
      batch: { topic, partition, messages, highWatermark: String(events.length) },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  }
}

/** A Kafka whose producers record what they were asked to send. */
class FakeKafka {
  readonly current = new FakeConsumer();
  readonly sent: { topic: string; messages: Message[] }[] = [];

  consumer(): FakeConsumer {
    return this.current;
  }

  producer() {
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: async (record: { topic: string; messages: Message[] }) => {
        this.sent.push(record);
      },
    };
  }
}

let files = 0;
interface Observed {
  retried: number;
  deadLettered: unknown[];
  /** Unreadable messages dead-lettered (the decode's code). */
  unreadable?: unknown[];
}

async function busOn(kafka: FakeKafka, observed: Observed) {
  const bus = new KafkaEventBus(kafka as unknown as Kafka, {
    spool: new EventSpool(join(dir, `spool-${++files}.db`)),
    retryMinMs: 2,
    retryMaxMs: 10,
    handlerAttempts: 3,
    observer: {
      handlerRetried: () => void observed.retried++,
      handlerDeadLettered: (labels) => void observed.deadLettered.push(labels),
      deadLettered: (labels) => void observed.unreadable?.push(labels),
    },
  });
  await bus.start({ createTopics: false });
  return bus;
}

const header = (message: Message, name: string): string =>
  String((message.headers ?? {})[name] ?? '');

describe('KafkaEventBus with a handler that keeps failing', () => {
  it('dead-letters the one event its handler always fails on; the others are handled and the offset moves past it', async () => {
    const kafka = new FakeKafka();
    const observed = { retried: 0, deadLettered: [] as unknown[] };
    const bus = await busOn(kafka, observed);
    const [first, poison, third] = [1, 2, 3].map((n) => numberedUsageEvent('alice', n));
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: handlerFailingOn(
        poison.eventId,
        'cannot apply: Authorization: Bearer sk-live-abcdefghijklmnop',
        handled,
      ),
    });
    await kafka.current.deliver(Topic.UsageRecorded, [first, poison, third]);

    assert.deepEqual([...handled].sort(), [first.eventId, third.eventId].sort());
    assert.deepEqual(kafka.current.commits, [
      { topic: Topic.UsageRecorded, partition: 0, offset: '3' },
    ]);
    assert.equal(kafka.sent.length, 1, 'one dead letter');
    const [{ topic, messages }] = kafka.sent;
    assert.equal(topic, Topic.DeadLetter);
    const [letter] = messages;
    assert.deepEqual(letter.value, encodeEvent(poison).value, 'the event as it was');
    assert.equal(header(letter, DEAD_LETTER_HEADERS.code), 'HANDLER.FAILED');
    assert.equal(header(letter, DEAD_LETTER_HEADERS.offset), '1');
    assert.equal(header(letter, DEAD_LETTER_HEADERS.group), 'budget');
    assert.equal(header(letter, DEAD_LETTER_HEADERS.topic), Topic.UsageRecorded);
    assert.equal(header(letter, DEAD_LETTER_HEADERS.attempts), '3');
    const reason = header(letter, DEAD_LETTER_HEADERS.reason);
    assert.match(reason, /cannot apply/);
    assert.doesNotMatch(reason, /sk-live|Bearer sk/, 'secrets masked');
    assert.deepEqual(observed.deadLettered, [
      { group: 'budget', topic: Topic.UsageRecorded, rule: 'strikes' },
    ]);
    assert.ok(observed.retried >= 3, `retries counted (${observed.retried})`);
    await bus.close();
  });

  it('while every event fails (the store is down) keeps retrying, dead-letters nothing, and handles all once the store is back', async () => {
    const kafka = new FakeKafka();
    const observed = { retried: 0, deadLettered: [] as unknown[] };
    const bus = await busOn(kafka, observed);
    const events = [1, 2, 3].map((n) => numberedUsageEvent('bob', n));
    let storeDown = true;
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'usage-sink',
      topics: [Topic.UsageRecorded],
      handle: async (batch) => {
        if (storeDown) throw new Error('ClickHouse: connect ECONNREFUSED 127.0.0.1:8123');
        for (const e of batch) handled.add(e.eventId);
      },
    });
    let finished = false;
    const consumed = kafka.current.consume(Topic.UsageRecorded, events).then(() => {
      finished = true;
    });
    // Far more retry rounds than handlerAttempts.
    await until('retries go on', () => observed.retried >= 12);
    assert.equal(finished, false, 'the batch is still being retried');
    assert.deepEqual(kafka.sent, [], 'nothing dead-lettered');
    assert.deepEqual(kafka.current.commits, []);
    assert.equal(handled.size, 0);

    storeDown = false;
    await consumed;
    assert.deepEqual([...handled].sort(), events.map((e) => e.eventId).sort());
    assert.deepEqual(kafka.sent, []);
    assert.deepEqual(observed.deadLettered, []);
    assert.deepEqual(kafka.current.commits, [
      { topic: Topic.UsageRecorded, partition: 0, offset: '3' },
    ]);
    await bus.close();
  });

  it('a poison event fetched alone waits for company: once events behind it are handled, it is dead-lettered', async () => {
    const kafka = new FakeKafka();
    const observed = { retried: 0, deadLettered: [] as unknown[] };
    const bus = await busOn(kafka, observed);
    const [poison, later] = [1, 2].map((n) => numberedUsageEvent('dave', n));
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events) => {
        if (events.some((e) => e.eventId === poison.eventId)) throw new Error('cannot apply');
        for (const e of events) handled.add(e.eventId);
      },
    });
    const partition: GatewayEvent[] = [poison];
    const consumed = kafka.current.consume(Topic.UsageRecorded, partition);
    // Alone, it cannot be told from an outage: fetched again and again, never dead-lettered.
    await until('several fetches', () => kafka.current.fetches >= 5);
    assert.equal(kafka.sent.length, 0, 'nothing dead-lettered while it is alone');
    assert.deepEqual(kafka.current.commits, []);

    partition.push(later); // published behind it; the next fetch brings it along
    await consumed;
    assert.deepEqual([...handled], [later.eventId]);
    assert.equal(kafka.sent.length, 1, 'the poison event dead-lettered');
    assert.equal(header(kafka.sent[0].messages[0], DEAD_LETTER_HEADERS.offset), '0');
    assert.deepEqual(kafka.current.commits.at(-1), {
      topic: Topic.UsageRecorded,
      partition: 0,
      offset: '2',
    });
    await bus.close();
  });

  it('dead-letters an unreadable message once, though its batch is fetched again while the store is down', async () => {
    const kafka = new FakeKafka();
    const observed: Observed = { retried: 0, deadLettered: [], unreadable: [] };
    const bus = await busOn(kafka, observed);
    const [first, second] = [1, 2].map((n) => numberedUsageEvent('frank', n));
    let storeDown = true;
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'usage-sink',
      topics: [Topic.UsageRecorded],
      handle: async (events) => {
        if (storeDown) throw new Error('ClickHouse: connect ECONNREFUSED 127.0.0.1:8123');
        for (const e of events) handled.add(e.eventId);
      },
    });
    const consumed = kafka.current.consume(Topic.UsageRecorded, [
      first,
      Buffer.from('not an event'),
      second,
    ]);
    await until('the batch is fetched again and again', () => kafka.current.fetches >= 4);
    storeDown = false;
    await consumed;

    assert.deepEqual([...handled].sort(), [first.eventId, second.eventId].sort());
    assert.equal(kafka.sent.length, 1, 'one dead letter for the unreadable message');
    assert.equal(header(kafka.sent[0].messages[0], DEAD_LETTER_HEADERS.offset), '1');
    assert.equal(observed.unreadable?.length, 1, 'counted once');
    assert.equal(kafka.current.committedOf(0), '3');
    await bus.close();
  });

  it('a poison event alone on its partition is dead-lettered once, as other partitions are handled between its tries', async () => {
    const kafka = new FakeKafka();
    const observed: Observed = { retried: 0, deadLettered: [] };
    const bus = await busOn(kafka, observed);
    const poison = numberedUsageEvent('gina', 1);
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: handlerFailingOn(poison.eventId, 'cannot apply', handled),
    });
    let settled = false;
    const consumed = kafka.current
      .consume(Topic.UsageRecorded, [poison], 0)
      .then(() => (settled = true));
    // Partition 1 meanwhile: a new event now and then, handled at once.
    const traffic: GatewayEvent[] = [];
    for (const deadline = Date.now() + 3_000; !settled && Date.now() < deadline;) {
      traffic.push(numberedUsageEvent('hank', traffic.length + 1));
      await kafka.current.deliver(Topic.UsageRecorded, traffic, traffic.length - 1, 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(settled, 'the lone poison event is no longer fetched again');
    await consumed;

    assert.deepEqual(
      [...handled].sort(),
      traffic.map((e) => e.eventId).sort(),
      'every other event handled',
    );
    assert.equal(kafka.sent.length, 1, 'one dead letter');
    const [letter] = kafka.sent[0].messages;
    assert.deepEqual(letter.value, encodeEvent(poison).value);
    assert.equal(header(letter, DEAD_LETTER_HEADERS.partition), '0');
    assert.equal(header(letter, DEAD_LETTER_HEADERS.attempts), '3');
    assert.deepEqual(observed.deadLettered, [
      { group: 'budget', topic: Topic.UsageRecorded, rule: 'strikes' },
    ]);
    assert.equal(kafka.current.committedOf(0), '1', 'its partition moves past it');
    await bus.close();
  });
});

/**
 * A Kafka whose dead-letter topic was deleted while the bus ran (its sends fail with
 * UNKNOWN_TOPIC_OR_PARTITION until it is created again), and whose admin may be refused
 * CreateTopics (a principal without the right).
 */
class DeadLetterTopicGoneKafka extends FakeKafka {
  gone = true;
  createRefused = true;
  eventsSent = 0;
  private readonly topics = new Set<string>();

  override producer() {
    const producer = super.producer();
    return {
      ...producer,
      send: async (record: { topic: string; messages: Message[] }) => {
        if (this.gone && record.topic === String(Topic.DeadLetter)) {
          throw Object.assign(new Error('This server does not host this topic-partition'), {
            type: 'UNKNOWN_TOPIC_OR_PARTITION',
          });
        }
        return producer.send(record);
      },
      // The bus's own events: their topics are there.
      sendBatch: async ({ topicMessages }: { topicMessages: { topic: string }[] }) => {
        this.eventsSent += topicMessages.length;
      },
    };
  }

  admin() {
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      describeCluster: async () => ({ brokers: [{ nodeId: 0 }] }),
      listTopics: async () => (this.gone ? [] : [...this.topics]),
      createTopics: async ({ topics }: { topics: { topic: string }[] }) => {
        if (this.createRefused) {
          throw Object.assign(new Error('Not authorized to access topics'), {
            type: 'TOPIC_AUTHORIZATION_FAILED',
            retriable: false,
          });
        }
        for (const { topic } of topics) this.topics.add(topic);
        this.gone = false;
        return true;
      },
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
        topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 0 }] })),
      }),
    };
  }
}

describe('KafkaEventBus with its dead-letter topic deleted', () => {
  it('says once that the topic is missing and that it could not be created, however often the partition tries; the letter goes once it can be', async () => {
    const kafka = new DeadLetterTopicGoneKafka();
    const warnings: string[] = [];
    const bus = new KafkaEventBus(kafka as unknown as Kafka, {
      spool: new EventSpool(join(dir, `spool-${++files}.db`)),
      retryMinMs: 2,
      retryMaxMs: 10,
      logger: { info: () => undefined, warn: (msg) => void warnings.push(msg), error: () => {} },
    });
    kafka.createRefused = false;
    await bus.start(); // creates the topics the fake does not list
    kafka.gone = true;
    kafka.createRefused = true;
    const [first, second] = [1, 2].map((n) => numberedUsageEvent('ivy', n));
    await bus.subscribe({ group: 'budget', topics: [Topic.UsageRecorded], handle: async () => {} });
    const partition = [first, Buffer.from('not an event'), second];
    // kafkajs fetches a failed batch again from the last offset committed.
    const fetch = () =>
      kafka.current
        .deliver(Topic.UsageRecorded, partition, Number(kafka.current.committedOf(0) ?? 0))
        .catch(() => undefined);
    for (let i = 0; i < 5; i++) await fetch();
    const count = (text: string) => warnings.filter((w) => w.includes(text)).length;
    assert.equal(count('dead-letter topic is missing'), 1, warnings.join('\n'));
    assert.equal(count('could not be created'), 1, warnings.join('\n'));
    assert.notEqual(kafka.current.committedOf(0), '3', 'the partition waits on the letter');
    // Meanwhile events still go to their own topics, which are there.
    bus.publish(numberedUsageEvent('ivy', 3));
    await until('the event is sent', () => kafka.eventsSent > 0);

    kafka.createRefused = false;
    for (let i = 0; i < 5 && kafka.current.committedOf(0) !== '3'; i++) await fetch();
    assert.equal(kafka.current.committedOf(0), '3', 'lettered, and the partition goes on');
    assert.equal(kafka.sent.filter((s) => s.topic === String(Topic.DeadLetter)).length, 1);
    await bus.close();
  });
});
