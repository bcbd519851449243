import {
  decodeEvent,
  serializeEvent,
  type EventPublisher,
  type EventSubscription,
  type EventTopic,
  type GatewayEvent,
  type SerializedEvent,
} from '@aigw/contracts';
import type { SqliteEventLog } from './sqlite-event-log';

export interface EmbeddedEventBusOptions {
  /** How long events wait in memory before they are written, in milliseconds. */
  readonly flushIntervalMs: number;
  /** Write at once when this many are waiting. */
  readonly maxBatch: number;
  /** Called for a batch a subscriber failed on (it is retried on the next flush). */
  readonly onError: (error: unknown, group: string) => void;
  /** Called for a stored event this build cannot read: it is skipped, never retried forever. */
  readonly onUndecodable?: (reason: string, group: string) => void;
}

const READ_BATCH = 500;
/** How many of the newest events stay in memory as objects for live delivery. */
const RECENT_EVENTS = 4_096;

/**
 * The in-process event bus of the all-in-one gateway: publishing is a push to memory,
 * a timer writes batches to the durable log off the request path, and subscribers
 * consume from the log with committed positions, exactly as Kafka consumer groups do.
 */
export class EmbeddedEventBus implements EventPublisher {
  private pending: { serialized: SerializedEvent; event: GatewayEvent }[] = [];
  // The objects behind the newest stored events: delivering them live needs no decode
  // (nor class-validator); only a replay after a restart reads the JSON back.
  private readonly recent = new Map<number, GatewayEvent>();
  private timer: NodeJS.Timeout | undefined;
  private readonly subscriptions: EventSubscription[] = [];
  private work: Promise<void> = Promise.resolve();
  // Positions of ephemeral subscriptions live only as long as this process.
  private readonly ephemeralPositions = new WeakMap<EventSubscription, number>();

  constructor(
    private readonly log: SqliteEventLog,
    private readonly options: EmbeddedEventBusOptions,
  ) {}

  publish(event: GatewayEvent): void {
    this.pending.push({ serialized: serializeEvent(event), event });
    if (this.pending.length >= this.options.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
  }

  /** Adds a consumer group; it first catches up on whatever it has not committed. */
  subscribe(subscription: EventSubscription): Promise<void> {
    this.subscriptions.push(subscription);
    return this.enqueue(() => this.deliver(subscription));
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.enqueue(async () => {
      const batch = this.pending;
      this.pending = [];
      if (batch.length > 0)
        this.remember(batch, this.log.appendAll(batch.map((p) => p.serialized)));
      for (const subscription of this.subscriptions) await this.deliver(subscription);
    });
  }

  /** Hands every stored event of `topics` to `onBatch`, oldest first (for rebuilds). */
  async replay(
    topics: readonly EventTopic[],
    onBatch: (events: readonly GatewayEvent[]) => Promise<void>,
  ): Promise<void> {
    await this.flush();
    let after = 0;
    for (;;) {
      const rows = this.log.read(topics, after, READ_BATCH);
      if (rows.length === 0) return;
      const events: GatewayEvent[] = [];
      for (const row of rows) {
        const decoded = decodeEvent(row.topic, row.value);
        if (decoded.ok) events.push(decoded.value);
      }
      await onBatch(events);
      after = rows[rows.length - 1].seq;
    }
  }

  /** Writes and delivers everything outstanding. */
  async close(): Promise<void> {
    await this.flush();
  }

  private remember(
    batch: readonly { event: GatewayEvent }[],
    seqs: readonly (number | undefined)[],
  ): void {
    batch.forEach(({ event }, index) => {
      const seq = seqs[index];
      if (seq !== undefined) this.recent.set(seq, event);
    });
    // Insertion order is log order: drop the oldest past the bound.
    for (const seq of this.recent.keys()) {
      if (this.recent.size <= RECENT_EVENTS) break;
      this.recent.delete(seq);
    }
  }

  // One writer at a time keeps the log order and the committed positions consistent.
  private enqueue(task: () => Promise<void>): Promise<void> {
    this.work = this.work.then(task, task);
    return this.work;
  }

  private async deliver(subscription: EventSubscription): Promise<void> {
    for (;;) {
      const after = subscription.ephemeral
        ? (this.ephemeralPositions.get(subscription) ?? 0)
        : this.log.committed(subscription.group);
      // Positions only: the newest events are in memory, and reading back their JSON
      // for every subscriber at every flush cost more than the rest of delivery.
      const rows = this.log.readPositions(subscription.topics, after, READ_BATCH);
      if (rows.length === 0) return;
      const events: GatewayEvent[] = [];
      for (const row of rows) {
        const live = this.recent.get(row.seq);
        if (live) {
          events.push(live);
          continue;
        }
        const decoded = decodeEvent(row.topic, this.log.valueAt(row.seq));
        if (decoded.ok) events.push(decoded.value);
        else this.options.onUndecodable?.(decoded.error.message, subscription.group);
      }
      try {
        if (events.length > 0) await subscription.handle(events);
      } catch (error) {
        this.options.onError(error, subscription.group);
        return; // not committed: the next flush delivers the same events again
      }
      const last = rows[rows.length - 1].seq;
      if (subscription.ephemeral) this.ephemeralPositions.set(subscription, last);
      else this.log.commit(subscription.group, last);
    }
  }
}
