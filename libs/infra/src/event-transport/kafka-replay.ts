import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { decodeEvent, type EventTopic, type GatewayEvent } from '@aigw/contracts';

/**
 * Reads one topic from its beginning up to where it ends now, in batches, and stops:
 * what a rebuild needs (a consumer group would wait for more forever). A throwaway group
 * that commits nothing, so no running consumer is disturbed. Undecodable messages are
 * skipped and counted.
 */
export async function replayTopic(
  kafka: Kafka,
  topic: EventTopic,
  options: { prefix?: string },
  onBatch: (events: readonly GatewayEvent[]) => Promise<void>,
): Promise<{ messages: number; undecodable: number }> {
  const physical = `${options.prefix ?? ''}${topic}`;
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; offset: string; low: string; high: string }[];
  try {
    ends = await admin.fetchTopicOffsets(physical);
  } finally {
    await admin.disconnect();
  }
  const remaining = new Map(
    ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]),
  );
  const totals = { messages: 0, undecodable: 0 };
  if (remaining.size === 0) return totals;

  const consumer = kafka.consumer({ groupId: `${options.prefix ?? ''}rebuild.${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: physical, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async (payload) => {
            const { batch } = payload;
            const end = remaining.get(batch.partition);
            const events: GatewayEvent[] = [];
            for (const message of batch.messages) {
              if (end === undefined || Number(message.offset) >= end) break;
              totals.messages++;
              const decoded = decodeEvent(topic, message.value);
              if (decoded.ok) events.push(decoded.value);
              else totals.undecodable++;
              payload.resolveOffset(message.offset);
            }
            if (events.length > 0) await onBatch(events);
            await payload.heartbeat();
            const next = Number(batch.lastOffset()) + 1;
            if (end !== undefined && next >= end) remaining.delete(batch.partition);
            if (remaining.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return totals;
}
