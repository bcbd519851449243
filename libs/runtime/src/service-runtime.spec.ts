import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaTopicPrefix, spoolMaxBytes } from './service-runtime';

test('AI_GATEWAY_SPOOL_MAX_BYTES: default 256 MiB, a positive whole number otherwise', () => {
  assert.equal(spoolMaxBytes({}), 256 * 1024 * 1024);
  assert.equal(spoolMaxBytes({ AI_GATEWAY_SPOOL_MAX_BYTES: '1048576' }), 1_048_576);
  for (const bad of ['0', '-5', '1.5', '10MB']) {
    assert.throws(
      () => spoolMaxBytes({ AI_GATEWAY_SPOOL_MAX_BYTES: bad }),
      /AI_GATEWAY_SPOOL_MAX_BYTES must be a positive whole number/,
    );
  }
});

test('AI_GATEWAY_KAFKA_TOPIC_PREFIX: empty by default, a topic-safe name otherwise', () => {
  assert.equal(kafkaTopicPrefix({}), '');
  assert.equal(kafkaTopicPrefix({ AI_GATEWAY_KAFKA_TOPIC_PREFIX: 'staging.' }), 'staging.');
  assert.throws(() => kafkaTopicPrefix({ AI_GATEWAY_KAFKA_TOPIC_PREFIX: 'a/b' }), /may hold only/);
});
