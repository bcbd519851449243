// The consumer lag one subscription reports, kept to the partitions its consumer owns now:
// alerts take the max over replicas, so a replica must not keep reporting a partition a
// rebalance moved to another one. A join's assignment (kafkajs GROUP_JOIN) drops the
// partitions no longer owned, a replaced or stopped consumer drops them all, and a
// periodic read of the broker's offsets (refreshLag) keeps an idle or stuck partition's
// lag current, where no batch is committed to update it.
import type { Admin, ConsumerGroupJoinEvent } from 'kafkajs';

export interface PartitionLabels {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

export interface ConsumerLagObserver {
  /** Messages between a partition's committed (a view's read) offset and its high watermark. */
  consumerLag?(labels: PartitionLabels, lag: number): void;
  /** A partition this replica no longer consumes: its lag is no longer reported here. */
  consumerLagGone?(labels: PartitionLabels): void;
}

interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

const keyOf = (topic: string, partition: number): string => `${topic}:${partition}`;

/**
 * The partitions a join gave the consumer (topic to partitions). kafkajs sends it with every
 * join; an event without it (a stand-in consumer) is taken as owning nothing.
 */
export function joinAssignment(
  event: ConsumerGroupJoinEvent | undefined,
): Readonly<Record<string, readonly number[]>> {
  return (
    (event?.payload as Partial<ConsumerGroupJoinEvent['payload']> | undefined)?.memberAssignment ??
    {}
  );
}

/** The lag gauges of one subscription's partitions (physical topic names). */
export class PartitionLag {
  /** Owned since the consumer's last join; nothing before it joins or once it is gone. */
  private owned = new Map<string, TopicPartition>();
  private readonly reported = new Map<string, TopicPartition>();

  constructor(
    private readonly group: string,
    private readonly observer: ConsumerLagObserver,
  ) {}

  /** The consumer joined with this assignment (topic to partitions). */
  assigned(assignment: Readonly<Record<string, readonly number[]>>): void {
    this.owned = new Map();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions)
        this.owned.set(keyOf(topic, partition), { topic, partition });
    }
    for (const [key, { topic, partition }] of this.reported) {
      if (this.owned.has(key)) continue;
      this.reported.delete(key);
      this.observer.consumerLagGone?.({ group: this.group, topic, partition });
    }
  }

  /** The consumer is gone (replaced or stopped): it owns nothing until the next one joins. */
  clear(): void {
    this.assigned({});
  }

  /** A lag measured now; dropped for a partition the consumer no longer owns. */
  report(topic: string, partition: number, lag: bigint): void {
    const key = keyOf(topic, partition);
    if (!this.owned.has(key)) return;
    this.reported.set(key, { topic, partition });
    this.observer.consumerLag?.(
      { group: this.group, topic, partition },
      Number(lag > 0n ? lag : 0n),
    );
  }

  ownedPartitions(): TopicPartition[] {
    return [...this.owned.values()];
  }
}

/** A subscription whose lag refreshLag reads from the broker. */
export interface LagSource {
  readonly lag: PartitionLag;
  /** The group whose committed offsets count; none for a view, which never commits. */
  readonly committedBy?: string;
  /** A view's next offset per `topic:partition`, as far as it has read. */
  readonly positions: ReadonlyMap<string, string>;
}

/**
 * Sets the lag of every partition each source owns from the broker: its high watermark less
 * the committed offset (a view's read position); a partition with neither yet is read from
 * its start. One offsets request per topic and one per group.
 */
export async function refreshLag(admin: Admin, sources: readonly LagSource[]): Promise<void> {
  const watermarks = new Map<string, Promise<Map<number, { low: bigint; high: bigint }>>>();
  const watermarksOf = (topic: string) => {
    let found = watermarks.get(topic);
    if (!found) {
      found = admin
        .fetchTopicOffsets(topic)
        .then(
          (offsets) =>
            new Map(
              offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]),
            ),
        );
      watermarks.set(topic, found);
    }
    return found;
  };
  for (const source of sources) {
    const owned = source.lag.ownedPartitions();
    if (owned.length === 0) continue;
    const topics = [...new Set(owned.map((p) => p.topic))];
    const committed = new Map<string, bigint>();
    if (source.committedBy !== undefined) {
      for (const { topic, partitions } of await admin.fetchOffsets({
        groupId: source.committedBy,
        topics,
      })) {
        for (const { partition, offset } of partitions) {
          if (BigInt(offset) >= 0n) committed.set(keyOf(topic, partition), BigInt(offset));
        }
      }
    } else {
      for (const [key, offset] of source.positions) committed.set(key, BigInt(offset));
    }
    for (const { topic, partition } of owned) {
      const marks = (await watermarksOf(topic)).get(partition);
      if (!marks) continue;
      const from = committed.get(keyOf(topic, partition)) ?? marks.low;
      source.lag.report(topic, partition, marks.high - from);
    }
  }
}
