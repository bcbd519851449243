// Through a real broker: topics created with their settings, an idempotent producer, and
// a consumer group that decodes @aigw/contracts' TokenUsageRecorded (class-validator).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import {
  createTokenUsageRecorded,
  decodeEvent,
  encodeEvent,
  Topic,
  TOPIC_SETTINGS,
  UsageSource,
  type TokenUsageRecorded,
} from '@aigw/contracts';
import { startKafka, type RealService } from '@aigw/testing';
import { createKafka } from './kafka-client';
import { GroupConsumer, type ConsumedMessage, type InvalidMessage } from './group-consumer';
import { JsonProducer } from './json-producer';
import { ensureTopics, type TopicSpec } from './topics';

let broker: RealService;
let kafka: Kafka;

before(async () => {
  broker = await startKafka();
  kafka = createKafka({ clientId: 'infra-int-spec', brokers: broker.url });
});
after(async () => broker?.stop());

function usage(userId: string, requestId: string): TokenUsageRecorded {
  return createTokenUsageRecorded({
    partitionKey: userId,
    requestId,
    userId,
    inputTokens: 120,
    outputTokens: 30,
    cachedInputTokens: 0,
    usageSource: UsageSource.Reported,
    modelRequested: 'gpt-4o-mini',
    modelServed: 'gpt-4o-mini',
    provider: 'openai',
    backend: 'openai-main',
    costDollars: 0.0012,
    weightedTokenCost: 150,
    cacheHit: false,
  });
}

test('topics are created once, with partitions, retention and cleanup policy', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const suffix = randomUUID().slice(0, 8);
    const specs: TopicSpec[] = [
      {
        topic: `it.usage.${suffix}`,
        partitions: 3,
        retentionMs: 3_600_000,
        cleanupPolicy: 'delete',
      },
      { topic: `it.state.${suffix}`, partitions: 2, retentionMs: -1, cleanupPolicy: 'compact' },
    ];
    assert.deepEqual(
      await ensureTopics(admin, specs),
      specs.map((s) => s.topic),
    );
    assert.deepEqual(await ensureTopics(admin, specs), [], 'a second start creates nothing');

    const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
    assert.deepEqual(
      metadata.topics.map((t) => [t.name, t.partitions.length]).sort(),
      specs.map((s) => [s.topic, s.partitions]).sort(),
    );
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: specs.map((s) => ({
        type: ConfigResourceTypes.TOPIC,
        name: s.topic,
        configNames: ['cleanup.policy', 'retention.ms'],
      })),
    });
    const seen = Object.fromEntries(
      configs.resources.map((r) => [
        r.resourceName,
        Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
      ]),
    );
    assert.deepEqual(seen[specs[0].topic], {
      'cleanup.policy': 'delete',
      'retention.ms': '3600000',
    });
    assert.deepEqual(seen[specs[1].topic], { 'cleanup.policy': 'compact', 'retention.ms': '-1' });
  } finally {
    await admin.disconnect();
  }
});

test('contract events round-trip: idempotent producer to consumer group, bad ones dead-lettered', async () => {
  const admin = kafka.admin();
  await admin.connect();
  const settings = TOPIC_SETTINGS[Topic.UsageRecorded];
  // The contracts' topic name, as the services create it (fewer partitions: test broker).
  await ensureTopics(admin, [
    {
      topic: Topic.UsageRecorded,
      partitions: 3,
      retentionMs: settings.retentionMs,
      cleanupPolicy: settings.cleanupPolicy,
    },
  ]);
  await admin.disconnect();

  const producer = new JsonProducer(kafka);
  const received: ConsumedMessage<TokenUsageRecorded>[] = [];
  const invalid: InvalidMessage[] = [];
  const runId = randomUUID();
  const events = [
    usage('alice', `${runId}-1`),
    usage('bob', `${runId}-2`),
    usage('alice', `${runId}-3`),
  ];
  let done!: () => void;
  const allSeen = new Promise<void>((resolve) => (done = resolve));
  const consumer = new GroupConsumer<TokenUsageRecorded>(kafka, {
    groupId: `infra-int-spec-${runId}`,
    topics: [Topic.UsageRecorded],
    decode: (_topic, raw) => decodeEvent(Topic.UsageRecorded, raw),
    handle: async (message) => {
      if (!message.value.requestId.startsWith(runId)) return;
      received.push(message);
      if (received.length === events.length && invalid.length === 1) done();
    },
    onInvalid: async (message) => {
      invalid.push(message);
      if (received.length === events.length && invalid.length === 1) done();
    },
  });
  try {
    await producer.connect();
    await consumer.start();
    const encoded = events.map((e) => encodeEvent(e, { validate: true }));
    await producer.send(
      Topic.UsageRecorded,
      encoded.map((e) => ({ key: e.key, value: e.value, headers: e.headers })),
    );
    // A payload that breaks the contract (negative tokens) is routed aside, not retried.
    await producer.send(Topic.UsageRecorded, [
      { key: 'mallory', value: { ...usage('mallory', `${runId}-bad`), inputTokens: -1 } },
    ]);
    await withTimeout(allSeen, 30_000, 'messages did not all arrive');

    assert.deepEqual(
      received.map((m) => m.value.requestId).sort(),
      events.map((e) => e.requestId).sort(),
    );
    for (const message of received) {
      assert.equal(
        message.key,
        message.value.userId,
        'keyed by user: one user stays on one partition',
      );
      assert.equal(message.headers['aigw-event-type'], 'usage.recorded');
      assert.equal(typeof message.value.inputTokens, 'number');
    }
    const alice = received.filter((m) => m.value.userId === 'alice');
    assert.equal(new Set(alice.map((m) => m.partition)).size, 1);
    assert.match(invalid[0].reason, /inputTokens/);
  } finally {
    await consumer.stop();
    await producer.disconnect();
  }
});

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
