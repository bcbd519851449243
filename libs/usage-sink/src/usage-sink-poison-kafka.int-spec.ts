// The usage sink on the real broker of the run, with one event its store always refuses,
// alone on its partition while other partitions' events keep coming: the refused event is
// dead-lettered once (code HANDLER.FAILED), every other event is stored, and the group
// commits to the end of every partition.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { encodeEvent, Topic, type GatewayEvent } from '@aigw/contracts';
import { createKafka, DEAD_LETTER_HEADERS, EventSpool, KafkaEventBus } from '@aigw/infra';
import { numberedUsageEvent, startKafka, until, type RealService } from '@aigw/testing';
import { Partitioners, type Kafka } from 'kafkajs';
import { SqliteUsageStore } from './embedded/sqlite-usage.store';
import { USAGE_SINK_GROUP, UsageSinkConsumer } from './usage-sink.consumer';

const PARTITIONS = 6;

let broker: RealService;
const dir = mkdtempSync(join(tmpdir(), 'aigw-sink-poison-'));
const closers: (() => Promise<void> | void)[] = [];

before(async () => {
  broker = await startKafka();
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The partition kafkajs' default partitioner sends an event to. */
function partitionOf(event: GatewayEvent): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  const { key, value } = encodeEvent(event);
  return partitioner({ topic: 'usage', partitionMetadata, message: { key, value } });
}

/** Every letter on `prefix`'s dead-letter topic so far: its event id and headers. */
async function deadLetters(
  kafka: Kafka,
  prefix: string,
): Promise<{
  letters: { eventId: string; headers: Record<string, string> }[];
  stop: () => Promise<void>;
}> {
  const letters: { eventId: string; headers: Record<string, string> }[] = [];
  const reader = kafka.consumer({ groupId: `${prefix}dlq-reader` });
  await reader.connect();
  await reader.subscribe({ topics: [`${prefix}${Topic.DeadLetter}`], fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      letters.push({ eventId: JSON.parse(String(message.value)).eventId, headers });
    },
  });
  return { letters, stop: () => reader.disconnect() };
}

it('dead-letters once an event the store refuses, alone on its partition, and stores the others', async () => {
  const kafka = createKafka({ clientId: 'usage-sink-poison-int-spec', brokers: broker.url });
  const prefix = `it.sink-poison.${randomUUID().slice(0, 8)}.`;
  const handlerDeadLettered: { group: string; topic: string; rule: string }[] = [];
  const bus = new KafkaEventBus(kafka, {
    spool: new EventSpool(join(dir, 'spool.db')),
    topicPrefix: prefix,
    retryMinMs: 100,
    retryMaxMs: 1_000,
    observer: { handlerDeadLettered: (labels) => handlerDeadLettered.push(labels) },
  });
  closers.push(() => bus.close());
  await bus.start({ topicPartitions: PARTITIONS });

  const poison = numberedUsageEvent('refused-user', 1);
  const poisonPartition = partitionOf(poison);
  // Users whose events land on other partitions than the refused event's.
  const users = Array.from({ length: 60 }, (_, n) => `busy-user-${n}`).filter(
    (user) => partitionOf(numberedUsageEvent(user, 0)) !== poisonPartition,
  );
  assert.ok(users.length >= 10, 'enough users on the other partitions');

  const store = new SqliteUsageStore(join(dir, 'analytics.db'));
  closers.push(() => store.close());
  const stored = new Set<string>();
  const sink = new UsageSinkConsumer(
    {
      write: async (batch) => {
        if (batch.some((e) => e.eventId === poison.eventId)) {
          throw new Error("Code: 27. DB::Exception: Cannot parse input: expected '\"'");
        }
        await store.write(batch);
        for (const e of batch) stored.add(e.eventId);
      },
    },
    // The split usage-sink's batching: deliveries of many partitions share one write.
    { maxItems: 1_000, maxWaitMs: 1_000 },
  );
  const readLetters = await deadLetters(kafka, prefix);
  closers.push(() => readLetters.stop());

  bus.publish(poison);
  const published: GatewayEvent[] = [];
  const publishSome = async (round: number) => {
    for (const user of users.slice(0, 10)) {
      const event = numberedUsageEvent(user, round);
      published.push(event);
      bus.publish(event);
    }
    await bus.flush();
  };
  await publishSome(1);
  await bus.subscribe(sink);
  // Other partitions' traffic goes on while the refused event is retried.
  for (let round = 2; readLetters.letters.length === 0 && round < 100; round++) {
    await publishSome(round);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  await until('every other event is stored', () => published.every((e) => stored.has(e.eventId)));
  await until('the group commits to the end of every partition', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = `${prefix}${Topic.UsageRecorded}`;
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({
        groupId: `${prefix}${USAGE_SINK_GROUP}`,
        topics: [topic],
      });
      // A partition nothing was sent to has no commit (-1) and ends at 0.
      const committedAt = (partition: number) =>
        Math.max(Number(committed.partitions.find((p) => p.partition === partition)?.offset), 0);
      return ends.every((end) => committedAt(end.partition) === Number(end.high));
    } finally {
      await admin.disconnect();
    }
  });
  // A moment for any second letter to show.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(readLetters.letters.length, 1, 'one dead letter');
  const [letter] = readLetters.letters;
  assert.equal(letter.eventId, poison.eventId);
  assert.equal(letter.headers[DEAD_LETTER_HEADERS.code], 'HANDLER.FAILED');
  assert.equal(letter.headers[DEAD_LETTER_HEADERS.partition], String(poisonPartition));
  assert.match(letter.headers[DEAD_LETTER_HEADERS.reason], /Cannot parse input/);
  assert.equal(stored.has(poison.eventId), false);
  assert.deepEqual(handlerDeadLettered, [
    { group: USAGE_SINK_GROUP, topic: `${prefix}${Topic.UsageRecorded}`, rule: 'strikes' },
  ]);
});
