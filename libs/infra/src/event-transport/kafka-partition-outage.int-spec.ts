// A partial outage within one topic, against the real broker of the run: the handler fails
// every event of one key (its store shard is down) while the topic's other partition is
// handled all along. The failing partition's events are not poison: none is dead-lettered,
// and all are handled once the shard is back.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import { Topic, type GatewayEvent } from '@aigw/contracts';
import { numberedUsageEvent, until } from '@aigw/testing';
import { readDeadLetters, realKafkaBuses } from '../testing/real-kafka-buses';

const real = realKafkaBuses('partition-outage', 2);

/** A key the bus's murmur2 partitioner puts on `partition` of two. */
function keyOn(partition: number, stem: string): string {
  const partitionOf = Partitioners.DefaultPartitioner();
  const partitionMetadata = [0, 1].map((partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  for (let n = 0; ; n++) {
    const key = `${stem}-${n}`;
    if (partitionOf({ topic: '', partitionMetadata, message: { key, value: null } }) === partition)
      return key;
  }
}

describe('KafkaEventBus: one partition failing while the other is handled', () => {
  it('dead-letters none of the failing partition events, and handles them once it recovers', async () => {
    const prefix = `it.partition-outage.${randomUUID().slice(0, 8)}.`;
    let retried = 0;
    const lettered: unknown[] = [];
    const bus = await real.openBus(prefix, {
      handlerRetried: () => void retried++,
      handlerDeadLettered: (labels) => void lettered.push(labels),
    });
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const down = keyOn(0, 'shard-down');
    const healthy = keyOn(1, 'healthy');
    let shardDown = true;
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        if (shardDown && events.some((e) => e.partitionKey === down)) {
          throw new Error(`CLUSTERDOWN the shard of ${down} is down`);
        }
        for (const e of events) handled.add(e.eventId);
      },
    });
    const failing = [1, 2].map((n) => numberedUsageEvent(down, n));
    for (const event of failing) bus.publish(event);
    await bus.flush();

    const { letters, stop } = await readDeadLetters(real.kafka, prefix);
    try {
      // The other partition moves all along: well past the 5 strikes of the old rule.
      const traffic: GatewayEvent[] = [];
      for (const stopAt = Date.now() + 10_000; Date.now() < stopAt;) {
        const event = numberedUsageEvent(healthy, traffic.length + 1);
        traffic.push(event);
        bus.publish(event);
        await bus.flush();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await until('the other partition handled', () =>
        traffic.every((e) => handled.has(e.eventId)),
      );
      assert.ok(retried >= 10, `${retried} retries of the failing partition`);
      assert.deepEqual(lettered, [], 'nothing dead-lettered');
      assert.equal(letters.length, 0);

      shardDown = false;
      await until('the failing partition handled once back', () =>
        failing.every((e) => handled.has(e.eventId)),
      );
      const admin = real.kafka.admin();
      await admin.connect();
      try {
        await until('both partitions committed to their ends', async () => {
          const [offsets] = await admin.fetchOffsets({
            groupId: `${prefix}budget`,
            topics: [topic],
          });
          const byPartition = new Map(offsets.partitions.map((p) => [p.partition, p.offset]));
          return (
            byPartition.get(0) === String(failing.length) &&
            byPartition.get(1) === String(traffic.length)
          );
        });
      } finally {
        await admin.disconnect();
      }
      assert.equal(letters.length, 0, 'still nothing dead-lettered');
    } finally {
      await stop();
    }
  });
});
