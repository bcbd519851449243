import type { EventSubscription, EventTopic, GatewayEvent } from '@aigw/contracts';
import { EventBatcher, type BatcherOptions } from './domain/event-batcher';
import { SINK_TOPICS } from './domain/event-rows';

/** Where the sink stores events: ClickHouse, or SQLite in the all-in-one gateway. */
export interface UsageEventWriter {
  /**
   * Stores a batch so that each event id is stored once however often it is written.
   * Resolves when the rows are durable; throws when they may not be.
   */
  write(events: readonly GatewayEvent[]): Promise<void>;
}

export const USAGE_SINK_GROUP = 'usage-sink';

/**
 * Partitions whose deliveries the sink takes at once: their events share the batcher's
 * writes. One at a time, each delivery would wait out `maxWaitMs` alone (a second per
 * partition batch in the split deployment, across ~100 partitions), and the sink would
 * fall behind a steady load until the topics' retention drops what it has not read.
 */
const SINK_CONCURRENT_PARTITIONS = 64;

export interface UsageSinkOptions extends BatcherOptions {
  /** Told of each batch write that failed (then rethrown: nothing is committed). */
  readonly onWriteFailed?: (error: unknown) => void;
}

/**
 * Every event topic into the store, in batches bounded by size and time. `handle`
 * returns only after the batch holding its events is written, and a write that fails
 * throws out of `handle`, so the bus commits no offset for rows that are not stored and
 * redelivers them (the writer makes that redelivery harmless).
 */
export class UsageSinkConsumer implements EventSubscription {
  readonly topics: readonly EventTopic[] = SINK_TOPICS;
  readonly concurrentPartitions = SINK_CONCURRENT_PARTITIONS;
  private readonly batcher: EventBatcher<GatewayEvent>;

  constructor(
    writer: UsageEventWriter,
    options: UsageSinkOptions,
    readonly group: string = USAGE_SINK_GROUP,
  ) {
    this.batcher = new EventBatcher(async (events) => {
      try {
        await writer.write(events);
      } catch (error) {
        options.onWriteFailed?.(error);
        throw error;
      }
    }, options);
  }

  handle(events: readonly GatewayEvent[]): Promise<void> {
    return this.batcher.add(events);
  }

  /** Writes what is waiting (at shutdown). */
  drain(): Promise<void> {
    return this.batcher.drain();
  }
}
