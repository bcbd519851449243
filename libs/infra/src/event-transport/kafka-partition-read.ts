import type { Kafka, KafkaMessage } from 'kafkajs';

/** Which messages of one partition to read: offsets `from` up to (not including) `before`. */
export interface PartitionRange {
  readonly topic: string;
  readonly partition: number;
  readonly from: bigint;
  readonly before: bigint;
  /** Which messages to keep (default all): the others' values are not held meanwhile. */
  readonly keep?: (message: KafkaMessage) => boolean;
}

export interface PartitionReadOptions {
  /** A throwaway group of the reader's own: it commits nothing and leaves at the end. */
  readonly groupId: string;
  /** The read gives up (rejects) after this long: a join or a fetch that never answers. */
  readonly timeoutMs: number;
}

/**
 * Reads a few messages of some partitions (each range's, oldest first; an empty range
 * gives none) with one short-lived consumer in a group of its own: kafkajs has no
 * group-less read, and seeking the running consumer would hand its partition over again
 * from there. The group's own consumption is not disturbed: its members, offsets and
 * assignment are untouched. Each range must end at or before a message that exists (the
 * caller's failing event, or a topic's end), which ends the read at gaps too.
 */
export async function readPartitionRanges(
  kafka: Kafka,
  ranges: readonly PartitionRange[],
  options: PartitionReadOptions,
): Promise<KafkaMessage[][]> {
  const found = ranges.map((): KafkaMessage[] => []);
  // Per topic and partition, the range to read there and where its messages go.
  const open = new Map<string, { range: PartitionRange; into: KafkaMessage[]; next: bigint }>();
  ranges.forEach((range, index) => {
    const into = found[index];
    if (range.before > range.from) open.set(partitionId(range), { range, into, next: range.from });
  });
  if (open.size === 0) return found;
  const consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
    retry: { retries: 2, restartOnFailure: async () => false },
  });
  const reading = [...open.values()].map(({ range }) => range);
  const names = reading.map((r) => `${r.topic}:${r.partition}`).join(', ');
  let timer: NodeJS.Timeout | undefined;
  try {
    const read = new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`reading ${names} took over ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      void (async () => {
        await consumer.connect();
        // The other partitions start at their end (nothing is read there); these seek.
        const topics = [...new Set(reading.map((r) => r.topic))];
        await consumer.subscribe({ topics, fromBeginning: false });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const id = partitionId(batch);
            const target = open.get(id);
            if (!target) return;
            const { before, keep } = target.range;
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              // At or past the range's start, and not seen before (a batch fetched again).
              if (offset >= target.next && offset < before) {
                target.next = offset + 1n;
                if (!keep || keep(message)) target.into.push(message);
              }
              if (offset + 1n >= before) {
                open.delete(id);
                if (open.size === 0) resolve();
                return;
              }
            }
          },
        });
        for (const { topic, partition, from } of reading) {
          consumer.seek({ topic, partition, offset: from.toString() });
        }
      })().catch(reject);
    });
    await read;
    return found;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

function partitionId({ topic, partition }: { topic: string; partition: number }): string {
  return `${topic}:${partition}`;
}
