// A consumer-group member that decodes each message and hands it, typed, to a handler.
// A message the decoder rejects goes to `onInvalid` (e.g. a dead-letter topic) and is
// committed, so one bad record cannot stop its partition. A handler that throws makes
// kafkajs retry the message (the offset is not committed).
import { type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';

export interface ConsumedMessage<T> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly value: T;
  readonly headers: Readonly<Record<string, string>>;
}

export interface InvalidMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly raw: Buffer | null;
  readonly reason: string;
}

export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: { readonly message: string } };

/** Turns a message body into a value; `decodeEvent` from @aigw/contracts fits. */
export type Decoder<T> = (topic: string, raw: Buffer | null) => DecodeResult<T>;

/** A decoder for plain JSON checked by `check` (which returns its problems, if any). */
export function jsonDecoder<T>(check: (json: unknown) => DecodeResult<T>): Decoder<T> {
  return (_topic, raw) => {
    try {
      return check(JSON.parse(raw?.toString('utf8') ?? 'null'));
    } catch {
      return { ok: false, error: { message: 'not JSON' } };
    }
  };
}

export interface GroupConsumerOptions<T> {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly decode: Decoder<T>;
  readonly handle: (message: ConsumedMessage<T>) => Promise<void>;
  readonly onInvalid?: (message: InvalidMessage) => Promise<void>;
  /** Where a group with no committed offset starts; default the earliest message. */
  readonly fromBeginning?: boolean;
}

export class GroupConsumer<T> {
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly options: GroupConsumerOptions<T>,
  ) {
    this.consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  }

  /** Joins the group and starts consuming; resolves once this member has joined. */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) =>
        this.dispatch(topic, partition, message),
    });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async dispatch(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const decoded = this.options.decode(topic, message.value);
    if (!decoded.ok) {
      await this.options.onInvalid?.({
        topic,
        partition,
        offset: message.offset,
        raw: message.value,
        reason: decoded.error.message,
      });
      return;
    }
    await this.options.handle({
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString('utf8'),
      value: decoded.value,
      headers: headersOf(message),
    });
  }
}

function headersOf(message: KafkaMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return headers;
}
