import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { decodeEvent, type EventTopic, type GatewayEvent } from '@aigw/contracts';

/** What a replay read: its messages, the undecodable ones among them, and where it ended. */
export interface ReplayedTopic {
  messages: number;
  undecodable: number;
  /** Each partition that held messages, and the offset just past the last one read. */
  readonly ends: readonly { readonly partition: number; readonly offset: number }[];
}

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
): Promise<ReplayedTopic> {
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
  const totals: ReplayedTopic = {
    messages: 0,
    undecodable: 0,
    // Where the replay stopped: what a consumer group must have committed to have seen it all.
    ends: [...remaining].map(([partition, offset]) => ({ partition, offset })),
  };
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

/**
 * How many of a replay's messages `group` has not yet committed (0: it has handled all it
 * read). A rebuild that adds back what a store lost must not add what the group's own
 * consumer is still about to apply.
 */
export async function uncommittedOfReplay(
  kafka: Kafka,
  group: string,
  topic: EventTopic,
  options: { prefix?: string },
  ends: ReplayedTopic['ends'],
): Promise<number> {
  if (ends.length === 0) return 0;
  const physical = `${options.prefix ?? ''}${topic}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({
      groupId: `${options.prefix ?? ''}${group}`,
      topics: [physical],
    });
    let behind = 0;
    for (const { partition, offset } of ends) {
      const committed = Number(offsets?.partitions.find((p) => p.partition === partition)?.offset);
      // -1 (nothing committed) or a missing partition: none of it handled.
      behind += Math.max(0, offset - (committed >= 0 ? committed : 0));
    }
    return behind;
  } finally {
    await admin.disconnect();
  }
}
