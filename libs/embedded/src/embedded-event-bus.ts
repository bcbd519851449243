import { setImmediate as yieldToRequests } from 'node:timers/promises';
import {
  decodeEvent,
  routeEvent,
  Topic,
  withJson,
  type EventPublisher,
  type EventRoute,
  type EventSubscription,
  type EventTopic,
  type GatewayEvent,
  type SerializedEvent,
} from '@aigw/contracts';
import type { LoggedEvent, SqliteEventLog } from './sqlite-event-log';
import { LetteredPositions } from './lettered-positions';
import {
  deadLetterReason,
  HANDLER_FAILED_CODE,
  LOG_CHECK_LOOKBACK,
  PoisonIsolation,
  type PoisonEvent,
  type PoisonRule,
} from './poison-isolation';

export interface EmbeddedEventBusOptions {
  /** How long events wait in memory before they are written, in milliseconds. */
  readonly flushIntervalMs: number;
  /** Write at once when this many are waiting. */
  readonly maxBatch: number;
  /** Called for a batch a subscriber failed on (it is retried after a backoff). */
  readonly onError: (error: unknown, group: string) => void;
  /**
   * Called for an event a subscriber kept failing on while it handled the others: it was
   * written to the log's dead-letter topic (`gateway.dead-letter.v1`) and skipped.
   */
  readonly onDeadLettered?: (letter: HandlerDeadLetter, group: string) => void;
  /** Called per topic of a failed delivery that will be retried (the handler retries metric). */
  readonly onHandlerRetried?: (labels: { group: string; topic: EventTopic }) => void;
  /**
   * Strikes before an event the handler keeps failing on is dead-lettered; a strike counts
   * only in a retry where other events of its topic (in the same delivery) are handled, as
   * on Kafka: another topic's success proves nothing for its store, so a store outage
   * never dead-letters anything. Default 5.
   */
  readonly handlerAttempts?: number;
  /**
   * The quiet-topic rule (see PoisonIsolation): a lone event that fails while nothing else
   * of its topic moves is dead-lettered after this many failures alone (default:
   * handlerAttempts) over at least `quietTopicAfterMs` (default 10 minutes), once the last
   * event of its topic handled again succeeds (nothing is lettered while the store is down).
   * With nothing of the topic handled since start, that event is read from the log (the
   * topic's last before the subscriber's position); with none there, nothing is lettered.
   * Several failing at the end of the topic are judged so one at a time, in order.
   */
  readonly quietTopicAttempts?: number;
  readonly quietTopicAfterMs?: number;
  /** Backoff between a subscriber's retries: doubling from min to max. Default 250 ms, 5 s. */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /**
   * Called for a stored event this build cannot read: it is written to the log's dead-letter
   * topic and skipped, never retried forever; told once per event and group.
   */
  readonly onUndecodable?: (skipped: UndecodableEvent, group: string) => void;
  /** Called when a batch could not be written; it stays waiting and is retried. */
  readonly onWriteError?: (error: unknown, waiting: number) => void;
  /**
   * Answers wait for their record (AI_GATEWAY_ANSWER_AFTER_RECORD=on): the bus then offers
   * `recordBarrier`, its `durable()`.
   */
  readonly answersAwaitRecord?: boolean;
  /**
   * How many bytes of serialized events may wait in memory while the log refuses writes
   * (a full disk, say) or a slow subscriber holds up the writer (past one batch); past it
   * new events are refused (`onRefused`) rather than held until
   * the process runs out of memory and loses them all. Default 64 MiB.
   */
  readonly maxPendingBytes?: number;
  /** Called for each event refused because the waiting events reached `maxPendingBytes`. */
  readonly onRefused?: (topic: EventTopic) => void;
  /** How often expired events are deleted from the log (topic retention); never if unset. */
  readonly pruneEveryMs?: number;
  /** Called after each pruning with how many events it deleted, or why it failed. */
  readonly onPruned?: (outcome: { deleted: number } | { error: unknown }) => void;
}

/** A stored event a subscriber skipped: its topic, the contract's error code and message. */
export interface UndecodableEvent {
  readonly topic: string;
  readonly code: string;
  readonly reason: string;
}

/** An event dead-lettered for its handler's failure, as `onDeadLettered` reports it. */
export interface HandlerDeadLetter {
  readonly topic: EventTopic;
  readonly eventId: string;
  /** Its position in the log (the original stays there for its topic's retention). */
  readonly seq: number;
  readonly attempts: number;
  /** Which rule lettered it: `strikes`, or `quiet-topic` (see PoisonIsolation). */
  readonly rule: PoisonRule;
  /** The handler's error message, secrets masked. */
  readonly reason: string;
}

/** Whether the log takes writes, and what waits for it. */
export interface EmbeddedBusStatus {
  /** False from a failed write until a write succeeds again. */
  readonly writable: boolean;
  /** Events published and not yet written. */
  readonly pending: number;
  /** Events refused since start because too many were waiting. */
  readonly refused: number;
}

const READ_BATCH = 500;
const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;
/** How soon a batch that failed to be written is tried again. */
const WRITE_RETRY_MS = 1_000;
/** Events deleted per statement while pruning; requests run between the statements. */
const PRUNE_CHUNK = 1_000;
const DEFAULT_RETRY_MIN_MS = 250;
const DEFAULT_RETRY_MAX_MS = 5_000;
/** What `durable()` returns when nothing waits (no per-call promise). */
const SETTLED: Promise<void> = Promise.resolve();

/** An event handed to a subscriber, with where it is in the log. */
interface Delivered {
  readonly seq: number;
  readonly topic: EventTopic;
  readonly event: GatewayEvent;
}

/** A subscriber whose last delivery failed: when it is tried again, and its backoff. */
interface Retrying {
  dueAt: number;
  delayMs: number;
}

interface PendingEvent {
  readonly route: EventRoute;
  readonly event: GatewayEvent;
  /** Its JSON, written at its first flush and kept while a failed write makes it wait. */
  serialized?: SerializedEvent;
}

/** What one flush appended, when it directly follows the log end this bus knew. */
interface AppendedRun {
  /** The log end before the append: the new rows are `after + 1 ... last`, nothing between. */
  readonly after: number;
  readonly last: number;
  readonly entries: readonly PendingEvent[];
}

interface DurableWaiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Why `durable()` rejects: the appended events could not be synced to the disk. */
export class EventLogNotDurableError extends Error {
  constructor(cause: unknown) {
    super('the event log could not sync its appends to the disk; the next sync retries', {
      cause,
    });
  }
}

/** Why `durable()` rejects: the log refused the write (the events wait and are retried). */
export class EventLogNotWritableError extends Error {
  constructor(cause: unknown) {
    super('the event log refused the write; the events wait in memory and are retried', {
      cause,
    });
  }
}

/**
 * The in-process event bus of the all-in-one gateway: publishing is a push to memory,
 * a timer writes batches to the durable log off the request path, and subscribers
 * consume from the log with committed positions, exactly as Kafka consumer groups do.
 */
export class EmbeddedEventBus implements EventPublisher {
  // Until a flush writes them; then each subscriber gets these same objects, with no
  // decode, and nothing keeps them after: holding recent events for catch-ups (512 of them)
  // carried most of what outlived the young generation, ~0.6 KB a request, and peak RSS
  // with it. A catch-up is rare (a failed batch, a start) and reads the log.
  // Their JSON is written at the flush, not at publish: held for the flush interval, the
  // text (~1.3 KB a request) outlived two scavenges and was copied into the old generation.
  private pending: PendingEvent[] = [];
  // JSON bytes of the waiting events written out so far: those of a write in progress, and
  // every one past the first batch (the text is written at publish while the log refuses
  // writes, or while a flush waits behind a slow subscriber), so this bounds the backlog.
  private pendingBytes = 0;
  private failing = false;
  private lastWriteError: unknown;
  private refused = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly subscriptions: EventSubscription[] = [];
  private work: Promise<void> = Promise.resolve();
  // How far each subscriber has read. Loaded once from its committed position (0 for an
  // ephemeral one); it may run ahead of what is committed only past events it does not
  // subscribe to, so a restart from the committed position replays nothing it needs.
  private readonly positions = new Map<EventSubscription | string, number>();
  // The newest position this bus appended. Every row up to it was in the log before the
  // next read by this bus: a catch-up read that comes back short has seen through it.
  private logEnd = 0;

  // Rows appended on demand (durable()) that no subscriber has been handed yet: the next
  // flush delivers them with its own, as one run while they follow each other, so an
  // on-demand append costs the consumers no extra write. A gap (rows this bus did not
  // write, or a run it could not place) makes that flush read the log instead.
  private undelivered: AppendedRun | undefined;
  private undeliveredGap = false;
  // Callers of durable() this event-loop turn: one append at the next setImmediate serves all.
  private durableWaiters: DurableWaiter[] = [];

  // Subscribers whose last delivery failed: retried after a backoff, one event at a time.
  private readonly retrying = new Map<EventSubscription | string, Retrying>();
  private readonly isolations = new Map<EventSubscription | string, PoisonIsolation<Delivered>>();
  // Seqs dead-lettered (poison, or unreadable when read) in a range not yet committed
  // (another event of it still fails): the retry reads them back but must not hand them
  // over, nor letter them again. Forgotten once the position passes them; a dead-lettered
  // event counts as handled.
  private readonly deadLettered = new LetteredPositions<EventSubscription | string, number>();

  private readonly pruneTimer: NodeJS.Timeout | undefined;
  private pruning = false;
  private closed = false;

  /** Present only with `answersAwaitRecord`: see EventPublisher.recordBarrier. */
  readonly recordBarrier?: () => Promise<void>;

  constructor(
    private readonly log: SqliteEventLog,
    private readonly options: EmbeddedEventBusOptions,
  ) {
    if (options.answersAwaitRecord) this.recordBarrier = () => this.durable();
    const every = options.pruneEveryMs;
    if (every && every > 0) {
      this.pruneTimer = setInterval(() => {
        if (this.pruning) return; // the last run is still working through a backlog
        this.pruning = true;
        void this.enqueue(() => this.prune(0));
      }, every);
      this.pruneTimer.unref();
    }
  }

  publish(event: GatewayEvent): void {
    const route = routeEvent(event);
    if (this.pendingBytes >= (this.options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES)) {
      this.refused++;
      this.options.onRefused?.(route.topic);
      return;
    }
    const pending: PendingEvent = { route, event };
    this.pending.push(pending);
    // While the log refuses writes, only the retry timer tries again: a flush per publish
    // would rewrite the whole growing backlog on every request.
    if (this.failing) {
      this.serialize(pending);
      return;
    }
    // More than a batch waiting: the writer is behind (a subscriber still handling the last
    // flush), so these count against maxPendingBytes as a failing log's would.
    if (this.pending.length > this.options.maxBatch) this.serialize(pending);
    if (this.pending.length >= this.options.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
  }

  status(): EmbeddedBusStatus {
    return { writable: !this.failing, pending: this.pending.length, refused: this.refused };
  }

  /** Adds a consumer group; it first catches up on whatever it has not committed. */
  subscribe(subscription: EventSubscription): Promise<void> {
    this.subscriptions.push(subscription);
    return this.enqueue(() => this.deliver(subscription, undefined));
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Events the log has not taken in its normal course: all that wait while it refuses
   * writes, or while more than a batch piles up behind a busy writer. Not the few a healthy
   * log writes at the next timed flush, which a busy gateway nearly always has.
   */
  get heldCount(): number {
    const waiting = this.pending.length;
    return this.failing || waiting > this.options.maxBatch ? waiting : 0;
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.enqueue(async () => {
      this.writePending();
      // Handed on only once on the disk: a consumer's durable write (and the position past
      // it) of an event a power loss then takes out of the log would count it in one store
      // and not in another.
      if (this.log.waitsForSync && !(await this.logDurable())) return;
      const appended = this.takeUndelivered();
      try {
        for (const subscription of this.subscriptions) {
          // A flush is several ms of work on the event loop: the append, then each
          // subscriber's own writes. Requests that arrived meanwhile go first at each step,
          // so none waits for the whole flush (1-3 ms at one connection; it was most of
          // the gateway's p99 there, at no cost in CPU per request under load).
          await yieldToRequests();
          await this.deliver(subscription, appended);
        }
      } catch (error) {
        // A position that could not be committed: the events come again (consumers are
        // idempotent per event id), and a timer-driven flush must never reject unheard.
        this.options.onWriteError?.(error, this.pending.length);
        this.retryLater(WRITE_RETRY_MS);
      }
    });
  }

  /**
   * Waits for the log's sync of what was appended (nothing with AI_GATEWAY_SQLITE_SYNC
   * normal); false when it failed (the log's onSync reports it): the appended rows stay
   * undelivered, and a flush after WRITE_RETRY_MS syncs again before handing them on.
   */
  private async logDurable(): Promise<boolean> {
    try {
      await this.log.durable();
      return true;
    } catch {
      this.retryLater(WRITE_RETRY_MS);
      return false;
    }
  }

  /**
   * Resolves once every event published so far is in the log (and, with
   * AI_GATEWAY_SQLITE_SYNC full, on the disk: the log's sync, shared by every caller
   * waiting on it), without delivering it:
   * subscribers still get it at the next timed flush. Every caller of one event-loop turn
   * shares one append (one transaction). Rejects with EventLogNotWritableError when that
   * append fails, or at once while the log is failing: the events stay waiting and only
   * the retry timer writes them, so a caller never hangs on a broken disk. Events refused
   * for the backlog bound (`onRefused`) were never queued and are not waited for. Rejects
   * with EventLogNotDurableError when the sync fails.
   */
  durable(): Promise<void> {
    // Appended by a flush, perhaps not yet synced: the flush's sync is shared.
    if (this.pending.length === 0) return this.syncedLog();
    if (this.failing) return Promise.reject(new EventLogNotWritableError(this.lastWriteError));
    return new Promise<void>((resolve, reject) => {
      if (this.durableWaiters.push({ resolve, reject }) === 1) {
        // Not behind the writer's queue: a flush waiting on a slow subscriber must not hold
        // answers. The append is synchronous, so it never lands inside another append; a
        // delivery in progress is unaffected (see catchUp), and the next flush hands these
        // rows on.
        setImmediate(() => this.settleDurable());
      }
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
    this.closed = true;
    clearInterval(this.pruneTimer);
    await this.flush();
  }

  /**
   * Deletes the log's expired events, one chunk per turn of the writer: a flush waiting
   * behind a long backlog (a first pruning of an old log) goes between two chunks.
   */
  private prune(deletedSoFar: number): void {
    if (this.closed) return;
    try {
      const chunk = this.log.pruneExpired(Date.now(), PRUNE_CHUNK);
      if (chunk === PRUNE_CHUNK) {
        setImmediate(() => void this.enqueue(() => this.prune(deletedSoFar + chunk)));
        return;
      }
      this.options.onPruned?.({ deleted: deletedSoFar + chunk });
    } catch (error) {
      this.options.onPruned?.({ error });
    }
    this.pruning = false;
  }

  /** One append for this turn's durable() callers, then their answer. */
  private settleDurable(): void {
    const waiters = this.durableWaiters;
    this.durableWaiters = [];
    // A failing log is written only by its retry timer (see publish).
    if (!this.failing) this.writePending();
    if (this.failing) {
      const error = new EventLogNotWritableError(this.lastWriteError);
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    if (this.log.waitsForSync) {
      void this.log.durable().then(
        () => waiters.forEach((waiter) => waiter.resolve()),
        (error: unknown) => {
          const notDurable = new EventLogNotDurableError(error);
          waiters.forEach((waiter) => waiter.reject(notDurable));
        },
      );
    } else {
      // Nothing to wait for: answered in this turn, no promise chain per append.
      for (const waiter of waiters) waiter.resolve();
    }
    // Its subscribers' turn comes with the timed flush; make sure there is one.
    if (this.undelivered || this.undeliveredGap) {
      this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    }
  }

  /** The log's sync of every append so far, its failure as EventLogNotDurableError. */
  private syncedLog(): Promise<void> {
    if (!this.log.waitsForSync) return SETTLED;
    return this.log.durable().catch((error: unknown) => {
      throw new EventLogNotDurableError(error);
    });
  }

  /** Appends everything waiting; a failure leaves it waiting, ahead of newer events. */
  private writePending(): void {
    const batch = this.pending;
    this.pending = [];
    try {
      if (batch.length > 0) this.collectUndelivered(this.append(batch));
      for (const pending of batch) {
        this.pendingBytes -= pending.serialized?.json.length ?? 0;
        pending.serialized = undefined; // written: the text can go with the next scavenge
      }
      this.failing = false;
      this.lastWriteError = undefined;
    } catch (error) {
      // Nothing is lost: the batch waits, ahead of newer events, for the next try.
      this.failing = true;
      this.lastWriteError = error;
      this.pending = batch.concat(this.pending);
      this.options.onWriteError?.(error, this.pending.length);
      this.timer ??= setTimeout(() => void this.flush(), WRITE_RETRY_MS);
    }
  }

  private collectUndelivered(run: AppendedRun | undefined): void {
    const before = this.undelivered;
    // Runs piling up past a batch (a subscriber holding up the writer) are left to the log:
    // the next flush reads them back rather than memory holding an unbounded backlog.
    const tooMany =
      before !== undefined &&
      run !== undefined &&
      before.entries.length + run.entries.length > this.options.maxBatch;
    if (run === undefined || this.undeliveredGap || tooMany) {
      this.undelivered = undefined;
      this.undeliveredGap = true;
    } else if (before === undefined) {
      this.undelivered = run;
    } else if (before.last === run.after) {
      this.undelivered = {
        after: before.after,
        last: run.last,
        entries: before.entries.concat(run.entries),
      };
    } else {
      this.undelivered = undefined;
      this.undeliveredGap = true;
    }
  }

  /** What the subscribers have not been handed; undefined sends them to the log. */
  private takeUndelivered(): AppendedRun | undefined {
    const run = this.undeliveredGap ? undefined : this.undelivered;
    this.undelivered = undefined;
    this.undeliveredGap = false;
    return run;
  }

  /** Writes a batch; returns it as a run when its positions follow the known log end. */
  private append(batch: readonly PendingEvent[]): AppendedRun | undefined {
    const seqs = this.log.appendAll(batch.map((pending) => this.serialize(pending)));
    const after = this.logEnd;
    const entries: PendingEvent[] = [];
    let contiguous = true;
    batch.forEach((pending, index) => {
      const seq = seqs[index];
      if (seq === undefined) return; // already in the log, so already behind every reader
      contiguous &&= seq === after + entries.length + 1;
      entries.push(pending);
      this.logEnd = seq;
    });
    // A gap means rows this bus did not write (another handle on the file): read them.
    return contiguous ? { after, last: after + entries.length, entries } : undefined;
  }

  private serialize(pending: PendingEvent): SerializedEvent {
    if (pending.serialized) return pending.serialized;
    const serialized = withJson(pending.route, pending.event);
    pending.serialized = serialized;
    this.pendingBytes += serialized.json.length;
    return serialized;
  }

  // One writer at a time keeps the log order and the committed positions consistent.
  private enqueue(task: () => Promise<void> | void): Promise<void> {
    this.work = this.work.then(task, task);
    return this.work;
  }

  private positionOf(subscription: EventSubscription): number {
    let position = this.positions.get(positionKey(subscription));
    if (position === undefined) {
      position = subscription.ephemeral ? 0 : this.log.committed(subscription.group);
      this.positions.set(positionKey(subscription), position);
    }
    return position;
  }

  private advance(subscription: EventSubscription, position: number): void {
    this.positions.set(positionKey(subscription), position);
  }

  private deliver(
    subscription: EventSubscription,
    appended: AppendedRun | undefined,
  ): Promise<void> {
    const retry = this.retrying.get(positionKey(subscription));
    // Closing tries every subscriber once more, due or not: "delivers everything outstanding".
    if (retry && Date.now() < retry.dueAt && !this.closed) {
      // Not due yet: its backlog waits in the log, and the retry timer comes back for it.
      this.retryLater(retry.dueAt - Date.now());
      return Promise.resolve();
    }
    return appended && this.positionOf(subscription) === appended.after
      ? this.deliverAppended(subscription, appended)
      : this.catchUp(subscription);
  }

  // The common case: the subscriber had read everything before this flush's rows, so its
  // next events are exactly those rows on its topics, with no read of the log.
  private async deliverAppended(
    subscription: EventSubscription,
    appended: AppendedRun,
  ): Promise<void> {
    const events: Delivered[] = [];
    let seq = appended.after;
    for (const { route, event } of appended.entries) {
      seq++;
      if (subscription.topics.includes(route.topic))
        events.push({ seq, topic: route.topic, event });
    }
    if (events.length > 0 && !(await this.handle(subscription, events, appended.last))) return;
    this.advance(subscription, appended.last);
  }

  private async catchUp(subscription: EventSubscription): Promise<void> {
    // Rows read back (at start: what the last process left, maybe only in the page cache)
    // are handed on only once on the disk, as a flush's are.
    await this.log.durable();
    for (;;) {
      const after = this.positionOf(subscription);
      // The log end as this read sees it: rows durable() appends while the handler runs come
      // after it and must not be skipped.
      const seenThrough = this.logEnd;
      const rows = this.log.read(subscription.topics, after, READ_BATCH);
      const key = positionKey(subscription);
      const events: Delivered[] = [];
      for (const row of rows) {
        // Lettered at an earlier read of this range (its delivery failed): not again.
        if (this.deadLettered.of(key)?.has(row.seq)) continue;
        const decoded = decodeEvent(row.topic, row.value);
        if (decoded.ok) events.push({ seq: row.seq, topic: row.topic, event: decoded.value });
        else {
          this.deadLetterUnreadable(subscription.group, row, decoded.error);
          this.deadLettered.add(key, row.seq);
        }
      }
      const last = rows.length > 0 ? rows[rows.length - 1].seq : after;
      if (rows.length > 0 && !(await this.handle(subscription, events, last))) return;
      if (rows.length < READ_BATCH) {
        this.advance(subscription, Math.max(last, seenThrough));
        return;
      }
      this.advance(subscription, last);
    }
  }

  /**
   * Runs the handler and commits through `last`; false when it failed (retried after a
   * backoff). A retry that fails whole hands them over one at a time (PoisonIsolation): one the
   * handler keeps failing on while it handles the others is dead-lettered and skipped;
   * while every event fails (its store is down) nothing is, and the retries go on.
   */
  private async handle(
    subscription: EventSubscription,
    delivered: readonly Delivered[],
    last: number,
  ): Promise<boolean> {
    const key = positionKey(subscription);
    const retry = this.retrying.get(key);
    const lettered = this.deadLettered.of(key);
    // Read back after their letter in an earlier round of this range: handled, as it were.
    const pending = lettered ? delivered.filter((d) => !lettered.has(d.seq)) : delivered;
    // Whole first (after a brief outage the batch goes through as one write), then, on a
    // retry, one event at a time to find any the handler cannot take.
    let failure = await this.handleBatch(subscription, pending);
    if (failure && retry) failure = await this.handleOneByOne(subscription, pending);
    if (failure) {
      this.options.onError(failure.error, subscription.group);
      for (const topic of new Set(pending.map((d) => d.topic))) {
        this.options.onHandlerRetried?.({ group: subscription.group, topic });
      }
      const delayMs = retry
        ? Math.min(retry.delayMs * 2, this.options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS)
        : (this.options.retryMinMs ?? DEFAULT_RETRY_MIN_MS);
      this.retrying.set(key, { dueAt: Date.now() + delayMs, delayMs });
      this.retryLater(delayMs);
      return false; // not committed: the retry delivers the same events again
    }
    // A dead letter written in this round is the record of the event skipped: on the disk
    // before the position moves past it (throws when the sync fails; retried).
    if (retry) await this.log.durable();
    this.retrying.delete(key);
    if (!subscription.ephemeral) this.log.commit(subscription.group, last);
    if (this.deadLettered.size > 0) this.deadLettered.forgetPassed(key, (seq) => seq <= last);
    return true;
  }

  /** A flush after `ms`, so a failed subscriber is retried even when nothing is published. */
  private retryLater(ms: number): void {
    if (this.closed) return; // the next start delivers from the committed position
    this.timer ??= setTimeout(() => void this.flush(), ms);
  }

  /** Undefined when the handler took the whole batch; else why it did not. */
  private async handleBatch(
    subscription: EventSubscription,
    delivered: readonly Delivered[],
  ): Promise<{ error: unknown } | undefined> {
    try {
      if (delivered.length > 0) await subscription.handle(delivered.map((d) => d.event));
      // Kept from the first delivery: the last event handled of each topic is what shows
      // the store works when a lone event later fails with nothing else moving.
      this.isolationOf(subscription).forget(delivered);
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  /** One isolation round: undefined once every event is handled or dead-lettered. */
  private async handleOneByOne(
    subscription: EventSubscription,
    delivered: readonly Delivered[],
  ): Promise<{ error: unknown } | undefined> {
    const isolation = this.isolationOf(subscription);
    const round = await isolation.round(
      delivered,
      (d) => subscription.handle([d.event]),
      undefined,
      async (d) => this.lastBefore(subscription, d),
    );
    for (const poison of round.poison) {
      this.deadLetter(subscription.group, poison);
      this.deadLettered.add(positionKey(subscription), poison.item.seq);
    }
    return round.failing.length === 0 ? undefined : { error: round.lastError };
  }

  /**
   * The quiet-topic rule's check when nothing of the topic was handled since start: the
   * last readable event of `failing`'s topic before the subscriber's position that it did
   * not dead-letter (it handled it, in this process or an earlier one), read back from the
   * log. One lettered before a restart is skipped by its letter there (`lastOfTopic`):
   * handled again it fails, which would read as an outage and hold `failing` forever.
   * As on Kafka.
   */
  private lastBefore(subscription: EventSubscription, failing: Delivered): Delivered | undefined {
    const through = Math.min(this.positionOf(subscription), failing.seq - 1);
    const lettered = this.deadLettered.of(positionKey(subscription));
    const rows = this.log.lastOfTopic(
      failing.topic,
      through,
      LOG_CHECK_LOOKBACK,
      subscription.group,
    );
    for (const row of rows) {
      if (lettered?.has(row.seq)) continue;
      const decoded = decodeEvent(row.topic, row.value);
      if (decoded.ok) return { seq: row.seq, topic: row.topic, event: decoded.value };
    }
    return undefined;
  }

  private isolationOf(subscription: EventSubscription): PoisonIsolation<Delivered> {
    const key = positionKey(subscription);
    let isolation = this.isolations.get(key);
    if (!isolation) {
      isolation = new PoisonIsolation<Delivered>(
        (d) => d.event.eventId,
        this.options.handlerAttempts,
        (d) => d.topic,
        {
          attempts: this.options.quietTopicAttempts,
          afterMs: this.options.quietTopicAfterMs,
        },
      );
      this.isolations.set(key, isolation);
    }
    return isolation;
  }

  /**
   * A stored event this build cannot read, to the log's dead-letter topic as Kafka's bus
   * letters an undecodable message: the row as it was and the decode error. Then told
   * (`onUndecodable`, once per event and group). A failed write throws, and the delivery is
   * retried: nothing is skipped unrecorded.
   */
  private deadLetterUnreadable(
    group: string,
    row: LoggedEvent,
    error: { readonly code: string; readonly message: string },
  ): void {
    const { seq, topic, value } = row;
    const letter = { code: error.code, reason: error.message, topic, seq, group, value };
    // Its own id may be what cannot be read: the letter is named by its position.
    this.appendDeadLetter('', `seq-${seq}:dead-letter:${group}`, letter);
    this.options.onUndecodable?.({ topic, code: error.code, reason: error.message }, group);
  }

  /**
   * Writes the letter to the log's dead-letter topic, as Kafka's bus writes its own: the
   * event and the handler's error, kept for that topic's retention. A failed write throws,
   * and the delivery (not committed) is retried: nothing is skipped unrecorded.
   */
  // Its id (event id, group) is how `lastOfTopic` knows the event was lettered, not handled.
  private deadLetter(group: string, poison: PoisonEvent<Delivered>): void {
    const { seq, topic, event } = poison.item;
    const reason = deadLetterReason(poison.error);
    const letter = {
      code: HANDLER_FAILED_CODE,
      reason,
      topic,
      seq,
      group,
      attempts: poison.attempts,
      rule: poison.rule,
      event,
    };
    this.appendDeadLetter(routeEvent(event).key, `${event.eventId}:dead-letter:${group}`, letter);
    this.options.onDeadLettered?.(
      { topic, eventId: event.eventId, seq, attempts: poison.attempts, rule: poison.rule, reason },
      group,
    );
  }

  private appendDeadLetter(key: string, eventId: string, letter: object): void {
    this.log.appendAll([
      {
        // Not an event topic (nothing consumes it here), yet stored and pruned like one.
        topic: Topic.DeadLetter as unknown as EventTopic,
        key,
        eventId,
        json: JSON.stringify(letter),
      },
    ]);
  }
}

// A consumer group's position is shared by its members, as its committed offset is; an
// ephemeral subscription reads on its own.
function positionKey(subscription: EventSubscription): EventSubscription | string {
  return subscription.ephemeral ? subscription : subscription.group;
}
