import type { EventTopic, GatewayEvent } from '../events/event-catalog';

/**
 * Where services put the facts they produce. Publishing never blocks the request path:
 * implementations batch in memory and write in the background (Kafka, or the embedded
 * log), and `flush` waits for everything published so far to be durable.
 */
export interface EventPublisher {
  publish(event: GatewayEvent): void;
  flush(): Promise<void>;
  /**
   * Set only when answers wait for their usage record (AI_GATEWAY_ANSWER_AFTER_RECORD=on):
   * resolves once every event published so far is durable (in the embedded log, or
   * acknowledged by Kafka or in its disk spool), without waiting for subscribers. Rejects
   * when the write failed (the events stay queued and are retried as always): an answer
   * then goes out without its record rather than hang on a broken disk.
   */
  readonly recordBarrier?: () => Promise<void>;
}

/** A consumer group's handler. Throwing leaves the batch uncommitted, to be retried. */
export interface EventSubscription {
  readonly group: string;
  readonly topics: readonly EventTopic[];
  /**
   * A per-process view (a replica's local cache) rather than a consumer group: it reads
   * from the beginning at every start and commits nothing.
   */
  readonly ephemeral?: boolean;
  /**
   * How many partitions' deliveries `handle` may be given at once on Kafka (default 1).
   * Each partition still delivers in order, one batch at a time; a handler that gathers
   * deliveries into shared writes needs several, or it waits for company that never comes.
   */
  readonly concurrentPartitions?: number;
  handle(events: readonly GatewayEvent[]): Promise<void>;
  /**
   * The group is rebalancing: this member's partitions may move to another. Whatever the
   * subscriber holds back for them (paced announcements) should go out now, before the
   * next owner starts publishing for the same keys.
   */
  onRebalance?(): void;
}

export const EVENT_PUBLISHER = Symbol('EVENT_PUBLISHER');

/** Drops events: for tools and tests that produce none worth keeping. */
export const DISCARDING_PUBLISHER: EventPublisher = {
  publish: () => undefined,
  flush: async () => undefined,
};
