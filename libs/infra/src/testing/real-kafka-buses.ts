import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Kafka, RetryOptions } from 'kafkajs';
import { Topic } from '@aigw/contracts';
import {
  startKafka,
  startRestartableKafka,
  type RealService,
  type RestartableKafka,
  until as waitUntil,
} from '@aigw/testing';
import { createKafka } from '../kafka/kafka-client';
import { EventSpool } from '../event-transport/event-spool';
import {
  KafkaEventBus,
  type KafkaEventBusObserver,
  type KafkaEventBusOptions,
} from '../event-transport/kafka-event-bus';

export interface RealKafkaBuses {
  /** The client on the run's broker: set once the file's `before` hook has run. */
  readonly kafka: Kafka;
  /** A started bus on its own spool file, creating `prefix`'s topics; closed after the file. */
  readonly openBus: (
    prefix: string,
    observer?: KafkaEventBusObserver,
    options?: Partial<Omit<KafkaEventBusOptions, 'spool' | 'topicPrefix' | 'observer'>>,
  ) => Promise<KafkaEventBus>;
  /** The offset a group committed on a one-partition topic (none = 0). */
  readonly committedOffset: (groupId: string, topic: string) => Promise<number>;
}

/**
 * The set-up the KafkaEventBus int specs share: the run's real broker, taken in the file's
 * `before` and released in its `after`, with every bus opened meanwhile closed first and
 * their spools removed. Topics get `topicPartitions` partitions.
 */
export function realKafkaBuses(name: string, topicPartitions: number): RealKafkaBuses {
  let broker: RealService | undefined;
  let kafka: Kafka | undefined;
  const dir = mkdtempSync(join(tmpdir(), `aigw-kafka-${name}-`));
  const buses: KafkaEventBus[] = [];

  before(async () => {
    broker = await startKafka();
    kafka = createKafka({ clientId: `${name}-int-spec`, brokers: broker.url });
  });
  after(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const started = (): Kafka => {
    if (!kafka) throw new Error('the broker is taken in the before hook');
    return kafka;
  };
  return {
    get kafka() {
      return started();
    },
    openBus: async (prefix, observer, options) => {
      const bus = new KafkaEventBus(started(), {
        spool: new EventSpool(join(dir, `${randomUUID()}.db`)),
        topicPrefix: prefix,
        retryMinMs: 100,
        retryMaxMs: 1_000,
        ...(observer ? { observer } : {}),
        ...options,
      });
      buses.push(bus);
      await bus.start({ topicPartitions });
      return bus;
    },
    committedOffset: async (groupId, topic) => {
      const admin = started().admin();
      await admin.connect();
      try {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return Math.max(Number(offsets.partitions[0]?.offset ?? -1), 0);
      } finally {
        await admin.disconnect();
      }
    },
  };
}

export interface RestartableKafkaClient {
  /** This file's own broker, to stop and start: set once the file's `before` hook has run. */
  readonly broker: RestartableKafka;
  /** The client on that broker, with the file's reconnect `retry`. */
  readonly kafka: Kafka;
  /** A directory for the file's spools, removed after the file. */
  readonly dir: string;
}

/**
 * The set-up the Kafka outage int specs share: a broker of the file's own (one to stop and
 * restart is never the run's shared one), taken in its `before` unless `skip`, and stopped,
 * with the spool directory removed, in its `after`.
 */
export function restartableKafkaClient(
  name: string,
  retry: RetryOptions,
  skip: string | false | undefined,
): RestartableKafkaClient {
  let broker: RestartableKafka | undefined;
  let kafka: Kafka | undefined;
  const dir = mkdtempSync(join(tmpdir(), `aigw-kafka-${name}-`));

  before(async () => {
    if (skip) return; // a top-level hook runs even when every test is skipped
    broker = await startRestartableKafka();
    kafka = createKafka({
      clientId: `${name}-int-spec`,
      brokers: broker.url,
      config: { retry },
    });
  });
  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const taken = <T>(value: T | undefined): T => {
    if (!value) throw new Error('the broker is taken in the before hook');
    return value;
  };
  return {
    get broker() {
      return taken(broker);
    },
    get kafka() {
      return taken(kafka);
    },
    dir,
  };
}

/** Polls `condition` every 100 ms; throws naming `what` once `timeoutMs` has passed. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 180_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface DeadLetter {
  readonly value: string;
  readonly size: number;
  /** Every header as a string, the dead-letter ones and the original event's. */
  readonly headers: Record<string, string>;
}

/**
 * Reads `prefix`'s dead-letter topic from its beginning, in a group of its own; `letters`
 * fills as they arrive. `stop` disconnects the reader.
 */
export async function readDeadLetters(
  kafka: Kafka,
  prefix: string,
): Promise<{ readonly letters: DeadLetter[]; readonly stop: () => Promise<void> }> {
  const letters: DeadLetter[] = [];
  const reader = kafka.consumer({ groupId: `${prefix}dlq-reader` });
  await reader.connect();
  await reader.subscribe({ topics: [`${prefix}${Topic.DeadLetter}`], fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      letters.push({
        value: message.value?.toString() ?? '',
        size: message.value?.length ?? 0,
        headers,
      });
    },
  });
  return { letters, stop: () => reader.disconnect() };
}

/**
 * Reads `prefix`'s dead-letter topic until `count` letters arrived (or the wait times out
 * naming `what`), then disconnects the reader and returns them.
 */
export async function deadLettersOnceThere(
  kafka: Kafka,
  prefix: string,
  count: number,
  what: string,
): Promise<DeadLetter[]> {
  const { letters, stop } = await readDeadLetters(kafka, prefix);
  try {
    await waitUntil(what, () => letters.length >= count);
  } finally {
    await stop();
  }
  return letters;
}
