import type { Kafka, KafkaMessage } from 'kafkajs';

/** Which messages of one partition to read: offsets `from` up to (not including) `before`. */
export interface PartitionRange {
  readonly topic: string;
  readonly partition: number;
  readonly from: bigint;
  readonly before: bigint;
  /** A throwaway group of the reader's own: it commits nothing and leaves at the end. */
  readonly groupId: string;
  /** The read gives up (rejects) after this long: a join or a fetch that never answers. */
  readonly timeoutMs: number;
}

/**
 * Reads a few messages of one partition, oldest first, with a short-lived consumer in a
 * group of its own: kafkajs has no group-less read, and seeking the running consumer would
 * hand its partition over again from there. The group's own consumption is not disturbed:
 * its members, offsets and assignment are untouched. The range must end at or before a
 * message that exists (the caller's failing event), which ends the read at gaps too.
 */
export async function readPartitionRange(
  kafka: Kafka,
  range: PartitionRange,
): Promise<KafkaMessage[]> {
  const { topic, partition, from, before } = range;
  const found: KafkaMessage[] = [];
  if (before <= from) return found;
  const consumer = kafka.consumer({
    groupId: range.groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
    retry: { retries: 2, restartOnFailure: async () => false },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const read = new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`reading ${topic}:${partition} took over ${range.timeoutMs} ms`)),
        range.timeoutMs,
      );
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      void (async () => {
        await consumer.connect();
        // The other partitions start at their end (nothing is read there); this one seeks.
        await consumer.subscribe({ topics: [topic], fromBeginning: false });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              const last = found.at(-1);
              const fresh = last === undefined || offset > BigInt(last.offset); // not seen again
              if (offset >= from && offset < before && fresh) found.push(message);
              if (offset + 1n >= before) return resolve();
            }
          },
        });
        consumer.seek({ topic, partition, offset: from.toString() });
      })().catch(reject);
    });
    await read;
    return found;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
