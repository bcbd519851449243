import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaAtStart } from './service-runtime';

test('the data-plane roles may start while Kafka does not answer; the consuming ones may not', () => {
  for (const app of ['ingress', 'router', 'provider-adapter']) {
    assert.equal(kafkaAtStart({ app }), 'optional', app);
  }
  for (const app of ['budget', 'usage-sink', 'gateway']) {
    assert.equal(kafkaAtStart({ app }), 'required', app);
  }
  assert.equal(kafkaAtStart({ app: 'ingress', kafkaAtStart: 'required' }), 'required');
  assert.equal(kafkaAtStart({ app: 'budget', kafkaAtStart: 'optional' }), 'optional');
});
