// Stand-ins for kafkajs' consumer and client, enough for the KafkaEventBus's consumer side:
// a consumer joins when run (with a given assignment), fetches while alive and is handed
// batches by the test; the client's admin answers offsets the test sets.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { encodeEvent, type GatewayEvent } from '@aigw/contracts';
import { type EachBatchPayload, type Kafka } from 'kafkajs';
import { EventSpool } from '../event-transport/event-spool';
import { KafkaEventBus, type KafkaEventBusOptions } from '../event-transport/kafka-event-bus';

export const EVENTS = {
  HEARTBEAT: 'consumer.heartbeat',
  GROUP_JOIN: 'consumer.group_join',
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
} as const;

type Listener = (event: { payload: Record<string, unknown> }) => void;

/** Enough of a kafkajs consumer for the bus: joins when run, fetches while `alive`. */
export class FakeConsumer {
  readonly events = EVENTS;
  alive = true;
  disconnected = false;
  readonly seeks: { topic: string; partition: number; offset: string }[] = [];
  readonly commits: { topic: string; partition: number; offset: string }[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    readonly groupId: string,
    private readonly joinAfterMs = 0,
    /** Topic to partitions, as kafkajs' GROUP_JOIN payload gives it. */
    private readonly assignment: Record<string, number[]> = {},
  ) {}

  on(event: string, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(event: string, payload: Record<string, unknown> = {}): void {
    for (const listener of this.listeners.get(event) ?? []) listener({ payload });
  }

  connect = async (): Promise<void> => undefined;
  subscribe = async (): Promise<void> => undefined;

  run = async (options: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) => {
    this.eachBatch = options.eachBatch;
    setTimeout(() => {
      if (this.disconnected) return;
      this.emit(EVENTS.GROUP_JOIN, { groupId: this.groupId, memberAssignment: this.assignment });
      // A healthy consumer's fetch loop, once it joined: a fetch every few ms while alive.
      this.ticker = setInterval(() => {
        if (this.alive && !this.disconnected) this.emit(EVENTS.FETCH);
      }, 5).unref();
    }, this.joinAfterMs).unref();
  };

  /** A rebalance: the consumer joins again with this assignment. */
  rejoin(assignment: Record<string, number[]>): void {
    this.emit(EVENTS.REBALANCING, { groupId: this.groupId });
    this.emit(EVENTS.GROUP_JOIN, { groupId: this.groupId, memberAssignment: assignment });
  }

  seek(position: { topic: string; partition: number; offset: string }): void {
    this.seeks.push(position);
  }

  commitOffsets = async (
    offsets: { topic: string; partition: number; offset: string }[],
  ): Promise<void> => {
    this.commits.push(...offsets);
  };

  disconnect = async (): Promise<void> => {
    this.disconnected = true;
    clearInterval(this.ticker);
  };

  /** Hands the bus a batch, as kafkajs' fetch loop would. */
  async deliver(
    topic: string,
    partition: number,
    from: number,
    events: GatewayEvent[],
    highWatermark = from + events.length,
  ) {
    assert.ok(this.eachBatch, 'the consumer runs');
    const messages = kafkaMessagesOf(events, from);
    await this.eachBatch({
      batch: {
        topic,
        partition,
        messages,
        highWatermark: String(highWatermark),
      },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
      isRunning: () => !this.disconnected,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  }
}

/** `events` as the messages of one fetched batch, the first at offset `firstOffset`. */
export function kafkaMessagesOf(events: readonly GatewayEvent[], firstOffset: number) {
  return events.map((event, i) => {
    const encoded = encodeEvent(event);
    return {
      key: Buffer.from(encoded.key),
      value: encoded.value,
      headers: encoded.headers,
      offset: String(firstOffset + i),
      timestamp: '0',
      attributes: 0,
    };
  });
}

/** Polls `condition` at the fakes' pace (every 5 ms, for up to 10 s). */
export async function pollUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export class FakeKafka {
  readonly consumers: FakeConsumer[] = [];
  /** How long the next consumers take to join their group (silent meanwhile). */
  joinAfterMs = 0;

  /** What the next consumers are assigned when they join. */
  assignment: Record<string, number[]> = {};
  /** Per topic, each partition's low and high watermark. */
  readonly watermarks = new Map<string, { partition: number; low: string; high: string }[]>();
  /** Per group, the committed offsets (partition to offset) of each topic. */
  readonly committed = new Map<string, Map<string, Map<number, string>>>();

  consumer(config: { groupId: string }) {
    const consumer = new FakeConsumer(config.groupId, this.joinAfterMs, this.assignment);
    this.consumers.push(consumer);
    return consumer;
  }

  /** A Kafka that does not answer: admin connections are refused. */
  down = false;

  admin() {
    return {
      connect: async () => {
        if (this.down) throw new Error('connect ECONNREFUSED');
      },
      disconnect: async () => undefined,
      // Nothing to catch up on unless the test set watermarks.
      fetchTopicOffsets: async (topic: string) => {
        if (this.down) throw new Error('connect ECONNREFUSED');
        return (this.watermarks.get(topic) ?? []).map((w) => ({ ...w, offset: w.high }));
      },
      fetchOffsets: async ({ groupId, topics }: { groupId: string; topics: string[] }) => {
        if (this.down) throw new Error('connect ECONNREFUSED');
        return topics.map((topic) => ({
          topic,
          partitions: (this.watermarks.get(topic) ?? []).map(({ partition }) => ({
            partition,
            offset: this.committed.get(groupId)?.get(topic)?.get(partition) ?? '-1',
            metadata: null,
          })),
        }));
      },
    };
  }

  get current(): FakeConsumer {
    const last = this.consumers.at(-1);
    assert.ok(last, 'a consumer was made');
    return last;
  }
}

let spools = 0;

/** A KafkaEventBus on `kafka` with short retry and stall timings, its spool a fresh file in `spoolDir`. */
export function busOnFakeKafka(
  kafka: FakeKafka,
  spoolDir: string,
  options: Partial<KafkaEventBusOptions> = {},
): KafkaEventBus {
  return new KafkaEventBus(kafka as unknown as Kafka, {
    spool: new EventSpool(join(spoolDir, `spool-${++spools}.db`)),
    retryMinMs: 5,
    retryMaxMs: 20,
    consumerStallMs: 150,
    ...options,
  });
}
