import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Kafka } from 'kafkajs';
import { startKafka, type RealService } from '@aigw/testing';
import { createKafka } from '../kafka/kafka-client';
import { EventSpool } from '../event-transport/event-spool';
import { KafkaEventBus, type KafkaEventBusObserver } from '../event-transport/kafka-event-bus';

export interface RealKafkaBuses {
  /** The client on the run's broker: set once the file's `before` hook has run. */
  readonly kafka: Kafka;
  /** A started bus on its own spool file, creating `prefix`'s topics; closed after the file. */
  readonly openBus: (prefix: string, observer?: KafkaEventBusObserver) => Promise<KafkaEventBus>;
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
    openBus: async (prefix, observer) => {
      const bus = new KafkaEventBus(started(), {
        spool: new EventSpool(join(dir, `${randomUUID()}.db`)),
        topicPrefix: prefix,
        retryMinMs: 100,
        retryMaxMs: 1_000,
        ...(observer ? { observer } : {}),
      });
      buses.push(bus);
      await bus.start({ topicPartitions });
      return bus;
    },
  };
}
