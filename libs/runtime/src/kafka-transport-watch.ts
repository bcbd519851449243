// What an operator sees of the Kafka connection: ai_gateway_event_transport_connected (1/0)
// sampled from the bus, its tries to connect by outcome, and the kafka check of /readyz that
// says Kafka is unreachable (with the last reason) while the service serves from its spool.
import {
  createKafka,
  kafkaLogCreator,
  type ConnectionAttemptOutcome,
  type KafkaBusStatus,
  type KafkaEventBusObserver,
} from '@aigw/infra';
import type { Logger, MetricsRegistry } from '@aigw/observability';

type Kafka = ReturnType<typeof createKafka>;

const TRANSPORT = 'kafka';
const SAMPLE_EVERY_MS = 1_000;

/** The part of the bus the watch reads. */
export interface WatchedBus {
  status(): KafkaBusStatus;
}

export class KafkaTransportWatch {
  private failedTries = 0;
  private lastFailure: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly metrics: MetricsRegistry) {}

  /** Counts each try to connect, and keeps the last failure's reason for /readyz. */
  readonly observer: Pick<KafkaEventBusObserver, 'connectionAttempt'> = {
    connectionAttempt: (outcome: ConnectionAttemptOutcome, error?: unknown) => {
      this.metrics.recordEventTransportConnectionAttempt(TRANSPORT, outcome);
      if (outcome === 'connected') {
        this.failedTries = 0;
        this.lastFailure = undefined;
      } else {
        this.failedTries++;
        this.lastFailure = error instanceof Error ? error.message : String(error);
      }
    },
  };

  /** Samples the bus's reachability into the gauge now and every second until `stop`. */
  follow(bus: WatchedBus): void {
    const sample = () => this.metrics.setEventTransportConnected(TRANSPORT, bus.status().reachable);
    sample();
    this.timer = setInterval(sample, SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The kafka check's state: the bus's state and spool, and, while Kafka does not answer,
   * that it is unreachable, with the tries failed since it last answered and the last reason.
   */
  readinessState(status: KafkaBusStatus): string {
    const spooled = status.spooled > 0 ? ` (${status.spooled} events spooled)` : '';
    if (status.reachable || status.state === 'closed') return `${status.state}${spooled}`;
    const tries =
      this.failedTries > 0
        ? `: ${this.failedTries} ${this.failedTries === 1 ? 'try' : 'tries'} failed, last: ${this.lastFailure}`
        : '';
    return `${status.state}${spooled}; Kafka unreachable${tries}`;
  }
}

/**
 * A client that asks Kafka once per try (no retries of its own), so a start does not wait
 * out the bus client's retries and each try is counted; its connection errors, one per try,
 * are logged at debug (the bus reports the outage itself).
 */
export function kafkaProbeClient(
  clientId: string,
  brokers: readonly string[],
  logger: Pick<Logger, 'debug'>,
): Kafka {
  return createKafka({
    clientId: `${clientId}-probe`,
    brokers,
    config: {
      logCreator: kafkaLogCreator({ warn: (msg, fields) => logger.debug(msg, fields) }),
      retry: { retries: 0 },
    },
  });
}

/** Whether Kafka answers: one admin connection on `kafka`, closed at once. */
export function kafkaProbe(kafka: Kafka): () => Promise<void> {
  return async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}
