// A topic deleted while the services run (an operator purging logged prompts, a cleanup
// script): Kafka answers every other topic, but a batch holding one event of the missing
// topic is refused whole, and replayed first from the spool it held back every later event,
// usage included, until the service restarted (its start creates missing topics). Nothing
// was billed meanwhile, and the transport read as down while Kafka was up. The bus creates
// the missing topic again and sends on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { Partitioners } from 'kafkajs';
import { createFallbackOccurred, encodeEvent, FallbackReason, Topic } from '@aigw/contracts';
import { numberedUsageEvent, until } from '@aigw/testing';
import { deadLettersOnceThere, realKafkaBuses } from '../testing/real-kafka-buses';

const kafka = realKafkaBuses('topic-deleted', 2);

function fallback() {
  return createFallbackOccurred({
    requestId: 'req-fallback',
    partitionKey: 'alice',
    userId: 'alice',
    modelRequested: 'gpt-4o',
    fromBackend: 'primary',
    fromProvider: 'openai',
    fromModel: 'gpt-4o',
    toBackend: 'secondary',
    toProvider: 'anthropic',
    toModel: 'claude-sonnet-4',
    reason: FallbackReason.Error,
    attempt: 1,
  });
}

it('creates a topic deleted while it runs again, and every event behind it goes out', async () => {
  const prefix = `it.topic-deleted.${randomUUID().slice(0, 8)}.`;
  const bus = await kafka.openBus(prefix);
  const usage = new Set<string>();
  const fallbacks: string[] = [];
  await bus.subscribe({
    group: 'topic-deleted',
    topics: [Topic.UsageRecorded],
    handle: async (events) => events.forEach((event) => usage.add(event.eventId)),
  });
  for (let n = 0; n < 5; n++) bus.publish(numberedUsageEvent('alice', n));
  await until('usage flowing', () => usage.size === 5);

  const fallbackTopic = `${prefix}${Topic.Fallback}`;
  const admin = kafka.kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [fallbackTopic] });
    await until(
      'the topic is gone',
      async () => !(await admin.listTopics()).includes(fallbackTopic),
    );

    const event = fallback();
    for (let n = 5; n < 10; n++) {
      bus.publish(numberedUsageEvent('alice', n));
      if (n === 6) bus.publish(event);
    }
    await until('every usage event behind the missing topic arrives', () => usage.size === 10, {
      deadlineMs: 30_000,
    });
    await until('the spool is empty', () => bus.spooledCount === 0, { deadlineMs: 10_000 });
    assert.equal(bus.status().state, 'connected');
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [fallbackTopic] })).topics;
    assert.equal(metadata.partitions.length, 2, 'created again as the bus creates its topics');
    const offsets = await admin.fetchTopicOffsets(fallbackTopic);
    fallbacks.push(...offsets.filter((p) => Number(p.high) > 0).map((p) => p.high));
    assert.deepEqual(fallbacks, ['1'], 'the event of the missing topic went out too');
  } finally {
    await admin.disconnect();
  }
});

// The dead-letter topic deleted: a message no consumer can read could not be lettered, and
// its partition (the usage of every user hashed to it) was held there until a restart.
it('creates the dead-letter topic again when a letter finds it missing, and the partition goes on', async () => {
  const prefix = `it.letters-deleted.${randomUUID().slice(0, 8)}.`;
  const bus = await kafka.openBus(prefix);
  const handled: string[] = [];
  await bus.subscribe({
    group: 'letters-deleted',
    topics: [Topic.UsageRecorded],
    handle: async (events) => events.forEach((event) => handled.push(event.eventId)),
  });
  const admin = kafka.kafka.admin();
  await admin.connect();
  const letters = `${prefix}${Topic.DeadLetter}`;
  try {
    await admin.deleteTopics({ topics: [letters] });
    await until('the topic is gone', async () => !(await admin.listTopics()).includes(letters));
  } finally {
    await admin.disconnect();
  }
  const good = [numberedUsageEvent('bob', 1), numberedUsageEvent('bob', 2)];
  const raw = kafka.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await raw.connect();
  try {
    await raw.send({
      topic: `${prefix}${Topic.UsageRecorded}`,
      messages: [
        { key: 'bob', value: encodeEvent(good[0]).value },
        { key: 'bob', value: 'not json at all' },
        { key: 'bob', value: encodeEvent(good[1]).value },
      ],
    });
  } finally {
    await raw.disconnect();
  }
  await until('the usage behind the unreadable message is handled', () => handled.length === 2, {
    deadlineMs: 30_000,
  });
  assert.deepEqual(
    handled,
    good.map((event) => event.eventId),
  );
  const [letter] = await deadLettersOnceThere(kafka.kafka, prefix, 1, 'the letter');
  assert.equal(letter.value, 'not json at all');
});
