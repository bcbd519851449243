// The gateway's event bus on Kafka, a drop-in for the embedded bus behind the same
// EventPublisher and subscribe(). Publishing is a push to memory; one background sender
// writes batches with an idempotent producer; while Kafka is away events wait in a
// bounded disk spool and are replayed in order. Consumers commit only after the handler.
import { randomUUID } from 'node:crypto';
import {
  decodeEvent,
  encodeEvent,
  EVENT_HEADERS,
  Topic,
  type ContractsError,
  type EncodedEvent,
  type EventPublisher,
  type EventSubscription,
  type GatewayEvent,
} from '@aigw/contracts';
import {
  deadLetterLogMessage,
  deadLetterReason,
  HANDLER_FAILED_CODE,
  LetteredPositions,
  LOG_CHECK_LOOKBACK,
  PoisonIsolation,
  type PoisonEvent,
  type PoisonRule,
  type QuietTopicRule,
} from '@aigw/embedded';
import type {
  Admin,
  Consumer,
  EachBatchPayload,
  IHeaders,
  Kafka,
  KafkaMessage,
  Message,
  Producer,
} from 'kafkajs';
import { kafkajs } from '../client-libraries';
import { ensureEventTopics } from './event-topics';
import { readPartitionRanges, type PartitionRange } from './kafka-partition-read';
import { type EventSpool, type SpooledEvent } from './event-spool';
import { signsOfLife, stalledConsumers, type WatchedConsumer } from './consumer-watch';
import { joinAssignment, PartitionLag, refreshLag, type ConsumerLagObserver } from './consumer-lag';
import {
  KafkaConnectionSupervisor,
  type ConnectionSupervisorObserver,
} from './kafka-connection-supervisor';

/** Structurally the gateway's Logger; anything with these three methods fits. */
export interface EventBusLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Where the bus reports its numbers (the runtime maps them onto MetricsRegistry). */
export interface KafkaEventBusObserver extends ConnectionSupervisorObserver, ConsumerLagObserver {
  spoolDepth?(events: number): void;
  /** A consumed message this build could not decode; it went to the dead-letter topic. */
  deadLettered?(labels: { topic: string; code: string }): void;
  /**
   * An event the handler kept failing on while the store worked went to the dead-letter
   * topic: by `strikes` (`handlerAttempts` rounds where others were handled) or by the
   * `quiet-topic` rule (see PoisonIsolation).
   */
  handlerDeadLettered?(labels: { group: string; topic: string; rule: PoisonRule }): void;
  /** A handler call that failed and will be retried (a batch, or one event of it). */
  handlerRetried?(labels: { group: string; topic: string }): void;
  /** Events turned away because the spool is full or unwritable (never silent: also logged). */
  refused?(labels: { topic: string; reason: string }, count: number): void;
  /**
   * A consumer the bus replaced with a fresh one: kafkajs gave up on it (`crashed`), or it
   * showed no sign of life for `consumerStallMs` (`stalled`).
   */
  consumerReplaced?(labels: { group: string; reason: ConsumerReplacement }): void;
}

export type ConsumerReplacement = 'crashed' | 'stalled';

export interface KafkaEventBusOptions {
  /** Owned by the bus from here on: `close()` closes it. */
  readonly spool: EventSpool;
  /**
   * Prepended to every topic name and consumer group id (an environment's namespace on a
   * shared cluster); every service of one deployment uses the same prefix.
   */
  readonly topicPrefix?: string;
  /** Events per produce request and per handler call. Default 500. */
  readonly maxBatch?: number;
  /** How long a lone event waits for company before it is sent. Default 20 ms. */
  readonly lingerMs?: number;
  /** A batch Kafka has not acknowledged after this long is written to the spool. Default 1 s. */
  readonly spoolAfterMs?: number;
  /** Backoff between replay attempts and handler retries. Default 250 ms doubling to 5 s. */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /**
   * Strikes before an event the handler keeps failing on is dead-lettered: a strike counts
   * only in a retry round where other events of its topic in its batch (or a known-good one
   * handled again) succeed, or, when it is alone in its batch, when the subscription handled
   * other events of its topic (another partition's) since it last failed, so a store outage
   * never dead-letters anything. Default 5.
   */
  readonly handlerAttempts?: number;
  /**
   * The quiet-topic rule (see PoisonIsolation): a lone event that fails while nothing else of
   * its topic moves is dead-lettered after this many failures alone (default: handlerAttempts)
   * over at least `quietTopicAfterMs` (default 10 minutes), once the last event of its topic
   * handled again succeeds (nothing is lettered while the store is down). With nothing of
   * the topic handled since start, that event is read from Kafka (the partition's last
   * before the group's committed offset); with none there, nothing is lettered. Several
   * failing at the end of a partition are judged so one at a time, in order.
   */
  readonly quietTopicAttempts?: number;
  readonly quietTopicAfterMs?: number;
  /** How often a spool that refused a write is tried again with no event to write. Default 1 s. */
  readonly spoolProbeMs?: number;
  /** How long `close()` keeps replaying the spool when Kafka is reachable. Default 5 s. */
  readonly closeDrainMs?: number;
  /** How long an ephemeral subscription may take to read its topics to the end. Default 60 s. */
  readonly catchUpTimeoutMs?: number;
  /**
   * A produce request Kafka has neither acknowledged nor failed after this long is given up
   * (its batch is already in the spool) and a fresh producer replays. Default 60 s: well past
   * what kafkajs' own request timeout and retries take to fail a request, so only a request
   * kafkajs lost track of meets it.
   */
  readonly sendTimeoutMs?: number;
  /**
   * A consumer that shows no sign of life (fetch, heartbeat, join, batch) for this long while
   * no handler runs is replaced by a fresh one in the same group. Default 30 s.
   */
  readonly consumerStallMs?: number;
  /**
   * How often the consumer lag of every partition a consumer owns is read from the broker
   * (high watermark less committed offset), beside the update after each committed batch:
   * a partition with nothing new, or whose handler keeps failing, commits nothing. Default 30 s.
   */
  readonly lagRefreshMs?: number;
  /**
   * Answers wait for their record (AI_GATEWAY_ANSWER_AFTER_RECORD=on): the bus then offers
   * `recordBarrier`, its `durable()`.
   */
  readonly answersAwaitRecord?: boolean;
  readonly logger?: EventBusLogger;
  readonly observer?: KafkaEventBusObserver;
}

export interface KafkaEventBusStartOptions {
  /** Create missing topics with TOPIC_SETTINGS. Default true. */
  readonly createTopics?: boolean;
  /** Overrides every topic's partition count at creation (test brokers). */
  readonly topicPartitions?: number;
  /**
   * What a Kafka that does not answer at start means. `fail` (default): `start` rejects.
   * `spool`: the bus starts as in an outage (events go to the spool, subscriptions wait)
   * and keeps trying with the retry backoff; once Kafka answers it creates or checks the
   * topics, starts the consumers subscribed meanwhile and replays the spool.
   */
  readonly whileUnreachable?: 'fail' | 'spool';
  /**
   * With `spool`: one quick try whether Kafka answers, on a client without retries of its
   * own (each try is then one `connectionAttempt`, spaced by the bus's backoff). Default:
   * an admin connect on the bus's client, whose retries make one try last longer.
   */
  readonly probe?: () => Promise<void>;
  /** With `spool`: how long `start` waits for Kafka to answer before it spools. Default 1 s. */
  readonly startWaitMs?: number;
}

/** How `start` went: `connected: false` only under `whileUnreachable: 'spool'`. */
export type KafkaEventBusStarted =
  { readonly connected: true } | { readonly connected: false; readonly error: unknown };

/**
 * `connected`: sends are acknowledged and consumers fetch. `unreachable`: a consumer lost
 * the broker and nothing needed spooling yet. `spooling`: events wait in the spool.
 * `spool-full`: new events are refused; `spool-unwritable`: the spool's disk refuses writes
 * (full), so are they: the two states that are not ready.
 */
export type KafkaBusState =
  'connected' | 'unreachable' | 'spooling' | 'spool-full' | 'spool-unwritable' | 'closed';

export interface KafkaBusStatus {
  readonly state: KafkaBusState;
  /** Kafka answered the bus's last try: its start, its last send and every consumer's fetch. */
  readonly reachable: boolean;
  /** False only when the spool is full or unwritable and new events are being refused. */
  readonly ready: boolean;
  readonly spooled: number;
  readonly spooledBytes: number;
  readonly refused: number;
}

/** Headers added to a dead-lettered message, beside the original ones. */
export const DEAD_LETTER_HEADERS = {
  reason: 'aigw-dead-letter-reason',
  code: 'aigw-dead-letter-code',
  topic: 'aigw-dead-letter-topic',
  partition: 'aigw-dead-letter-partition',
  offset: 'aigw-dead-letter-offset',
  group: 'aigw-dead-letter-group',
  /** Set when the value was too large for the dead-letter topic: its size in bytes. */
  omittedBytes: 'aigw-dead-letter-omitted-bytes',
  /** Set for a handler failure: how many rounds the handler failed on it. */
  attempts: 'aigw-dead-letter-attempts',
  /** A handler's failure: `strikes`, or `quiet-topic` (see PoisonIsolation). */
  rule: 'aigw-dead-letter-rule',
} as const;

/** Why a message went to the dead-letter topic: a decode error, or a handler's failure. */
interface DeadLetterCause {
  readonly code: string;
  readonly message: string;
  readonly attempts?: number;
  readonly rule?: PoisonRule;
}

/** A decoded message of a batch, kept with its message for the dead-letter topic. */
interface Consumed {
  readonly message: KafkaMessage;
  readonly event: GatewayEvent;
}

interface InFlight {
  readonly events: readonly EncodedEvent[];
  /** Last spool position in the batch, when it was read from the spool. */
  readonly spoolThrough?: number;
  /** Set once the batch counts as settled through the spool (written, or refused). */
  handedOff: boolean;
  spooledRange?: { first: number; last: number };
}

interface Member extends WatchedConsumer {
  readonly subscription: EventSubscription;
  readonly ephemeral: boolean;
  /** The group id before a view's per-start suffix. */
  readonly group: string;
  readonly topics: readonly string[];
  /** The consumer running for the subscription now; a replacement swaps it. */
  consumer: Consumer;
  catchUp?: CatchUp;
  /** A view's next offset per `topic:partition`, where a replacement resumes. */
  readonly positions: Map<string, string>;
  /** Crashed (lost the broker, typically) and not fetching again yet. */
  failing: boolean;
  /** Subscribed before Kafka ever answered: no consumer yet; one starts once it does. */
  deferred: boolean;
  /** Strikes of events its handler fails on (see PoisonIsolation). */
  readonly isolation: PoisonIsolation<Consumed>;
  /** Per `topic:partition` handed back to the fetch while failing: the backoff carries on. */
  readonly failingStreaks: Map<string, FailingStreak>;
  /**
   * Per `topic:partition`, offsets dead-lettered and not yet committed past: a fetch of
   * the same messages again (its batch went back uncommitted) neither letters nor hands
   * them over again. Forgotten once the commit passes them.
   */
  readonly lettered: LetteredPositions<string, string>;
  /** The lag of the partitions its consumer owns now (see consumer-lag.ts). */
  readonly lag: PartitionLag;
}

/** A partition whose batches keep failing across fetches (see handleUntilDone). */
interface FailingStreak {
  delayMs: number;
  fetches: number;
}

const SILENT: EventBusLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const REFUSAL_LOG_EVERY_MS = 10_000;

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

export class KafkaEventBus implements EventPublisher {
  private readonly spool: EventSpool;
  private readonly prefix: string;
  private readonly maxBatch: number;
  /** Events per request now: halved while the broker refuses requests as too large. */
  private batchLimit: number;
  private readonly lingerMs: number;
  private readonly spoolAfterMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly closeDrainMs: number;
  private readonly spoolProbeMs: number;
  /** Tries the spool while it is unwritable: out of rotation, no event may come to try it. */
  private spoolProbeTimer: NodeJS.Timeout | undefined;
  private readonly catchUpTimeoutMs: number;
  private readonly sendTimeoutMs: number;
  private readonly consumerStallMs: number;
  private readonly lagRefreshMs: number;
  private readonly handlerAttempts: number | undefined;
  private readonly quietTopic: QuietTopicRule;
  private readonly logger: EventBusLogger;
  private readonly observer: KafkaEventBusObserver;

  private memory: EncodedEvent[] = [];
  private inflight: InFlight | undefined;
  private sending: Promise<void> | undefined;
  private producer: Producer | undefined;
  private producerReady: Promise<void> | undefined;
  private deadLetterProducer: Producer | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private nextAttemptAt = 0;
  private failures = 0;
  private spoolFull = false;
  /**
   * The spool's last write failed (a full disk): while Kafka is away every event is refused,
   * as past the byte bound. Cleared by a write that succeeds or a batch Kafka acknowledges.
   */
  private spoolUnwritable = false;
  /** Started while Kafka did not answer, and it has not answered since. */
  private awaitingKafka = false;
  /** How `start` prepared Kafka: a topic found missing later is created again so. */
  private startOptions: KafkaEventBusStartOptions = {};
  /**
   * A send found a topic missing (deleted while the bus ran): the next send creates the
   * gateway's missing topics first, as a start does.
   */
  private topicsMissing = false;
  /** A dead letter found its topic missing, and it has not been sent since. */
  private deadLetterTopicMissing = false;

  // Every event is settled in publish order (acknowledged, spooled or refused), so one
  // counter pair tells `flush` when everything published before it is safe.
  private published = 0;
  private settled = 0;
  private waiters: { target: number; resolve: () => void }[] = [];
  private durableSendScheduled = false;

  /** Present only with `answersAwaitRecord`: see EventPublisher.recordBarrier. */
  readonly recordBarrier?: () => Promise<void>;

  private refusedTotal = 0;
  private refusedSinceLog = 0;
  private lastRefusalLog = 0;

  private readonly members: Member[] = [];
  private watchTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private lagAdmin: Promise<Admin> | undefined;
  private lagRefreshing = false;
  private lagRefreshFailed = false;
  private closing = false;
  private stopped = false;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    options: KafkaEventBusOptions,
  ) {
    this.spool = options.spool;
    this.prefix = options.topicPrefix ?? '';
    this.maxBatch = options.maxBatch ?? 500;
    this.batchLimit = this.maxBatch;
    this.lingerMs = options.lingerMs ?? 20;
    this.spoolAfterMs = options.spoolAfterMs ?? 1_000;
    this.retryMinMs = options.retryMinMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 5_000;
    this.closeDrainMs = options.closeDrainMs ?? 5_000;
    this.spoolProbeMs = options.spoolProbeMs ?? 1_000;
    this.catchUpTimeoutMs = options.catchUpTimeoutMs ?? 60_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 60_000;
    this.consumerStallMs = options.consumerStallMs ?? 30_000;
    this.lagRefreshMs = options.lagRefreshMs ?? 30_000;
    this.handlerAttempts = options.handlerAttempts;
    this.quietTopic = {
      attempts: options.quietTopicAttempts,
      afterMs: options.quietTopicAfterMs,
    };
    this.logger = options.logger ?? SILENT;
    this.observer = options.observer ?? {};
    if (options.answersAwaitRecord) this.recordBarrier = () => this.durable();
  }

  /**
   * Creates missing topics and replays what an earlier run spooled. With
   * `whileUnreachable: 'spool'`, a Kafka that does not answer leaves the bus spooling and
   * trying again in the background (see KafkaEventBusStartOptions).
   */
  async start(options: KafkaEventBusStartOptions = {}): Promise<KafkaEventBusStarted> {
    this.startOptions = options;
    if (options.whileUnreachable === 'spool') return this.startWhileUnreachable(options);
    await this.prepareKafka(options);
    this.replaySpool();
    return { connected: true };
  }

  /** The start of a bus that may serve without Kafka: see KafkaConnectionSupervisor. */
  private async startWhileUnreachable(
    options: KafkaEventBusStartOptions,
  ): Promise<KafkaEventBusStarted> {
    const supervisor = new KafkaConnectionSupervisor({
      probe: options.probe ?? (() => this.answers()),
      prepare: () => this.prepareKafka(options),
      startWaitMs: options.startWaitMs ?? 1_000,
      retryMinMs: this.retryMinMs,
      retryMaxMs: this.retryMaxMs,
      stopped: () => this.closing,
      observer: this.observer,
      logger: this.logger,
    });
    // Set first: a late first try may succeed before `start` has returned.
    this.awaitingKafka = true;
    const started = await supervisor.start((attempt) => this.kafkaAnswered(attempt));
    if (started.connected) {
      this.awaitingKafka = false;
      this.replaySpool();
    } else {
      this.reportSpool();
    }
    return started;
  }

  private async prepareKafka(options: KafkaEventBusStartOptions): Promise<void> {
    if (options.createTopics ?? true) {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        // Three copies where the cluster has three brokers (with acks=all and two in sync,
        // an acknowledged event survives a broker loss); one on a single-node cluster.
        const { brokers } = await admin.describeCluster();
        const replicationFactor = Math.min(3, Math.max(1, brokers.length));
        // A busy broker may still be electing the new partitions' leaders: try again.
        await retryWhileRetriable(
          () =>
            ensureEventTopics(admin, {
              prefix: this.prefix,
              replicationFactor,
              ...(options.topicPartitions ? { partitions: options.topicPartitions } : {}),
            }),
          60_000,
        );
      } finally {
        await admin.disconnect();
      }
    }
  }

  /** Whether Kafka answers, asked on the bus's own client. */
  private async answers(): Promise<void> {
    const admin = await this.connectedAdmin();
    await admin.disconnect();
  }

  private replaySpool(): void {
    if (this.spool.count > 0) {
      this.logger.info('replaying events spooled by an earlier run', {
        events: this.spool.count,
        bytes: this.spool.bytes,
      });
    }
    this.reportSpool();
    this.kick();
  }

  /** Kafka answered after a start without it: the consumers subscribed meanwhile, the spool. */
  private kafkaAnswered(attempt: number): void {
    this.awaitingKafka = false;
    this.logger.info('Kafka answers; starting the consumers and replaying the spool', {
      attempt,
      spooled: this.spool.count,
      consumers: this.members.filter((m) => m.deferred).length,
    });
    for (const member of this.members) {
      if (!member.deferred) continue;
      member.deferred = false;
      this.keepStarting(member, 'the event consumer started once Kafka answered');
    }
    this.replaySpool();
  }

  // ---------------------------------------------------------------- publishing

  /** Never blocks and never fails for Kafka's sake: the event is queued in memory. */
  publish(event: GatewayEvent): void {
    const encoded = encodeEvent(event);
    this.published++;
    if (this.closing) {
      this.refuse([encoded], 'closed');
      this.advance(1);
      return;
    }
    this.memory.push(encoded);
    if (this.memory.length >= this.maxBatch) this.kick();
    else this.lingerTimer ??= setTimeout(() => this.kick(), this.lingerMs);
  }

  /** Resolves once everything published so far is acknowledged by Kafka or in the spool. */
  flush(): Promise<void> {
    const target = this.published;
    if (this.settled >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.push({ target, resolve }));
    this.kick();
    return done;
  }

  /**
   * `flush` for answers waiting on their record: resolves once everything published so far
   * is acknowledged or in the spool (the watchdog spools a batch Kafka has not acknowledged
   * within `spoolAfterMs`, so this is bounded). The callers of one event-loop turn start one
   * send rather than one each. A refused event (full spool) counts as settled, as for
   * `flush`: it is counted and logged where it is refused.
   */
  durable(): Promise<void> {
    const target = this.published;
    if (this.settled >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.push({ target, resolve }));
    if (!this.durableSendScheduled) {
      this.durableSendScheduled = true;
      setImmediate(() => {
        this.durableSendScheduled = false;
        this.kick();
      });
    }
    return done;
  }

  /** Events queued in memory, not yet sent or spooled. */
  get pendingCount(): number {
    return this.memory.length;
  }

  get spooledCount(): number {
    return this.spool.count;
  }

  status(): KafkaBusStatus {
    const state: KafkaBusState = this.stopped
      ? 'closed'
      : this.spoolFull
        ? 'spool-full'
        : this.spoolUnwritable
          ? 'spool-unwritable'
          : this.failures > 0 || this.degraded
            ? 'spooling'
            : this.members.some((m) => m.failing)
              ? 'unreachable'
              : 'connected';
    return {
      state,
      reachable:
        !this.stopped &&
        !this.awaitingKafka &&
        this.failures === 0 &&
        !this.members.some((m) => m.failing),
      ready: state !== 'spool-full' && state !== 'spool-unwritable' && state !== 'closed',
      spooled: this.spool.count,
      spooledBytes: this.spool.bytes,
      refused: this.refusedTotal,
    };
  }

  private get degraded(): boolean {
    return this.awaitingKafka || this.spool.count > 0 || this.inflight?.handedOff === true;
  }

  // The pump: at most one produce request is outstanding at any time, so a batch can never
  // overtake an older one (per-key order holds through outages and replays).
  private kick(): void {
    try {
      this.pump();
    } catch (error) {
      // The spool could not be read (a disk I/O error): what it holds stays there, in
      // order, and is tried again after the longest backoff. Thrown on, from a timer, it
      // would end the process and every call in flight with it. The backoff holds for the
      // kicks each publish makes meanwhile too: read again at each, it logged each time.
      this.logger.error('the event pump could not read its spool; trying again', {
        error,
        spooled: this.spool.count,
      });
      this.nextAttemptAt = Date.now() + this.retryMaxMs;
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, this.retryMaxMs);
    }
  }

  private pump(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.stopped) return;
    if (this.degraded) this.moveMemoryToSpool();
    if (this.sending || this.awaitingKafka) return;
    if (this.spool.count > 0) {
      const wait = this.nextAttemptAt - Date.now();
      if (wait > 0) {
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, wait);
        return;
      }
      const rows: SpooledEvent[] = this.spool.peek(this.batchLimit);
      this.send({ events: rows, spoolThrough: rows[rows.length - 1].seq, handedOff: true });
    } else if (this.memory.length > 0) {
      this.send({ events: this.memory.splice(0, this.batchLimit), handedOff: false });
    }
  }

  private send(flight: InFlight): void {
    this.inflight = flight;
    const watchdog =
      flight.spoolThrough === undefined
        ? setTimeout(() => this.spoolInFlight(flight), this.spoolAfterMs)
        : undefined;
    this.sending = withinDeadline(this.produce(flight.events), this.sendTimeoutMs, 'Kafka')
      .then(
        () => this.onSent(flight),
        (error: unknown) => this.onSendFailed(flight, error),
      )
      .catch((error: unknown) => this.logger.error('the event sender failed', { error }))
      .finally(() => {
        clearTimeout(watchdog);
        this.inflight = undefined;
        this.sending = undefined;
        if (this.memory.length > 0 || this.spool.count > 0) this.kick();
      });
  }

  private async produce(events: readonly EncodedEvent[]): Promise<void> {
    if (this.topicsMissing) await this.recreateMissingTopics();
    const producer = await this.connectedProducer();
    const byTopic = new Map<string, Message[]>();
    for (const event of events) {
      const topic = this.physical(event.topic);
      let messages = byTopic.get(topic);
      if (!messages) byTopic.set(topic, (messages = []));
      messages.push({ key: event.key, value: event.value, headers: event.headers });
    }
    await producer.sendBatch({
      acks: -1,
      compression: kafkajs().CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  private onSent(flight: InFlight): void {
    if (this.failures > 0) {
      this.logger.info('Kafka acknowledges again; replaying the spool', {
        spooled: this.spool.count,
      });
    }
    this.failures = 0;
    this.nextAttemptAt = 0;
    this.markSpoolWritable(); // events reach Kafka: refusals, if any, are the spool's alone
    this.batchLimit = Math.min(this.maxBatch, this.batchLimit * 2);
    if (this.stopped) return; // the spool may be closed; what it holds replays next start
    if (flight.spoolThrough !== undefined) {
      this.spool.removeThrough(flight.spoolThrough);
      this.spoolFull = false;
    } else if (flight.spooledRange) {
      // Acknowledged after the watchdog spooled it: those rows are the oldest, drop them.
      this.spool.removeRange(flight.spooledRange.first, flight.spooledRange.last);
      this.spoolFull = false;
    } else if (!flight.handedOff) {
      this.advance(flight.events.length);
    }
    this.reportSpool();
  }

  /**
   * A batch holding one event of a missing topic is refused whole, and replayed first it
   * would hold back every later event (usage included) until a restart created the topic.
   */
  private async recreateMissingTopics(): Promise<void> {
    await this.prepareKafka(this.startOptions);
    this.topicsMissing = false;
  }

  /** Whether `error` is a topic missing that the bus creates again (as its start would). */
  private recreatesTopicFor(error: unknown): boolean {
    return isUnknownTopic(error) && (this.startOptions.createTopics ?? true);
  }

  private onSendFailed(flight: InFlight, error: unknown): void {
    if (isTooLarge(error)) return this.onTooLarge(flight, error);
    if (!this.topicsMissing && this.recreatesTopicFor(error)) {
      this.topicsMissing = true;
      this.logger.warn('a topic the gateway writes to is missing (deleted?); creating it again', {
        spooled: this.spool.count,
        error,
      });
    }
    this.failures++;
    const delay = Math.min(this.retryMinMs * 2 ** (this.failures - 1), this.retryMaxMs);
    this.nextAttemptAt = Date.now() + delay;
    // Log the first failure of an outage and then every tenth, not every retry.
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.logger.warn('Kafka did not acknowledge a batch; events go to the spool', {
        attempt: this.failures,
        events: flight.events.length,
        spooled: this.spool.count,
        error,
      });
    }
    // A fresh producer (new producer id) for the next attempt: the old one's sequence
    // state is unknown after a failed request.
    this.dropProducer();
    if (this.stopped) return;
    if (!flight.handedOff) {
      flight.handedOff = true;
      this.spoolEvents(flight.events);
    }
  }

  /**
   * A request the broker refused as too large (max.message.bytes counts a partition's whole
   * batch) would be refused again as it is, and replayed first forever it would hold back
   * every later event: a batch is retried in halves at once, and a single event the broker
   * will never take is dropped, counted and logged (never its content).
   */
  private onTooLarge(flight: InFlight, error: unknown): void {
    this.dropProducer();
    if (this.stopped) return;
    if (flight.events.length > 1) {
      this.batchLimit = Math.max(1, Math.floor(flight.events.length / 2));
      if (!flight.handedOff) {
        flight.handedOff = true;
        this.spoolEvents(flight.events);
      }
      return;
    }
    if (flight.spoolThrough !== undefined) {
      this.spool.removeThrough(flight.spoolThrough);
    } else if (flight.spooledRange) {
      this.spool.removeRange(flight.spooledRange.first, flight.spooledRange.last);
    } else if (!flight.handedOff) {
      this.advance(flight.events.length);
    }
    this.reportSpool();
    const [event] = flight.events;
    this.observer.refused?.({ topic: event.topic, reason: 'too-large' }, 1);
    this.refusedTotal++;
    this.logger.error('Kafka refused an event as too large (max.message.bytes); it is dropped', {
      topic: event.topic,
      eventId: event.headers[EVENT_HEADERS.eventId],
      bytes: event.value.length,
      error,
    });
  }

  /** The watchdog: a batch Kafka is slow to acknowledge is made durable on disk. */
  private spoolInFlight(flight: InFlight): void {
    if (this.inflight !== flight || flight.handedOff || this.stopped) return;
    flight.handedOff = true;
    const result = this.spoolEvents(flight.events);
    if (result.firstSeq !== undefined && result.lastSeq !== undefined) {
      flight.spooledRange = { first: result.firstSeq, last: result.lastSeq };
    }
    this.moveMemoryToSpool();
  }

  private moveMemoryToSpool(): void {
    if (this.memory.length === 0) return;
    const batch = this.memory;
    this.memory = [];
    this.spoolEvents(batch);
  }

  private spoolEvents(events: readonly EncodedEvent[]): {
    firstSeq?: number;
    lastSeq?: number;
  } {
    const result = this.spool.append(events);
    if (result.reason === 'write-failed') this.markSpoolUnwritable();
    else this.markSpoolWritable();
    if (result.refused.length > 0) {
      // An empty spool refusing an event means that event alone passes the bound: it is
      // too large to keep, the spool is not full, and nothing would ever clear the mark.
      const tooLarge = result.reason === 'full' && this.spool.count === 0;
      if (result.reason === 'full' && !tooLarge) this.spoolFull = true;
      this.refuse(
        result.refused,
        tooLarge ? 'too-large' : (result.reason ?? 'write-failed'),
        result.error,
      );
    }
    this.advance(events.length);
    this.reportSpool();
    return {
      ...(result.firstSeq !== undefined ? { firstSeq: result.firstSeq } : {}),
      ...(result.lastSeq !== undefined ? { lastSeq: result.lastSeq } : {}),
    };
  }

  /**
   * The spool refused a write: not ready while Kafka is away too. A pod out of rotation gets
   * no request to publish, so nothing would try the spool again: a timer does, every
   * `spoolProbeMs`, until it writes (or Kafka acknowledges a batch).
   */
  private markSpoolUnwritable(): void {
    this.spoolUnwritable = true;
    if (this.stopped) return; // the spool is closed or closing: nothing to probe
    this.spoolProbeTimer ??= setInterval(() => {
      if (this.spool.writable()) this.markSpoolWritable();
    }, this.spoolProbeMs).unref();
  }

  private markSpoolWritable(): void {
    this.spoolUnwritable = false;
    clearInterval(this.spoolProbeTimer);
    this.spoolProbeTimer = undefined;
  }

  private refuse(events: readonly EncodedEvent[], reason: string, error?: unknown): void {
    const perTopic = new Map<string, number>();
    for (const event of events) perTopic.set(event.topic, (perTopic.get(event.topic) ?? 0) + 1);
    for (const [topic, count] of perTopic) this.observer.refused?.({ topic, reason }, count);
    this.refusedTotal += events.length;
    this.refusedSinceLog += events.length;
    const now = Date.now();
    if (now - this.lastRefusalLog >= REFUSAL_LOG_EVERY_MS) {
      this.logger.error('events refused: Kafka is unreachable and the spool cannot take them', {
        reason,
        refused: this.refusedSinceLog,
        refusedTotal: this.refusedTotal,
        spooledBytes: this.spool.bytes,
        spoolMaxBytes: this.spool.maxBytes,
        ...(error === undefined ? {} : { error }),
      });
      this.lastRefusalLog = now;
      this.refusedSinceLog = 0;
    }
  }

  private advance(count: number): void {
    this.settled += count;
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.target <= this.settled) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }

  private reportSpool(): void {
    this.observer.spoolDepth?.(this.spool.count);
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        // kafkajs keeps ordering with idempotence only at one request in flight.
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: kafkajs().Partitioners.DefaultPartitioner,
        // Bounded retries: a send that gives up lands in the spool and is replayed by a
        // fresh producer, instead of one request retrying through an outage forever.
        retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 3_000 },
      });
      this.producer = producer;
      this.producerReady = producer.connect();
    }
    const producer = this.producer;
    return (this.producerReady ?? Promise.resolve()).then(() => producer);
  }

  private dropProducer(): void {
    const producer = this.producer;
    this.producer = undefined;
    this.producerReady = undefined;
    if (producer) void producer.disconnect().catch(() => undefined);
  }

  // ---------------------------------------------------------------- consuming

  /**
   * Starts a consumer for the subscription. A group resolves once it joined; an ephemeral
   * view resolves once it has read its topics up to where they ended at the call.
   */
  async subscribe(subscription: EventSubscription): Promise<void> {
    if (this.closing) throw new Error('the event bus is closing');
    const member: Member = {
      subscription,
      ephemeral: subscription.ephemeral === true,
      group: `${this.prefix}${subscription.group}`,
      topics: subscription.topics.map((t) => this.physical(t)),
      consumer: undefined as unknown as Consumer, // set by startConsumer before any use
      positions: new Map(),
      failing: false,
      deferred: false,
      lastSignOfLife: Date.now(),
      handling: 0,
      // A first join may be slow (a broker still loading its groups); it is not a stall.
      starting: true,
      isolation: new PoisonIsolation<Consumed>(
        ({ event }) => event.eventId,
        this.handlerAttempts,
        // Scoped by topic: an event's type names its topic, one type per topic.
        ({ event }) => event.type,
        this.quietTopic,
      ),
      failingStreaks: new Map(),
      lettered: new LetteredPositions(),
      lag: new PartitionLag(subscription.group, this.observer),
    };
    this.members.push(member);
    this.watchTimer ??= setInterval(() => this.replaceStalled(), this.watchEveryMs).unref();
    this.lagTimer ??= setInterval(() => void this.refreshLag(), this.lagRefreshMs).unref();
    if (this.awaitingKafka) {
      // Kafka has never answered: the consumer starts once it does. `starting` keeps the
      // stall watch off it until then; a view is empty till then and fills as it reads.
      member.deferred = true;
      this.logger.info('Kafka does not answer yet; the event consumer starts once it does', {
        group: subscription.group,
      });
      return;
    }
    try {
      if (member.ephemeral) member.catchUp = await this.catchUpTarget(member.topics);
      await this.startConsumer(member);
      if (member.catchUp) await this.awaitCatchUp(member.catchUp, subscription.group);
    } catch (error) {
      this.members.splice(this.members.indexOf(member), 1);
      throw error;
    } finally {
      member.starting = false;
      member.lastSignOfLife = Date.now();
    }
  }

  private get watchEveryMs(): number {
    return Math.max(100, Math.min(5_000, this.consumerStallMs / 3));
  }

  /** Runs a fresh consumer for the member; resolves once it joined its group. */
  private async startConsumer(member: Member): Promise<void> {
    // A view reads everything at every start: a group of its own that never commits.
    const groupId = member.ephemeral ? `${member.group}.view.${randomUUID()}` : member.group;
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1_000,
      // A replica that died without leaving holds its partitions until the session ends:
      // 10 s (not kafkajs' 30 s) bounds how long usage waits for a crashed settler.
      sessionTimeout: 10_000,
      heartbeatInterval: HEARTBEAT_MS,
    });
    member.consumer = consumer;
    member.lastSignOfLife = Date.now();
    const current = () => member.consumer === consumer;
    for (const event of signsOfLife(consumer)) {
      consumer.on(event, () => {
        if (current()) member.lastSignOfLife = Date.now();
      });
    }
    consumer.on(consumer.events.FETCH, () => {
      if (current()) member.failing = false;
    });
    // Every join (the first, and each rebalance) says which partitions it owns now.
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (current()) member.lag.assigned(joinAssignment(event));
    });
    consumer.on(consumer.events.REBALANCING, () => {
      if (!current()) return;
      try {
        member.subscription.onRebalance?.();
      } catch (error) {
        this.logger.warn('a subscriber failed to hand over before a rebalance', {
          group: member.subscription.group,
          error,
        });
      }
    });
    let gaveUp: (error: unknown) => void = () => undefined;
    const givenUp = new Promise<never>((_, reject) => (gaveUp = reject));
    givenUp.catch(() => undefined);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!current()) return;
      member.failing = true;
      this.logger.warn('event consumer stopped on an error', {
        group: member.subscription.group,
        restarting: payload.restart,
        error: payload.error,
      });
      if (payload.restart) return; // kafkajs starts it again by itself
      gaveUp(payload.error);
      this.replaceConsumer(member, 'crashed');
    });
    try {
      const joined = new Promise<void>((resolve) => {
        const off = consumer.on(consumer.events.GROUP_JOIN, () => {
          off();
          resolve();
        });
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [...member.topics], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: member.subscription.concurrentPartitions ?? 1,
        eachBatch: (payload) => this.consumeBatch(member, consumer, payload),
      });
      // A replaced view goes on from where the one before it was, not from the beginning.
      for (const [key, offset] of member.positions) {
        const at = key.lastIndexOf(':');
        consumer.seek({ topic: key.slice(0, at), partition: Number(key.slice(at + 1)), offset });
      }
      await Promise.race([joined, givenUp]);
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private replaceStalled(): void {
    for (const member of stalledConsumers(this.members, Date.now(), this.consumerStallMs)) {
      this.replaceConsumer(member, 'stalled');
    }
  }

  /**
   * Swaps a consumer kafkajs gave up on, or that went quiet, for a fresh one in the same
   * group; retried with backoff until it joins or the bus closes. A durable group resumes at
   * its committed offsets, so nothing is skipped; a batch in flight may come again, which
   * handlers absorb as they do any redelivery.
   */
  private replaceConsumer(member: Member, reason: ConsumerReplacement): void {
    if (member.starting || this.closing || !this.members.includes(member)) return;
    member.starting = true;
    const group = member.subscription.group;
    this.observer.consumerReplaced?.({ group, reason });
    this.logger.warn('replacing an event consumer with a fresh one', {
      group,
      reason,
      quietForMs: Date.now() - member.lastSignOfLife,
    });
    // Its partitions go to the fresh consumer (or another replica): it reports none of them.
    member.lag.clear();
    // A hung consumer may never finish disconnecting; it is dropped either way.
    const dropped = withinDeadline(member.consumer.disconnect(), this.sendTimeoutMs, 'disconnect');
    this.keepStarting(member, 'the event consumer is running again', dropped);
  }

  /**
   * Starts a consumer for the member, retried with backoff until it joins or the bus
   * closes (or the member is gone). `member.starting` holds meanwhile.
   */
  private keepStarting(member: Member, started: string, after?: Promise<unknown>): void {
    member.starting = true;
    const group = member.subscription.group;
    const stillWanted = () => !this.closing && this.members.includes(member);
    void (async () => {
      // Awaited only when given: a deferred member gets its consumer in this same turn.
      if (after) await after.catch(() => undefined);
      let delay = this.retryMinMs;
      for (let attempt = 1; stillWanted(); attempt++) {
        try {
          await this.startConsumer(member);
          if (!stillWanted()) await member.consumer.disconnect().catch(() => undefined);
          else this.logger.info(started, { group, attempt });
          return;
        } catch (error) {
          if (attempt === 1 || attempt % 10 === 0) {
            this.logger.warn('a fresh event consumer could not start; trying again', {
              group,
              attempt,
              error,
            });
          }
        }
        await sleep(delay);
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    })().finally(() => {
      member.starting = false;
      member.lastSignOfLife = Date.now();
    });
  }

  private async consumeBatch(
    member: Member,
    consumer: Consumer,
    payload: EachBatchPayload,
  ): Promise<void> {
    member.handling++;
    try {
      await this.consumeChunks(member, consumer, payload);
    } finally {
      member.handling--;
    }
  }

  private async consumeChunks(
    member: Member,
    consumer: Consumer,
    payload: EachBatchPayload,
  ): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const logical = topic.startsWith(this.prefix) ? topic.slice(this.prefix.length) : topic;
    const group = member.subscription.group;
    for (let start = 0; start < batch.messages.length; start += this.maxBatch) {
      if (!payload.isRunning() || payload.isStale()) return;
      const chunk = batch.messages.slice(start, start + this.maxBatch);
      const lettered =
        member.lettered.size > 0 ? member.lettered.of(`${topic}:${partition}`) : undefined;
      const consumed: Consumed[] = [];
      for (const message of chunk) {
        if (lettered?.has(message.offset)) continue; // its letter went out at an earlier fetch
        const decoded = decodeEvent(logical, message.value);
        if (decoded.ok) consumed.push({ message, event: decoded.value });
        else {
          await this.deadLetter(group, topic, partition, message, decoded.error);
          member.lettered.add(`${topic}:${partition}`, message.offset);
        }
      }
      if (consumed.length > 0) {
        const handled = await this.handleUntilDone(member, consumed, payload);
        // Stopping, or the partition moved to another member: it will get them again.
        if (!handled) return;
      }
      const last = chunk[chunk.length - 1].offset;
      payload.resolveOffset(last);
      const next = BigInt(last) + 1n;
      if (member.ephemeral) member.positions.set(`${topic}:${partition}`, next.toString());
      else await commitHandled(consumer, payload, next.toString());
      if (member.lettered.size > 0) {
        member.lettered.forgetPassed(`${topic}:${partition}`, (offset) => BigInt(offset) < next);
      }
      // A replaced consumer's last batch no longer speaks for the partition.
      if (member.consumer === consumer) {
        member.lag.report(topic, partition, BigInt(batch.highWatermark) - next);
      }
      member.catchUp?.reached(topic, partition, next);
      await payload.heartbeat();
    }
  }

  /**
   * Calls the handler until every event is handled or dead-lettered. A failed batch is
   * retried with backoff, whole and then (while it still fails) one event at a time; an
   * event that keeps failing while the others (or a known-good one) are handled is poison
   * and goes to the dead-letter topic. While every call fails (the store is down), nothing
   * is dead-lettered: the partition goes back to the fetch uncommitted, which hands the
   * same events over again with any that arrived behind them, and the backoff carries on
   * across fetches. A poison event alone on its partition earns its strikes from the events
   * of its topic's other partitions handled between its tries, and on a topic where nothing
   * else moves the quiet-topic rule letters it, and then the next of a run of them at the
   * partition's end (see PoisonIsolation).
   */
  private async handleUntilDone(
    member: Member,
    consumed: readonly Consumed[],
    payload: EachBatchPayload,
  ): Promise<boolean> {
    const { subscription, isolation } = member;
    const { topic, partition } = payload.batch;
    const group = subscription.group;
    const streakKey = `${topic}:${partition}`;
    const streak = member.failingStreaks.get(streakKey);
    const handleAll = (items: readonly Consumed[]) =>
      heartbeatingWhile(payload, subscription.handle(items.map((c) => c.event)));
    const done = (items: readonly Consumed[]): true => {
      isolation.forget(items);
      member.failingStreaks.delete(streakKey);
      return true;
    };
    try {
      await handleAll(consumed);
      return done(consumed);
    } catch (error) {
      this.observer.handlerRetried?.({ group, topic });
      if (!streak) {
        this.logger.error(
          'event handler failed; the batch will be retried, then its events one at a time',
          { group, topic, partition, events: consumed.length, error },
        );
      }
    }
    let pending = consumed;
    let known: Consumed | undefined;
    let delay = streak?.delayMs ?? this.retryMinMs;
    for (let round = 1; ; round++) {
      if (!(await this.stillOwned(payload, delay))) return false;
      delay = Math.min(delay * 2, this.retryMaxMs);
      // Whole first: after a brief outage the batch goes through as one write.
      try {
        await handleAll(pending);
        return done(pending);
      } catch {
        // Then one event at a time, to find any the handler cannot take.
      }
      const result = await isolation.round(
        pending,
        (item) => handleAll([item]),
        known,
        (item) => heartbeatingWhile(payload, this.lastEventBefore(member, topic, partition, item)),
      );
      known = result.handled.at(-1) ?? known;
      for (const poison of result.poison) {
        await this.deadLetterPoison(group, topic, partition, poison);
        member.lettered.add(`${topic}:${partition}`, poison.item.message.offset);
      }
      pending = result.failing;
      if (pending.length === 0) return done([]);
      this.observer.handlerRetried?.({ group, topic });
      const fetches = (streak?.fetches ?? 0) + 1;
      // Logged at the first round and then every tenth, not every retry of an outage.
      const attempt = Math.max(round, fetches);
      if (attempt === 1 || attempt % 10 === 0) {
        this.logger.error(
          result.proven
            ? 'event handler fails on some events while it handles others; retrying them'
            : 'event handler fails on every event (its store is down?); retrying, nothing is dead-lettered',
          {
            group,
            topic,
            partition,
            attempt,
            failing: pending.length,
            maxAttempts: isolation.maxAttempts,
            error: result.lastError,
          },
        );
      }
      if (!result.proven && known === undefined) {
        // Nothing of this batch went through, so nothing in it can show the store works.
        member.failingStreaks.set(streakKey, { delayMs: delay, fetches });
        return false;
      }
    }
  }

  /**
   * The quiet-topic rule's check when nothing of the topic was handled since start: the last
   * readable event of the partition before the group's committed offset (a view, which
   * commits nothing, reads from its start: before the failing event) that the group did not
   * dead-letter, read by a short-lived consumer of its own (readPartitionRanges) with the
   * dead-letter topic's tail. One lettered before a restart was never handled: handled
   * again it fails, which would read as an outage and hold the partition forever. A failed
   * read rejects (no check this time). As on the embedded bus.
   */
  private async lastEventBefore(
    member: Member,
    topic: string,
    partition: number,
    failing: Consumed,
  ): Promise<Consumed | undefined> {
    let before = BigInt(failing.message.offset);
    let low: bigint;
    let letterEnds: { partition: number; low: string; high: string }[];
    const admin = await this.connectedAdmin();
    try {
      if (!member.ephemeral) {
        const [offsets] = await admin.fetchOffsets({ groupId: member.group, topics: [topic] });
        const committed = offsets?.partitions.find((p) => p.partition === partition)?.offset;
        // Nothing committed: the group reads from the start, so nothing is before it.
        if (committed === undefined || BigInt(committed) < 0n) return undefined;
        if (BigInt(committed) < before) before = BigInt(committed);
      }
      const ends = await admin.fetchTopicOffsets(topic);
      low = BigInt(ends.find((p) => p.partition === partition)?.low ?? before);
      letterEnds = await admin.fetchTopicOffsets(this.physical(Topic.DeadLetter));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const lookback = before - BigInt(LOG_CHECK_LOOKBACK);
    const from = lookback > low ? lookback : low;
    if (before <= from) return undefined;
    const letters = this.physical(Topic.DeadLetter);
    const ofThis = letterOf(member.subscription.group, topic, partition);
    const [messages, ...letterTails] = await readPartitionRanges(
      this.kafka,
      [{ topic, partition, from, before }, ...deadLetterTails(letterEnds, letters, ofThis)],
      { groupId: `${member.group}.quiet-check.${randomUUID()}`, timeoutMs: LOG_CHECK_TIMEOUT_MS },
    );
    const lettered = new Set(
      letterTails.flat().map((letter) => letterHeader(letter, DEAD_LETTER_HEADERS.offset)),
    );
    const logical = topic.startsWith(this.prefix) ? topic.slice(this.prefix.length) : topic;
    for (const message of messages.reverse()) {
      if (lettered.has(message.offset)) continue;
      const decoded = decodeEvent(logical, message.value);
      if (decoded.ok) return { message, event: decoded.value };
    }
    return undefined;
  }

  /** Waits out a retry's backoff; false once the partition is no longer this member's. */
  private async stillOwned(payload: EachBatchPayload, delay: number): Promise<boolean> {
    if (!payload.isRunning() || payload.isStale()) return false;
    await sleep(delay);
    try {
      await payload.heartbeat();
    } catch {
      return false; // a rebalance took the partition; nothing was committed
    }
    return payload.isRunning() && !payload.isStale();
  }

  /** A poison event to the dead-letter topic, with the handler's error (secrets masked). */
  private async deadLetterPoison(
    group: string,
    topic: string,
    partition: number,
    poison: PoisonEvent<Consumed>,
  ): Promise<void> {
    const { message, event } = poison.item;
    const cause = {
      code: HANDLER_FAILED_CODE,
      message: deadLetterReason(poison.error),
      attempts: poison.attempts,
      rule: poison.rule,
    };
    await this.deadLetter(group, topic, partition, message, cause);
    this.observer.handlerDeadLettered?.({ group, topic, rule: poison.rule });
    this.logger.error(deadLetterLogMessage(poison.rule), {
      group,
      topic,
      partition,
      offset: message.offset,
      eventId: event.eventId,
      attempts: poison.attempts,
      rule: poison.rule,
      reason: cause.message,
    });
  }

  private async deadLetter(
    group: string,
    topic: string,
    partition: number,
    message: KafkaMessage,
    error: ContractsError | DeadLetterCause,
  ): Promise<void> {
    const handlerFailure = error.code === HANDLER_FAILED_CODE;
    const headers = {
      ...stringHeaders(message.headers),
      [DEAD_LETTER_HEADERS.reason]: error.message.slice(0, 2_000),
      [DEAD_LETTER_HEADERS.code]: error.code,
      [DEAD_LETTER_HEADERS.topic]: topic,
      [DEAD_LETTER_HEADERS.partition]: String(partition),
      [DEAD_LETTER_HEADERS.offset]: message.offset,
      [DEAD_LETTER_HEADERS.group]: group,
      ...('attempts' in error && error.attempts !== undefined
        ? { [DEAD_LETTER_HEADERS.attempts]: String(error.attempts) }
        : {}),
      ...('rule' in error && error.rule !== undefined
        ? { [DEAD_LETTER_HEADERS.rule]: error.rule }
        : {}),
    };
    // Sent before the offset is committed: a failure here retries the batch, so an
    // unreadable message is never dropped on the way to the dead-letter topic.
    let omittedBytes: number | undefined;
    try {
      await this.sendDeadLetter({ key: message.key, value: message.value, headers });
    } catch (sendError) {
      // The source topic may take larger messages than the dead-letter topic (payloads up
      // to 2 MiB): refused forever, it would block its partition. Its headers go alone;
      // the value stays at its offset in the source topic for that topic's retention.
      if (!isTooLarge(sendError)) throw sendError;
      omittedBytes = message.value?.length ?? 0;
      await this.sendDeadLetter({
        key: message.key,
        value: null,
        headers: { ...headers, [DEAD_LETTER_HEADERS.omittedBytes]: String(omittedBytes) },
      });
    }
    if (handlerFailure) return; // counted and logged by deadLetterPoison
    this.observer.deadLettered?.({ topic, code: error.code });
    this.logger.warn('dead-lettered a message this build cannot read', {
      group,
      topic,
      partition,
      offset: message.offset,
      code: error.code,
      ...(omittedBytes === undefined ? {} : { omittedBytes }),
    });
  }

  private async sendDeadLetter(letter: Message): Promise<void> {
    if (!this.deadLetterProducer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: kafkajs().Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      // Partitions handled at once may each have made one: only the first is kept.
      if (this.deadLetterProducer) void producer.disconnect().catch(() => undefined);
      else this.deadLetterProducer = producer;
    }
    try {
      await this.deadLetterProducer.send({
        topic: this.physical(Topic.DeadLetter),
        acks: -1,
        messages: [letter],
      });
      this.deadLetterTopicMissing = false;
    } catch (error) {
      // A fresh producer next time, as for events: this one's sequence state is unknown.
      const producer = this.deadLetterProducer;
      this.deadLetterProducer = undefined;
      void producer?.disconnect().catch(() => undefined);
      // Deleted while the bus ran: no letter would ever go, and the partition would wait on
      // it. Created again now, the partition's next try letters it. Said once, as for
      // sends: where creating it is refused, the partition tries every few seconds.
      if (this.recreatesTopicFor(error)) {
        // A flag of its own: the sends' would have every send try to create it first.
        const firstFound = !this.deadLetterTopicMissing;
        this.deadLetterTopicMissing = true;
        if (firstFound) {
          this.logger.warn('the dead-letter topic is missing (deleted?); creating it again', {
            error,
          });
        }
        await this.recreateMissingTopics().catch((recreateError: unknown) => {
          if (!firstFound) return;
          this.logger.warn('the missing topics could not be created; trying again', {
            error: recreateError,
          });
        });
      }
      throw error;
    }
  }

  private async catchUpTarget(topics: readonly string[]): Promise<CatchUp> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const targets = new Map<string, bigint>();
      for (const topic of topics) {
        // Right after the topics were created, leaders may still be moving in.
        const offsets = await retryWhileRetriable(() => admin.fetchTopicOffsets(topic), 30_000);
        for (const p of offsets) {
          const high = BigInt(p.high);
          if (high > BigInt(p.low)) targets.set(`${topic}:${p.partition}`, high);
        }
      }
      return new CatchUp(targets);
    } finally {
      await admin.disconnect();
    }
  }

  private async awaitCatchUp(catchUp: CatchUp, group: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.catchUpTimeoutMs);
      timer.unref();
    });
    const late = await Promise.race([catchUp.done.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      this.logger.warn('a local view is still catching up; serving while it reads', { group });
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Stops every consumer; a handler in progress finishes (and commits) first. */
  async stopConsumers(): Promise<void> {
    clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    clearInterval(this.lagTimer);
    this.lagTimer = undefined;
    const members = this.members.splice(0);
    await Promise.allSettled(
      members.filter((m) => !m.deferred).map((m) => m.consumer.disconnect()),
    );
    // After the handlers in progress finished: this process consumes nothing now.
    for (const member of members) member.lag.clear();
    const admin = this.lagAdmin;
    this.lagAdmin = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }

  /** Reads the lag of every partition the running consumers own from the broker. */
  private async refreshLag(): Promise<void> {
    if (this.lagRefreshing || this.closing) return;
    const sources = this.members
      .filter((m) => !m.deferred && !m.starting)
      .map((m) => ({
        lag: m.lag,
        positions: m.positions,
        ...(m.ephemeral ? {} : { committedBy: m.group }),
      }));
    if (sources.length === 0) return;
    this.lagRefreshing = true;
    try {
      this.lagAdmin ??= this.connectedAdmin();
      await refreshLag(await this.lagAdmin, sources);
      this.lagRefreshFailed = false;
    } catch (error) {
      // Kafka away: the consumers say so; one warning, not one every refresh.
      if (!this.lagRefreshFailed && this.lagTimer)
        this.logger.warn('could not read the consumer lag', { error });
      this.lagRefreshFailed = true;
      const admin = this.lagAdmin;
      this.lagAdmin = undefined;
      void admin?.then((a) => a.disconnect()).catch(() => undefined);
    } finally {
      this.lagRefreshing = false;
    }
  }

  private async connectedAdmin(): Promise<Admin> {
    const admin = this.kafka.admin();
    await admin.connect();
    return admin;
  }

  /**
   * Stops consuming, flushes (everything acknowledged or spooled), gives the spool a
   * bounded chance to drain while Kafka answers, then disconnects. Whatever stays in the
   * spool is replayed by the next start.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.stopConsumers();
      this.closing = true;
      await this.flush();
      const deadline = Date.now() + this.closeDrainMs;
      while (
        this.failures === 0 &&
        !this.awaitingKafka &&
        (this.spool.count > 0 || this.sending) &&
        Date.now() < deadline
      ) {
        this.kick();
        await sleep(20);
      }
      this.stopped = true;
      clearTimeout(this.lingerTimer);
      clearTimeout(this.retryTimer);
      this.markSpoolWritable(); // stops the probe: the spool closes below
      // What is left of the drain, a second at least: the longest Kafka is waited for now.
      const restOfDrain = () => sleep(Math.max(deadline - Date.now(), 1_000));
      if (this.sending) await Promise.race([this.sending, restOfDrain()]);
      const producers = [this.producer, this.deadLetterProducer];
      this.producer = undefined;
      this.deadLetterProducer = undefined;
      // kafkajs' disconnect waits for each request in flight, up to its request timeout
      // (30 s), when the broker stopped answering without closing the connection (its host
      // hung): what those requests carry is in the spool by now, so the close waits for them
      // no longer than its drain, and the next start replays them.
      const disconnected = Promise.allSettled(
        producers.map((p) => (p ? p.disconnect() : Promise.resolve())),
      ).then(() => true);
      const inTime = await Promise.race([disconnected, restOfDrain().then(() => false)]);
      if (!inTime) {
        this.logger.warn('Kafka did not answer in time while the bus closed; closing without it', {
          spooled: this.spool.count,
        });
      }
      if (this.spool.count > 0) {
        this.logger.warn('events stay in the spool; the next start replays them', {
          events: this.spool.count,
          path: this.spool.path,
        });
      }
      this.spool.close();
    })();
    return this.closed;
  }

  private physical(topic: string): string {
    return `${this.prefix}${topic}`;
  }
}

/**
 * Awaits a handler while heartbeating for it. kafkajs heartbeats only between batches (and
 * when told), so a handler slower than the session (a ClickHouse insert under load) would
 * get its member dropped from the group: another replica would then take its partitions
 * from the last commit and handle the same events at the same time. A heartbeat refused
 * during a rebalance still keeps the member until it rejoins, after this batch.
 */
async function heartbeatingWhile<T>(payload: EachBatchPayload, handled: Promise<T>): Promise<T> {
  const timer = setInterval(() => void payload.heartbeat().catch(() => undefined), HEARTBEAT_MS);
  try {
    return await handled;
  } finally {
    clearInterval(timer);
  }
}

/**
 * Commits a handled chunk. kafkajs' consumer.commitOffsets silently does nothing once the
 * consumer is stopping, which is exactly when stopConsumers waits for this handler: the
 * batch's own commit (still a member of the group until the stop leaves it) is used then,
 * so a graceful stop does not hand the same events over again at the next start.
 */
async function commitHandled(
  consumer: Consumer,
  payload: EachBatchPayload,
  offset: string,
): Promise<void> {
  const { topic, partition } = payload.batch;
  if (payload.isRunning()) await consumer.commitOffsets([{ topic, partition, offset }]);
  else
    await payload.commitOffsetsIfNecessary({
      topics: [{ topic, partitions: [{ partition, offset }] }],
    });
}

/** Tracks an ephemeral view reading each partition up to its end offset at the start. */
class CatchUp {
  readonly done: Promise<void>;
  private resolve!: () => void;

  constructor(private readonly remaining: Map<string, bigint>) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
    if (remaining.size === 0) this.resolve();
  }

  reached(topic: string, partition: number, next: bigint): void {
    const key = `${topic}:${partition}`;
    const target = this.remaining.get(key);
    if (target === undefined || next < target) return;
    this.remaining.delete(key);
    if (this.remaining.size === 0) this.resolve();
  }
}

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** How often a consumer heartbeats, between batches and while a handler works. */
const HEARTBEAT_MS = 3_000;

/** How long the quiet-topic rule's read of an earlier event may take (a join, a fetch). */
const LOG_CHECK_TIMEOUT_MS = 15_000;

/**
 * Letters per dead-letter partition read back for the quiet-topic check: those of the
 * lookback's events were written after them, so they are among the latest unless more
 * than this many letters (of any topic and group) landed there since.
 */
const DEAD_LETTER_TAIL = 100;

/** The last DEAD_LETTER_TAIL messages of each partition of the dead-letter topic. */
function deadLetterTails(
  ends: readonly { partition: number; low: string; high: string }[],
  topic: string,
  keep: (letter: KafkaMessage) => boolean,
): PartitionRange[] {
  return ends.map(({ partition, low, high }) => {
    const tail = BigInt(high) - BigInt(DEAD_LETTER_TAIL);
    const from = tail > BigInt(low) ? tail : BigInt(low);
    return { topic, partition, from, before: BigInt(high), keep };
  });
}

/** Whether a letter is `group`'s of a message of `topic`'s `partition` (its headers say). */
function letterOf(
  group: string,
  topic: string,
  partition: number,
): (letter: KafkaMessage) => boolean {
  return (letter) =>
    letterHeader(letter, DEAD_LETTER_HEADERS.group) === group &&
    letterHeader(letter, DEAD_LETTER_HEADERS.topic) === topic &&
    letterHeader(letter, DEAD_LETTER_HEADERS.partition) === String(partition);
}

function letterHeader(letter: KafkaMessage, name: string): string | undefined {
  return letter.headers?.[name]?.toString();
}

/** Kafka's answer for a topic it does not have, however kafkajs wrapped it. */
const UNKNOWN_TOPIC = 'UNKNOWN_TOPIC_OR_PARTITION';

function isUnknownTopic(error: unknown): boolean {
  return someCause(
    error,
    // kafkajs's own name, when the metadata it refreshed still lacks the topic.
    (e) => e.type === UNKNOWN_TOPIC || e.name === 'KafkaJSTopicMetadataNotLoaded',
  );
}

/** Whether kafkajs failed a produce request because the broker found it too large. */
function isTooLarge(error: unknown): boolean {
  return someCause(error, (e) => TOO_LARGE.has(String(e.type)));
}

/** Whether `error` or one of the errors kafkajs wrapped in it (a few deep) passes `test`. */
function someCause(
  error: unknown,
  test: (e: { readonly type?: unknown; readonly name?: unknown }) => boolean,
): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (test(e)) return true;
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return false;
}

/**
 * Rejects once `ms` pass without an outcome. The work itself goes on, and whatever it ends
 * with is ignored: a produce given up this way is already in the spool, and the caller drops
 * the producer that made it.
 */
function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} gave no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Runs `fn` again while it fails with an error Kafka calls retriable, up to `withinMs`. */
async function retryWhileRetriable<T>(fn: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await fn();
    } catch (error) {
      const retriable = (error as { retriable?: unknown } | null)?.retriable === true;
      if (!retriable || Date.now() + delay > deadline) throw error;
      await sleep(delay);
    }
  }
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return out;
}
