// Tells a poison event (one the handler always fails on) from a store outage (every event
// fails), for both event buses. After a batch fails, its events are handled one at a time:
// an event earns a strike only when the handler demonstrably works for its scope (its
// topic): in a round where another event of that scope was handled (or a known-good one of
// it handled again), or, when it is the only event of its scope in the round, when the
// subscription handled other events of that scope (another partition's) since it last
// failed. Scoped, so one table refusing writes (ClickHouse's "too many parts") while others
// take theirs strikes nothing, on Kafka (a round is one partition's) and on the embedded
// log alike (a round holds every topic of the subscription).
// An event with `maxAttempts` strikes is poison and goes to the dead-letter topic. While
// every call fails, nothing earns a strike: the bus keeps retrying with backoff and never
// dead-letters, so a Redis / ClickHouse / SQLite outage loses nothing.
//
// A partition failing as a whole (a store shard of its keys down) is not one event: in a
// round where nothing of a scope was handled and two or more events of it failed, those
// events lose their strikes; a strike whose error differs in kind (name and code) from the
// event's previous one starts its count over, since a poison event fails the same way every
// time.
//
// The quiet-topic rule: a lone event on a topic where nothing else moves never earns a
// strike. It is lettered once it has failed alone `quiet.attempts` times, with the same kind
// of error, over at least `quiet.afterMs`, and the handler then demonstrably works for its
// topic: the last event of that topic the subscription handled, handled again (handlers are
// idempotent per event id), succeeds, the lone event then fails once more, and the check
// succeeds again. The failure between two successes is what calls it poison: a store that
// recovered just before the check takes the event on its last try (it is handled, not
// lettered), and one that went down just after fails the second check. When the subscription has handled nothing of the topic
// since the process started, that event comes from the log itself: the last one of the
// topic (on Kafka, of the partition) before the consumer's committed position (`fromLog`)
// that the subscription did not dead-letter (one lettered before a restart was never handled:
// its check would fail every T and hold the topic behind it).
// Other topics' successes never stand in: right after a restart, one topic's store down
// while another topic flows would otherwise letter the first topic's events one per T. With
// no such event at all (a new topic), nothing is lettered by this rule until one of the
// topic's events is handled. A failed check, or none to make, is an outage: nothing is
// lettered and the event's clock starts over (so the log is read at most once per T).
// During an outage of the handler's store the check fails too, so nothing is lettered. A run of
// failing events at the end of a quiet topic is judged one at a time: its first event as a
// lone one (the rest wait, their clocks not started), then the next once it is first, so k
// poison events there take k times `quiet.afterMs`. While other events of the topic are
// handled between its tries, a run is a partition failing as a whole and is never judged.
import { redactString } from '@aigw/observability';

/** Strikes before a failing event is dead-lettered. */
export const DEFAULT_HANDLER_ATTEMPTS = 5;

/** How long a lone event on a quiet topic fails before it may be dead-lettered. */
export const DEFAULT_QUIET_TOPIC_AFTER_MS = 10 * 60_000;

/**
 * How far back from the committed position a bus looks for the check `fromLog` gives: the
 * last event there this build can read and the subscription did not dead-letter (either
 * was never handled).
 */
export const LOG_CHECK_LOOKBACK = 20;

/** Events tried alone in a round before anything succeeded in it (an outage costs this). */
const TRIES_WITHOUT_PROOF = 3;

/** Strikes kept at most: past it they start over (a bound, never reached in practice). */
const MAX_TRACKED = 10_000;

/** Longest error text a dead letter carries. */
const MAX_REASON_CHARS = 2_000;

/** Which rule called the event poison: strikes, or the quiet-topic rule. */
export type PoisonRule = 'strikes' | 'quiet-topic';

/** An event the handler failed on while the store worked, `maxAttempts` rounds running. */
export interface PoisonEvent<T> {
  readonly item: T;
  readonly error: unknown;
  /** Strikes, or (quiet-topic rule) failures alone. */
  readonly attempts: number;
  readonly rule: PoisonRule;
}

/** When a lone failing event on a quiet topic is dead-lettered (see the file's comment). */
export interface QuietTopicRule {
  /** Failures alone, at least. Default: the isolation's `maxAttempts`. */
  readonly attempts?: number;
  /** Time since its first such failure, at least. Default 10 minutes. */
  readonly afterMs?: number;
  /** The clock; a test's fake one. */
  readonly now?: () => number;
}

export interface IsolationRound<T> {
  /** Handled alone this round. */
  readonly handled: readonly T[];
  /** Failed (or were not tried) and are not poison yet: retry them after a backoff. */
  readonly failing: readonly T[];
  /** Dead-letter these; each is out of `failing`. */
  readonly poison: readonly PoisonEvent<T>[];
  /**
   * Whether the store was seen working this round (for any scope), or since a failing event
   * last failed; a strike needs proof for the event's own scope.
   */
  readonly proven: boolean;
  /** The last error seen, for the caller's log. */
  readonly lastError: unknown;
}

/** What the quiet-topic rule makes of a lone failing event. */
type QuietVerdict =
  | { readonly kind: 'wait' }
  | { readonly kind: 'handled' }
  | { readonly kind: 'poison'; readonly failures: number; readonly error: unknown };

const WAIT: QuietVerdict = { kind: 'wait' };
const HANDLED: QuietVerdict = { kind: 'handled' };

interface Strikes {
  readonly count: number;
  readonly kind: string;
}

/** A lone event failing with nothing to show the store works (the quiet-topic rule). */
interface QuietFailures {
  since: number;
  failures: number;
  readonly kind: string;
}

/**
 * The last event of the item's topic (on Kafka, its partition) before the consumer's
 * committed position that the subscription did not dead-letter, read from the log: the
 * quiet-topic rule's check when nothing of the topic was handled since the process started.
 * Undefined when the log holds none; rejects when the log (or its letters) cannot be read.
 * Handling it again is safe for every subscriber, each idempotent per event id even for an
 * event long past: the budget settler applies a usage or adjustment once (the embedded
 * ledger remembers ids for the topic's retention and a week more; a Redis marker lives
 * until every balance the event changed has expired, after which a replay lands in expired
 * keys and is dropped); the usage sink keeps one row per event id (SQLite INSERT OR
 * IGNORE on time and id; ClickHouse checks the batch's ids in the raw tables first; one
 * older than the analytics retention comes back until the next drop, as any redelivery);
 * an exhaustion view (ephemeral) has applied it last of its topic, so the state it sets
 * is the one it holds. A new subscriber must keep this true.
 */
export type LastEventFromLog<T> = (item: T) => Promise<T | undefined>;

/** One subscription's strikes, kept across its deliveries (the embedded bus redelivers). */
export class PoisonIsolation<T> {
  private readonly strikes = new Map<string, Strikes>();
  /** Per failing event, its scope's handled count when it last failed. */
  private readonly failedAt = new Map<string, number>();
  /** Per scope, calls of the subscription's handler that succeeded (any partition's). */
  private readonly handled = new Map<string, number>();
  /** Per scope, the last event handled: handled again, it shows the store works. */
  private readonly lastGood = new Map<string, T>();
  private readonly quiet = new Map<string, QuietFailures>();
  private readonly quietAttempts: number;
  private readonly quietAfterMs: number;
  private readonly now: () => number;
  private rounds = 0;

  constructor(
    private readonly idOf: (item: T) => string,
    readonly maxAttempts: number = DEFAULT_HANDLER_ATTEMPTS,
    /** What a success must share with a failing event to count for it: its topic. */
    private readonly scopeOf: (item: T) => string = () => '',
    quiet: QuietTopicRule = {},
  ) {
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new Error(`handler attempts must be a whole number of at least 1, not ${maxAttempts}`);
    }
    this.quietAttempts = quiet.attempts ?? maxAttempts;
    this.quietAfterMs = quiet.afterMs ?? DEFAULT_QUIET_TOPIC_AFTER_MS;
    if (!Number.isInteger(this.quietAttempts) || this.quietAttempts < 1) {
      throw new Error(
        `quiet-topic attempts must be a whole number of at least 1, not ${this.quietAttempts}`,
      );
    }
    if (!Number.isFinite(this.quietAfterMs) || this.quietAfterMs < 0) {
      throw new Error(`quiet-topic wait must be a finite number of ms, not ${this.quietAfterMs}`);
    }
    this.now = quiet.now ?? Date.now;
  }

  /**
   * Handles `pending` one event at a time, in order. `known`, when given, is an event of the
   * same batch already handled (handlers are idempotent per event id): handled again first,
   * it shows whether the store works at all; when it fails, the round stops at once.
   * `fromLog` gives the quiet-topic rule its check when nothing of the topic was handled
   * since start (see the file's comment); without it there is none then.
   */
  async round(
    pending: readonly T[],
    handle: (item: T) => Promise<void>,
    known?: T,
    fromLog?: LastEventFromLog<T>,
  ): Promise<IsolationRound<T>> {
    this.rounds++;
    if (this.strikes.size > MAX_TRACKED || this.failedAt.size > MAX_TRACKED) {
      this.strikes.clear(); // events long handed elsewhere
      this.failedAt.clear();
    }
    if (this.quiet.size > MAX_TRACKED) this.quiet.clear();
    let proven = false;
    // Scopes with an event handled this round: proof for their own failing events only.
    const provenScopes = new Set<string>();
    let lastError: unknown;
    if (known !== undefined) {
      try {
        await handle(known);
        this.countHandled(known);
        proven = true;
        provenScopes.add(this.scopeOf(known));
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
        this.forgetFailures(this.idOf(item));
        proven = true;
        provenScopes.add(this.scopeOf(item));
      } catch (error) {
        failed.push({ item, error });
        lastError = error;
      }
    }
    const pendingInScope = countBy(pending, this.scopeOf);
    const headOfScope = firstBy(pending, this.scopeOf);
    const failedInScope = countBy(
      failed.map((f) => f.item),
      this.scopeOf,
    );
    const poison: PoisonEvent<T>[] = [];
    const failing: T[] = [];
    let struck = false;
    for (const { item, error } of failed) {
      const id = this.idOf(item);
      const scope = this.scopeOf(item);
      // Handled calls since it last failed: the store worked between two of its failures.
      const handledInScope = this.handled.get(scope) ?? 0;
      const workedSince = handledInScope > (this.failedAt.get(id) ?? Infinity);
      this.failedAt.set(id, handledInScope);
      const alone = pendingInScope.get(scope) === 1;
      if (!provenScopes.has(scope) && !(alone && workedSince)) {
        // Two or more of one scope failing with nothing of it handled: their partition fails.
        if (!alone && (failedInScope.get(scope) ?? 0) >= 2) this.strikes.delete(id);
        // The first of a run at the end of a quiet topic is judged as a lone event is; the
        // ones behind it wait their turn. While the rest of its topic moves, the run is a
        // partition failing as a whole, never judged.
        const quietHead = headOfScope.get(scope) === item && !workedSince;
        if (!alone && !quietHead) {
          this.quiet.delete(id);
          failing.push(item);
          continue;
        }
        const verdict = await this.judgeQuietFailure(item, error, handle, fromLog);
        if (verdict.kind === 'wait') failing.push(item);
        else if (verdict.kind === 'handled') {
          this.countHandled(item);
          this.forgetFailures(id);
          handled.push(item);
          proven = true;
        } else {
          this.forgetFailures(id);
          poison.push({
            item,
            error: verdict.error,
            attempts: verdict.failures,
            rule: 'quiet-topic',
          });
          struck = true;
        }
        continue;
      }
      struck = true;
      const kind = errorKind(error);
      const before = this.strikes.get(id);
      const attempts = before?.kind === kind ? before.count + 1 : 1;
      if (attempts >= this.maxAttempts) {
        this.forgetFailures(id);
        poison.push({ item, error, attempts, rule: 'strikes' });
      } else {
        this.strikes.set(id, { count: attempts, kind });
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
      this.lastGood.set(scope, item);
    }
    if (this.strikes.size === 0 && this.failedAt.size === 0 && this.quiet.size === 0) return;
    for (const item of items) this.forgetFailures(this.idOf(item));
  }

  /**
   * Notes a lone failure with nothing to show the store works, and once the quiet-topic
   * rule's count and wait are met, judges it (see the file's comment): poison, handled on
   * its last try, or wait (an outage, or nothing to check against).
   */
  private async judgeQuietFailure(
    item: T,
    error: unknown,
    handle: (item: T) => Promise<void>,
    fromLog: LastEventFromLog<T> | undefined,
  ): Promise<QuietVerdict> {
    const id = this.idOf(item);
    const kind = errorKind(error);
    const now = this.now();
    let failures = this.quiet.get(id);
    if (failures?.kind !== kind) {
      // A new kind of error starts its clock over: a poison event fails the same way.
      failures = { since: now, failures: 0, kind };
      this.quiet.set(id, failures);
    }
    failures.failures++;
    if (failures.failures < this.quietAttempts || now - failures.since < this.quietAfterMs) {
      return WAIT;
    }
    const scope = this.scopeOf(item);
    let check = this.lastGood.get(scope);
    if (check === undefined || this.idOf(check) === id) {
      try {
        check = await fromLog?.(item);
      } catch {
        check = undefined; // the log could not be read: no check this time
      }
    }
    if (check !== undefined && this.idOf(check) !== id && (await succeeds(handle, check))) {
      this.lastGood.set(scope, check);
      const lastTry = await attempt(handle, item);
      if (lastTry.ok) return HANDLED; // the store came back between its failure and the check
      failures.failures++;
      // Failing the same way right between two successes of the check: poison. Otherwise
      // the store went down meanwhile, or the event fails differently now: wait again.
      if (errorKind(lastTry.error) === kind && (await succeeds(handle, check))) {
        return { kind: 'poison', failures: failures.failures, error: lastTry.error };
      }
    }
    // The handler fails its topic as a whole (an outage), or nothing can show it works for
    // the topic (none of its events before this one): the wait starts over.
    failures.since = this.now();
    failures.failures = 0;
    return WAIT;
  }

  private forgetFailures(id: string): void {
    this.strikes.delete(id);
    this.failedAt.delete(id);
    this.quiet.delete(id);
  }

  private countHandled(item: T): void {
    const scope = this.scopeOf(item);
    this.handled.set(scope, (this.handled.get(scope) ?? 0) + 1);
    this.lastGood.set(scope, item);
  }

  /** Events with strikes now (a test's and an operator's view). */
  get striking(): number {
    return this.strikes.size;
  }
}

/** Whether the handler takes `item` now (handled again: handlers are idempotent per event id). */
async function succeeds<T>(handle: (item: T) => Promise<void>, item: T): Promise<boolean> {
  return (await attempt(handle, item)).ok;
}

async function attempt<T>(
  handle: (item: T) => Promise<void>,
  item: T,
): Promise<{ ok: true } | { ok: false; error: unknown }> {
  try {
    await handle(item);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

/** What a strike compares across failures: the error's name and code, not its text. */
function errorKind(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number'
    ? `${error.name}:${code}`
    : error.name;
}

/** The first item of each key, in order. */
function firstBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T> {
  const first = new Map<string, T>();
  for (const item of items) if (!first.has(keyOf(item))) first.set(keyOf(item), item);
  return first;
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}

/** The error as a dead letter carries it: its message, secrets masked, bounded. */
export function deadLetterReason(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactString(text).slice(0, MAX_REASON_CHARS);
}

/** The log line of a handler's dead letter, on both buses: it names the rule that lettered it. */
export function deadLetterLogMessage(rule: PoisonRule): string {
  return rule === 'quiet-topic'
    ? 'dead-lettered an event its handler kept failing on alone on a quiet topic, while the last good event of that topic handled again succeeded (rule quiet-topic)'
    : 'dead-lettered an event its handler keeps failing on while others pass (rule strikes)';
}

/** The code a handler's dead letter carries, beside the decode codes of unreadable events. */
export const HANDLER_FAILED_CODE = 'HANDLER.FAILED';
