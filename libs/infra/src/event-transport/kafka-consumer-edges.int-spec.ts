// KafkaEventBus consumers at their edges, against the real broker of the run: large
// unreadable messages on their way to the dead-letter topic, and a stop while a handler
// works. Each test uses its own topic prefix and groups.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import {
  createRequestPayloadLogged,
  encodeEvent,
  GatewayEndpoint,
  Topic,
  type GatewayEvent,
} from '@aigw/contracts';
import { numberedUsageEvent, until } from '@aigw/testing';
import { deadLettersOnceThere, realKafkaBuses } from '../testing/real-kafka-buses';
import { DEAD_LETTER_HEADERS } from './kafka-event-bus';

const real = realKafkaBuses('consumer-edges', 2);
const { openBus } = real;

/** The offsets a group committed on a topic, summed over its partitions (none = 0). */
async function committedTotal(groupId: string, topic: string): Promise<number> {
  const admin = real.kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return committed.partitions.reduce((sum, p) => sum + Math.max(Number(p.offset), 0), 0);
  } finally {
    await admin.disconnect();
  }
}

const prefixFor = (name: string): string => `it.${name}.${randomUUID().slice(0, 8)}.`;

function payloadEvent(user: string): GatewayEvent {
  return createRequestPayloadLogged({
    requestId: `req-${randomUUID()}`,
    partitionKey: user,
    userId: user,
    endpoint: GatewayEndpoint.ChatCompletions,
    modelRequested: 'gpt-4o',
    stream: false,
    httpStatus: 200,
    startedAt: new Date().toISOString(),
    requestBody: 'hi',
    requestTruncated: false,
    requestBytes: 2,
    responseBody: 'hello',
    responseTruncated: false,
    responseBytes: 5,
    latencyMs: 1,
  });
}

describe('KafkaEventBus consumers at their edges', () => {
  it('keeps the raw bytes of the largest unreadable message a source topic takes', async () => {
    const prefix = prefixFor('dlq-raw');
    const bus = await openBus(prefix);
    const topic = `${prefix}${Topic.RequestPayload}`;
    const unreadable = Buffer.alloc(1_900_000, 'x'); // under the payload topic's 2 MiB
    const raw = real.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    await raw.send({ topic, messages: [{ key: 'big-user', value: unreadable }] });
    await raw.disconnect();
    const omitted: string[] = [];
    await bus.subscribe({
      group: 'usage-sink',
      topics: [Topic.RequestPayload],
      handle: async () => undefined,
    });
    const sizes: number[] = [];
    const reader = real.kafka.consumer({ groupId: `${prefix}dlq-reader` });
    await reader.connect();
    await reader.subscribe({ topics: [`${prefix}${Topic.DeadLetter}`], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        sizes.push(message.value?.length ?? 0);
        omitted.push(String(message.headers?.[DEAD_LETTER_HEADERS.omittedBytes] ?? ''));
      },
    });
    try {
      await until('the dead letter', () => sizes.length >= 1);
    } finally {
      await reader.disconnect();
    }
    assert.deepEqual(sizes, [unreadable.length], 'the value as it was');
    assert.deepEqual(omitted, [''], 'nothing omitted');
  });

  it('dead-letters an unreadable message larger than the dead-letter topic takes, and the partition goes on', async () => {
    const prefix = prefixFor('dlq-large');
    // A cluster whose dead-letter topic predates its larger limit: the broker's default.
    const admin = real.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: `${prefix}${Topic.DeadLetter}`, numPartitions: 1 }],
      });
    } finally {
      await admin.disconnect();
    }
    const rejected: { topic: string; code: string }[] = [];
    const bus = await openBus(prefix, { deadLettered: (labels) => rejected.push(labels) });
    const topic = `${prefix}${Topic.RequestPayload}`;
    // 1.5 MB: within the payload topic's 2 MiB max.message.bytes, past the dead-letter
    // topic's (the broker's default, about 1 MB).
    const unreadable = Buffer.alloc(1_500_000, 'x');
    const later = payloadEvent('big-user');
    const raw = real.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    await raw.send({
      topic,
      messages: [
        { key: 'big-user', value: unreadable, headers: { origin: 'test' } },
        { key: 'big-user', value: encodeEvent(later).value },
      ],
    });
    await raw.disconnect();

    const handled: string[] = [];
    await bus.subscribe({
      group: 'usage-sink',
      topics: [Topic.RequestPayload],
      handle: async (events) => void handled.push(...events.map((e) => e.eventId)),
    });
    await until('the event behind the unreadable one', () => handled.includes(later.eventId));

    const letters = await deadLettersOnceThere(real.kafka, prefix, 1, 'the dead letter');
    const [letter] = letters;
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.code], 'CONTRACTS.MALFORMED_JSON');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.topic], topic);
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.offset], '0');
    assert.equal(letter.headers.origin, 'test', 'the original headers are kept');
    assert.equal(letter.size, 0, 'the value too large to forward is left in its own topic');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.omittedBytes], String(unreadable.length));
    assert.deepEqual(rejected, [{ topic, code: 'CONTRACTS.MALFORMED_JSON' }]);
  });

  it('commits the batch a handler finished while the consumers were stopping', async () => {
    const prefix = prefixFor('stop-commit');
    const bus = await openBus(prefix);
    const topic = `${prefix}${Topic.UsageRecorded}`;
    let entered = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events) => {
        entered = true;
        await released;
        handled.push(...events.map((e) => e.eventId));
      },
    });
    const event = numberedUsageEvent('stopping-user', 1);
    bus.publish(event);
    await bus.flush();
    await until('the handler to start', () => entered);

    // SIGTERM while the handler works: the stop waits for it, and its batch is committed,
    // so the next start does not hand the same events over again.
    const stopped = bus.stopConsumers();
    await new Promise((r) => setTimeout(r, 300));
    release();
    await stopped;
    assert.deepEqual(handled, [event.eventId]);
    assert.equal(await committedTotal(`${prefix}budget`, topic), 1);
  });
});
