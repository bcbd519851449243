// Events the Kafka producer refuses (full or failing disk spool) reach
// ai_gateway_events_rejected_total with their own code, as the embedded log's
// EVENT_LOG.BACKLOG_FULL refusals do, so one alert covers both shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from '@aigw/observability';
import { kafkaEventMetrics, kafkaRefusalCode } from './kafka-event-metrics';

const rejectedLines = async (metrics: MetricsRegistry): Promise<string[]> =>
  (await metrics.metrics())
    .split('\n')
    .filter((line) => line.startsWith('ai_gateway_events_rejected_total{'))
    .sort();

test('events a full or failing spool refused are counted by topic, each under its code', async () => {
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const observer = kafkaEventMetrics(metrics);
  observer.refused?.({ topic: 'usage.recorded', reason: 'full' }, 3);
  observer.refused?.({ topic: 'usage.recorded', reason: 'full' }, 2);
  observer.refused?.({ topic: 'request.completed', reason: 'write-failed' }, 1);
  observer.deadLettered?.({ topic: 'usage.recorded', code: 'EVENT.UNKNOWN_VERSION' });
  assert.deepEqual(await rejectedLines(metrics), [
    'ai_gateway_events_rejected_total{topic="request.completed",code="PRODUCER.SPOOL_WRITE_FAILED"} 1',
    'ai_gateway_events_rejected_total{topic="usage.recorded",code="EVENT.UNKNOWN_VERSION"} 1',
    'ai_gateway_events_rejected_total{topic="usage.recorded",code="PRODUCER.SPOOL_FULL"} 5',
  ]);
});

test('the refusal codes of every reason the bus gives', () => {
  assert.equal(kafkaRefusalCode('full'), 'PRODUCER.SPOOL_FULL');
  assert.equal(kafkaRefusalCode('write-failed'), 'PRODUCER.SPOOL_WRITE_FAILED');
  assert.equal(kafkaRefusalCode('too-large'), 'PRODUCER.SPOOL_TOO_LARGE');
  assert.equal(kafkaRefusalCode('closed'), 'PRODUCER.SPOOL_CLOSED');
});

test('the spool depth, consumer lag and replacements go to their gauges and counter', async () => {
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const observer = kafkaEventMetrics(metrics);
  observer.spoolDepth?.(42);
  observer.consumerLag?.({ group: 'budget', topic: 'usage.recorded', partition: 0 }, 7);
  observer.consumerReplaced?.({ group: 'budget', reason: 'stalled' });
  const text = (await metrics.metrics()).split('\n');
  for (const line of [
    'ai_gateway_kafka_producer_spool_depth 42',
    'ai_gateway_kafka_consumer_lag{group="budget",topic="usage.recorded",partition="0"} 7',
    'ai_gateway_kafka_consumer_replacements_total{group="budget",reason="stalled"} 1',
  ]) {
    assert.ok(text.includes(line), `missing: ${line}`);
  }
});

test('events dead-lettered for their handler are counted by group, topic and rule, handler retries by group and topic', async () => {
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const observer = kafkaEventMetrics(metrics);
  observer.handlerRetried?.({ group: 'budget', topic: 'usage.recorded' });
  observer.handlerRetried?.({ group: 'budget', topic: 'usage.recorded' });
  observer.handlerDeadLettered?.({ group: 'budget', topic: 'usage.recorded', rule: 'strikes' });
  observer.handlerDeadLettered?.({ group: 'budget', topic: 'usage.recorded', rule: 'quiet-topic' });
  observer.handlerDeadLettered?.({ group: 'budget', topic: 'usage.recorded', rule: 'quiet-topic' });
  const text = (await metrics.metrics()).split('\n');
  for (const line of [
    'ai_gateway_event_handler_retries_total{group="budget",topic="usage.recorded"} 2',
    'ai_gateway_event_handler_dead_lettered_total{group="budget",topic="usage.recorded",rule="strikes"} 1',
    'ai_gateway_event_handler_dead_lettered_total{group="budget",topic="usage.recorded",rule="quiet-topic"} 2',
  ]) {
    assert.ok(text.includes(line), `missing: ${line}`);
  }
  assert.deepEqual(await rejectedLines(metrics), [], 'not counted as undecodable');
});

test('a partition the bus no longer consumes loses its lag series, the others keep theirs', async () => {
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const observer = kafkaEventMetrics(metrics);
  observer.consumerLag?.({ group: 'budget', topic: 'usage.recorded', partition: 0 }, 12_000);
  observer.consumerLag?.({ group: 'budget', topic: 'usage.recorded', partition: 1 }, 3);
  observer.consumerLagGone?.({ group: 'budget', topic: 'usage.recorded', partition: 0 });
  const lagLines = (await metrics.metrics())
    .split('\n')
    .filter((line) => line.startsWith('ai_gateway_kafka_consumer_lag{'));
  assert.deepEqual(lagLines, [
    'ai_gateway_kafka_consumer_lag{group="budget",topic="usage.recorded",partition="1"} 3',
  ]);
});
