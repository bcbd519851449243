import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBrokers } from './kafka-client';
import { topicConfig } from './topics';

test('KAFKA_BROKERS is a comma-separated host:port list', () => {
  assert.deepEqual(parseBrokers('kafka:9092, 127.0.0.1:19092'), ['kafka:9092', '127.0.0.1:19092']);
  assert.throws(() => parseBrokers(undefined), /not set/);
  assert.throws(() => parseBrokers('kafka'), /host:port/);
});

test('topic specs become kafkajs topic configs', () => {
  assert.deepEqual(
    topicConfig({
      topic: 't',
      partitions: 6,
      retentionMs: -1,
      cleanupPolicy: 'compact',
      config: { 'segment.ms': '60000' },
    }),
    {
      topic: 't',
      numPartitions: 6,
      replicationFactor: 1,
      configEntries: [
        { name: 'segment.ms', value: '60000' },
        { name: 'retention.ms', value: '-1' },
        { name: 'cleanup.policy', value: 'compact' },
      ],
    },
  );
});
