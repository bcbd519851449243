// The consumer lag a replica reports covers the partitions it owns now: a rebalance that
// moves one away, a replaced consumer and a stopped bus drop theirs (a stale number on a
// replica that no longer consumes the partition would page until the pod restarts), and an
// idle partition's lag is read from the broker. The real broker is in
// kafka-consumer-lag.int-spec.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Topic } from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import { type KafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus';
import type { ConsumerLagObserver } from './consumer-lag';
import { busOnFakeKafka, EVENTS, FakeKafka, pollUntil } from '../testing/fake-kafka-consumer';

const dir = mkdtempSync(join(tmpdir(), 'aigw-bus-lag-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T = Topic.UsageRecorded;

/** The lag gauge as the registry keeps it: a label set is there until it is removed. */
function lagGauge() {
  const series = new Map<string, number>();
  const name = (l: { group: string; topic: string; partition: number }) =>
    `${l.group} ${l.topic}:${l.partition}`;
  const observer: ConsumerLagObserver = {
    consumerLag: (labels, lag) => series.set(name(labels), lag),
    consumerLagGone: (labels) => series.delete(name(labels)),
  };
  return { observer, series: () => Object.fromEntries([...series].sort()) };
}

function busOn(kafka: FakeKafka, options: Partial<KafkaEventBusOptions> = {}): KafkaEventBus {
  // the tests that want lag refreshed set it short
  return busOnFakeKafka(kafka, dir, { lagRefreshMs: 60_000, ...options });
}

const events = (n: number) => Array.from({ length: n }, (_, i) => numberedUsageEvent('u', i + 1));

describe('KafkaEventBus consumer lag', () => {
  it('drops the lag of partitions a rebalance moved away, and of a late batch of one', async () => {
    const kafka = new FakeKafka();
    kafka.assignment = { [T]: [0, 1] };
    const gauge = lagGauge();
    const bus = busOn(kafka, { observer: gauge.observer });
    await bus.subscribe({ group: 'budget', topics: [T], handle: async () => {} });
    const consumer = kafka.current;
    await consumer.deliver(T, 0, 0, events(2), 50_000); // far behind on partition 0
    await consumer.deliver(T, 1, 0, events(1), 4);
    assert.deepEqual(gauge.series(), { [`budget ${T}:0`]: 49_998, [`budget ${T}:1`]: 3 });

    consumer.rejoin({ [T]: [1] }); // partition 0 went to another replica
    assert.deepEqual(gauge.series(), { [`budget ${T}:1`]: 3 });
    // A batch of it that was in flight when it moved does not bring it back.
    await consumer.deliver(T, 0, 2, events(1), 50_000);
    assert.deepEqual(gauge.series(), { [`budget ${T}:1`]: 3 });

    consumer.rejoin({ [T]: [0, 1] }); // and back here: reported again from its next batch
    await consumer.deliver(T, 0, 3, events(1), 10);
    assert.deepEqual(gauge.series(), { [`budget ${T}:0`]: 6, [`budget ${T}:1`]: 3 });
    await bus.close();
    assert.deepEqual(gauge.series(), {}, 'a stopped bus reports no partition');
  });

  it("a replaced consumer's partitions are dropped until its successor joins with them", async () => {
    const kafka = new FakeKafka();
    kafka.assignment = { [T]: [0, 1] };
    const gauge = lagGauge();
    const bus = busOn(kafka, { observer: gauge.observer });
    await bus.subscribe({ group: 'sink', topics: [T], handle: async () => {} });
    const first = kafka.current;
    await first.deliver(T, 0, 0, events(1), 900);
    await first.deliver(T, 1, 0, events(1), 9);
    assert.equal(Object.keys(gauge.series()).length, 2);

    kafka.assignment = { [T]: [1] }; // the fresh consumer is given partition 1 only
    kafka.joinAfterMs = 100;
    first.emit(EVENTS.CRASH, { error: new Error('not retriable'), restart: false });
    assert.deepEqual(gauge.series(), {}, 'dropped as the consumer is replaced');
    await pollUntil(() => kafka.consumers.length === 2, 'a fresh consumer');
    await first.deliver(T, 0, 1, events(1), 900).catch(() => undefined); // the old one's last
    assert.deepEqual(gauge.series(), {});
    await pollUntil(() => bus.status().state === 'connected', 'the fresh consumer fetching');
    await kafka.current.deliver(T, 1, 1, events(1), 9);
    assert.deepEqual(gauge.series(), { [`sink ${T}:1`]: 7 });
    await bus.close();
  });

  it("reads an idle partition's lag from the broker, for the partitions it owns", async () => {
    const kafka = new FakeKafka();
    kafka.assignment = { [T]: [0, 1] };
    kafka.watermarks.set(T, [
      { partition: 0, low: '0', high: '100' },
      { partition: 1, low: '5', high: '12' },
      { partition: 2, low: '0', high: '70' }, // another replica's
    ]);
    const committed = new Map([[0, '40']]); // partition 1: nothing committed yet
    kafka.committed.set('budget', new Map([[T, committed]]));
    const gauge = lagGauge();
    const bus = busOn(kafka, { observer: gauge.observer, lagRefreshMs: 20 });
    // No batch comes (nothing new, or a handler that keeps failing): only the broker tells.
    await bus.subscribe({ group: 'budget', topics: [T], handle: async () => {} });
    await pollUntil(() => Object.keys(gauge.series()).length === 2, 'the lag read from the broker');
    assert.deepEqual(gauge.series(), { [`budget ${T}:0`]: 60, [`budget ${T}:1`]: 7 });

    committed.set(0, '100'); // caught up elsewhere in the group's history
    await pollUntil(() => gauge.series()[`budget ${T}:0`] === 0, 'the lag refreshed');

    kafka.current.rejoin({ [T]: [1] });
    await new Promise((r) => setTimeout(r, 100)); // several refreshes
    assert.deepEqual(gauge.series(), { [`budget ${T}:1`]: 7 }, 'a moved partition stays gone');
    await bus.close();
    assert.deepEqual(gauge.series(), {});
  });

  it("a view's lag is read from where it has read; Kafka away leaves it and warns once", async () => {
    const kafka = new FakeKafka();
    kafka.assignment = { [T]: [0] };
    const warnings: string[] = [];
    const gauge = lagGauge();
    const bus = busOn(kafka, {
      observer: gauge.observer,
      lagRefreshMs: 20,
      logger: { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    });
    await bus.subscribe({ group: 'view', ephemeral: true, topics: [T], handle: async () => {} });
    await kafka.current.deliver(T, 0, 0, events(3), 3);
    assert.deepEqual(gauge.series(), { [`view ${T}:0`]: 0 });
    kafka.watermarks.set(T, [{ partition: 0, low: '0', high: '8' }]);
    await pollUntil(() => gauge.series()[`view ${T}:0`] === 5, 'the view lag read from the broker');

    kafka.down = true;
    await new Promise((r) => setTimeout(r, 150)); // several refreshes fail
    assert.deepEqual(gauge.series(), { [`view ${T}:0`]: 5 });
    assert.deepEqual(warnings, ['could not read the consumer lag']);
    kafka.down = false;
    kafka.watermarks.set(T, [{ partition: 0, low: '0', high: '9' }]);
    await pollUntil(() => gauge.series()[`view ${T}:0`] === 6, 'read again once Kafka answers');
    await bus.close();
  });
});
