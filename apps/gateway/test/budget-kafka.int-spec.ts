import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { startKafka, startRedis, type RealService } from '@aigw/testing';
import { describeBudgetScenarios } from './budget-scenarios';

// The same scenarios with the events on real Kafka and the balances in real Redis: usage
// reaches the settler through a consumer group, exhaustion comes back through the
// compacted budget-state topic into the gateway's local view. Each gateway gets its own
// topic and group namespace on the shared broker.
let redis: Promise<RealService> | undefined;
let kafka: Promise<RealService> | undefined;
describeBudgetScenarios('Kafka events, Redis store', async () => ({
  REDIS_URL: (await (redis ??= startRedis())).url,
  KAFKA_BROKERS: (await (kafka ??= startKafka())).url,
  AI_GATEWAY_KAFKA_TOPIC_PREFIX: `it.${randomUUID().slice(0, 8)}.`,
}));
after(async () => {
  await (await redis)?.stop();
  await (await kafka)?.stop();
});
