// An idempotent producer of JSON messages: the broker drops the duplicates its retries
// would write, and a batch is acknowledged by all in-sync replicas.
import type { Kafka, Producer, RecordMetadata } from 'kafkajs';
import { kafkajs } from '../client-libraries';

export interface JsonMessage<T> {
  readonly key: string;
  /** Serialised with JSON.stringify; a Buffer is sent as it is (already encoded). */
  readonly value: T | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export class JsonProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
      idempotent: true,
      // kafkajs keeps ordering with idempotence only at one request in flight.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // The murmur2 partitioner Java clients use, so keys land alike from either side.
      createPartitioner: kafkajs().Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async send<T>(topic: string, messages: readonly JsonMessage<T>[]): Promise<RecordMetadata[]> {
    if (messages.length === 0) return [];
    return this.producer.send({
      topic,
      acks: -1,
      compression: kafkajs().CompressionTypes.None,
      messages: messages.map((m) => ({
        key: m.key,
        value: Buffer.isBuffer(m.value) ? m.value : JSON.stringify(m.value),
        ...(m.headers ? { headers: { ...m.headers } } : {}),
      })),
    });
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
