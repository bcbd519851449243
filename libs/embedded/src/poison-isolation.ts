// Tells a poison event (one the handler always fails on) from a store outage (every event
// fails), for both event buses. After a batch fails, its events are handled one at a time:
// an event earns a strike only when the store demonstrably works: in a round where another
// event of the batch was handled (or a known-good event handled again), or when the
// subscription handled other events of its scope (its topic: another partition's) since the
// event last failed, so a poison event alone on its partition is dead-lettered too. Scoped,
// so one table refusing writes (ClickHouse's "too many parts") while others take theirs
// strikes nothing. An event with `maxAttempts` strikes is poison and goes to the
// dead-letter topic. While every call fails, nothing earns a strike: the bus keeps retrying
// with backoff and never dead-letters, so a Redis / ClickHouse / SQLite outage loses nothing.
import { redactString } from '@aigw/observability';

/** Strikes before a failing event is dead-lettered. */
export const DEFAULT_HANDLER_ATTEMPTS = 5;

/** Events tried alone in a round before anything succeeded in it (an outage costs this). */
const TRIES_WITHOUT_PROOF = 3;

/** Strikes kept at most: past it they start over (a bound, never reached in practice). */
const MAX_TRACKED = 10_000;

/** Longest error text a dead letter carries. */
const MAX_REASON_CHARS = 2_000;

/** An event the handler failed on while the store worked, `maxAttempts` rounds running. */
export interface PoisonEvent<T> {
  readonly item: T;
  readonly error: unknown;
  readonly attempts: number;
}

export interface IsolationRound<T> {
  /** Handled alone this round. */
  readonly handled: readonly T[];
  /** Failed (or were not tried) and are not poison yet: retry them after a backoff. */
  readonly failing: readonly T[];
  /** Dead-letter these; each is out of `failing`. */
  readonly poison: readonly PoisonEvent<T>[];
  /** Whether the store was seen working this round, or since a failing event last failed. */
  readonly proven: boolean;
  /** The last error seen, for the caller's log. */
  readonly lastError: unknown;
}

/** One subscription's strikes, kept across its deliveries (the embedded bus redelivers). */
export class PoisonIsolation<T> {
  private readonly strikes = new Map<string, number>();
  /** Per failing event, its scope's handled count when it last failed. */
  private readonly failedAt = new Map<string, number>();
  /** Per scope, calls of the subscription's handler that succeeded (any partition's). */
  private readonly handled = new Map<string, number>();
  private rounds = 0;

  constructor(
    private readonly idOf: (item: T) => string,
    readonly maxAttempts: number = DEFAULT_HANDLER_ATTEMPTS,
    /** What a success must share with a failing event to count for it: its topic. */
    private readonly scopeOf: (item: T) => string = () => '',
  ) {
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new Error(`handler attempts must be a whole number of at least 1, not ${maxAttempts}`);
    }
  }

  /**
   * Handles `pending` one event at a time, in order. `known`, when given, is an event of the
   * same batch already handled (handlers are idempotent per event id): handled again first,
   * it shows whether the store works at all; when it fails, the round stops at once.
   */
  async round(
    pending: readonly T[],
    handle: (item: T) => Promise<void>,
    known?: T,
  ): Promise<IsolationRound<T>> {
    this.rounds++;
    if (this.strikes.size > MAX_TRACKED || this.failedAt.size > MAX_TRACKED) {
      this.strikes.clear(); // events long handed elsewhere
      this.failedAt.clear();
    }
    let proven = false;
    let lastError: unknown;
    if (known !== undefined) {
      try {
        await handle(known);
        this.countHandled(known);
        proven = true;
      } catch (error) {
        return { handled: [], failing: pending, poison: [], proven: false, lastError: error };
      }
    }
    // Without proof, only a few events are tried, starting further along each round so a
    // run of poison events at the head cannot hide the healthy ones behind it.
    const start =
      proven || pending.length === 0
        ? 0
        : ((this.rounds - 1) * TRIES_WITHOUT_PROOF) % pending.length;
    const order = pending.slice(start).concat(pending.slice(0, start));
    const handled: T[] = [];
    const failed: { item: T; error: unknown }[] = [];
    const untried: T[] = [];
    for (const item of order) {
      if (!proven && failed.length >= TRIES_WITHOUT_PROOF) {
        untried.push(item);
        continue;
      }
      try {
        await handle(item);
        this.countHandled(item);
        handled.push(item);
        this.strikes.delete(this.idOf(item));
        this.failedAt.delete(this.idOf(item));
        proven = true;
      } catch (error) {
        failed.push({ item, error });
        lastError = error;
      }
    }
    const poison: PoisonEvent<T>[] = [];
    const failing: T[] = [];
    let struck = false;
    for (const { item, error } of failed) {
      const id = this.idOf(item);
      // Handled calls since it last failed: the store worked between two of its failures.
      const handledInScope = this.handled.get(this.scopeOf(item)) ?? 0;
      const workedSince = handledInScope > (this.failedAt.get(id) ?? Infinity);
      this.failedAt.set(id, handledInScope);
      if (!proven && !workedSince) {
        failing.push(item);
        continue;
      }
      struck = true;
      const attempts = (this.strikes.get(id) ?? 0) + 1;
      if (attempts >= this.maxAttempts) {
        this.strikes.delete(id);
        this.failedAt.delete(id);
        poison.push({ item, error, attempts });
      } else {
        this.strikes.set(id, attempts);
        failing.push(item);
      }
    }
    // Back in batch order: the caller retries them, and its next `known` is the latest.
    const position = new Map(pending.map((item, index) => [item, index]));
    const byPosition = (a: T, b: T) => (position.get(a) ?? 0) - (position.get(b) ?? 0);
    return {
      handled: handled.sort(byPosition),
      failing: failing.concat(untried).sort(byPosition),
      poison,
      proven: proven || struck,
      lastError,
    };
  }

  /**
   * Events handled as part of a batch: their strikes are forgotten, and the handler's
   * success is what a lone failing event's next try needs to earn a strike.
   */
  forget(items: readonly T[]): void {
    let last: string | undefined;
    for (const item of items) {
      // Once per scope in a row: a delivery is one topic's on Kafka.
      const scope = this.scopeOf(item);
      if (scope !== last) this.countHandled(item);
      last = scope;
    }
    if (this.strikes.size === 0 && this.failedAt.size === 0) return;
    for (const item of items) {
      this.strikes.delete(this.idOf(item));
      this.failedAt.delete(this.idOf(item));
    }
  }

  private countHandled(item: T): void {
    const scope = this.scopeOf(item);
    this.handled.set(scope, (this.handled.get(scope) ?? 0) + 1);
  }

  /** Events with strikes now (a test's and an operator's view). */
  get striking(): number {
    return this.strikes.size;
  }
}

/** The error as a dead letter carries it: its message, secrets masked, bounded. */
export function deadLetterReason(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactString(text).slice(0, MAX_REASON_CHARS);
}

/** The code a handler's dead letter carries, beside the decode codes of unreadable events. */
export const HANDLER_FAILED_CODE = 'HANDLER.FAILED';
