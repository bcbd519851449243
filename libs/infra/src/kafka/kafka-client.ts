// kafkajs client from KAFKA_BROKERS ("host:port[,host:port...]").
import type { Kafka, KafkaConfig } from 'kafkajs';
import { kafkajs } from '../client-libraries';

export class KafkaConfigError extends Error {
  override name = 'KafkaConfigError';
}

const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;

export function parseBrokers(value: string | undefined): string[] {
  if (!value || value.trim() === '') throw new KafkaConfigError('KAFKA_BROKERS is not set');
  const brokers = value.split(',').map((b) => b.trim());
  if (!brokers.every((b) => BROKER.test(b))) {
    throw new KafkaConfigError('KAFKA_BROKERS: expected host:port[,host:port...]');
  }
  return brokers;
}

export interface KafkaClientOptions {
  readonly clientId: string;
  readonly brokers?: string | readonly string[];
  readonly config?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
}

export function createKafka(options: KafkaClientOptions): Kafka {
  const brokers =
    typeof options.brokers === 'object'
      ? [...options.brokers]
      : parseBrokers(options.brokers ?? process.env.KAFKA_BROKERS);
  const { Kafka, logLevel } = kafkajs();
  return new Kafka({
    clientId: options.clientId,
    brokers,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    // kafkajs logs every retriable error at ERROR; a rebalance is not an outage.
    logLevel: logLevel.WARN,
    ...options.config,
  });
}
