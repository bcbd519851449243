import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { startKafka, startRedis, type RealService } from '@aigw/testing';
import { createKafka, prepareEventTopics, replayTopic } from '@aigw/infra';
import { describeBudgetScenarios, type RecordedEvent } from './budget-scenarios';

// The same scenarios with the events on real Kafka and the balances in real Redis: usage
// reaches the settler through a consumer group, exhaustion comes back through the
// compacted budget-state topic into the gateway's local view. The gateways of this file
// share one topic and group namespace on the shared broker, as restarts of one
// deployment would; its topics are made up front with few partitions (a test broker).
const prefix = `it.budget.${randomUUID().slice(0, 8)}.`;
let redis: RealService;
let kafka: RealService;

before(async () => {
  [redis, kafka] = await Promise.all([startRedis(), startKafka()]);
  await prepareEventTopics(kafka.url, { prefix, partitions: 3 });
});
after(async () => {
  await redis?.stop();
  await kafka?.stop();
});

describeBudgetScenarios(
  'Kafka events, Redis store',
  async () => ({
    REDIS_URL: redis.url,
    KAFKA_BROKERS: kafka.url,
    AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
  }),
  // The events as a consumer reads them: the topic from its start to its current end.
  async (_dataDir, topic) => {
    const events: RecordedEvent[] = [];
    const client = createKafka({ clientId: 'budget-scenarios-reader', brokers: kafka.url });
    await replayTopic(client, topic, { prefix }, async (batch) => {
      for (const event of batch) events.push({ ...event });
    });
    return events;
  },
);
