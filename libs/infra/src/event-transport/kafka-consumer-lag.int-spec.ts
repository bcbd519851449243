// The consumer lag two replicas of one group report on the real broker: each reports the
// partitions it owns, a partition that moved to the other is dropped by the one it left
// (a stale number there paged until the pod restarted), and a stopped replica reports none.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Topic, type EventSubscription } from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import { realKafkaBuses, until } from '../testing/real-kafka-buses';
import type { KafkaEventBusObserver } from './kafka-event-bus';

const real = realKafkaBuses('consumer-lag', 2);

/** The lag gauge as the registry keeps it: `partition -> lag`, until a series is removed. */
function lagGauge(topic: string) {
  const series = new Map<number, number>();
  const observer: KafkaEventBusObserver = {
    consumerLag: (l, lag) => l.topic === topic && series.set(l.partition, lag),
    consumerLagGone: (l) => l.topic === topic && series.delete(l.partition),
  };
  return { observer, partitions: () => [...series.keys()].sort(), series };
}

describe('KafkaEventBus consumer lag across a rebalance', () => {
  it('each replica reports only the partitions it owns; one that stopped reports none', async () => {
    const prefix = `it.lag.${randomUUID().slice(0, 8)}.`;
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const first = lagGauge(topic);
    const second = lagGauge(topic);
    const busA = await real.openBus(prefix, first.observer, { lagRefreshMs: 500 });
    // Users spread over both partitions (the key's hash picks one).
    for (let i = 0; i < 20; i++) busA.publish(numberedUsageEvent(`lag-user-${i}`, i + 1));
    await busA.flush();
    const subscription: EventSubscription = {
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async () => {},
    };
    await busA.subscribe(subscription);
    await until(() => first.partitions().length === 2, 'both partitions reported by A', 60_000);
    await until(() => [...first.series.values()].every((lag) => lag === 0), 'A caught up', 60_000);

    const busB = await real.openBus(prefix, second.observer, { lagRefreshMs: 500 });
    await busB.subscribe(subscription);
    // A rejoins at its next heartbeat; B reads its partition's lag from the broker.
    await until(
      () => first.partitions().length === 1 && second.partitions().length === 1,
      'one partition each',
      60_000,
    );
    assert.deepEqual([...first.partitions(), ...second.partitions()].sort(), [0, 1]);
    assert.deepEqual([...second.series.values()], [0], 'what A committed counts for B');

    await busB.close();
    assert.deepEqual(second.partitions(), [], 'a stopped replica reports no partition');
    await until(() => first.partitions().length === 2, 'A owns both again', 60_000);
  });
});
