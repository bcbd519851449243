import {
  BudgetState,
  Topic,
  type BudgetStateChanged,
  type EventSubscription,
  type LimitKind,
} from '@aigw/contracts';

/** An exhausted limit: until when, and the limit it was spent against. */
interface Mark {
  readonly resetAt: number;
  readonly limit: number;
  /**
   * Spent (used reached the limit), not merely held full: within its window only a
   * `recovered` (an operator's credit) or a higher limit opens it again.
   */
  readonly spent: boolean;
}

/**
 * A replica's local copy of which limits are exhausted, fed by the budget service's
 * broadcast (and by its own refused reservations), so a request against an exhausted
 * limit is refused without a network call. An entry ends with its window at the latest;
 * the broadcast may end it sooner (`recovered`, or `remaining` with room). A mark made
 * against a lower limit than the one a caller asks about (raised by a config reload) does
 * not refuse: the spend it saw may fit the new limit, so the store decides.
 *
 * A read drops the mark it finds ended, but a window once over is never asked about again
 * (the next one has another key): `sweep`, run on a timer by the process, drops those, so
 * the view holds the marks of current windows only, not every user's every window since
 * the process started.
 */
export class ExhaustionView {
  private readonly marks = new Map<string, Mark>();
  /**
   * The entry each limit (`kind|subject`) has, whatever its window: a `recovered` of that
   * window or a later one ends it.
   */
  private readonly entryOf = new Map<string, string>();
  /**
   * The marks' keys by when their window ends: the marks of one window share it, so there
   * are few groups and a sweep visits only the ended ones' keys.
   */
  private readonly endingAt = new Map<number, Set<string>>();

  /** The entry a limit in a window has: callers that check often may keep it. */
  static keyOf(subject: string, kind: LimitKind, windowId: string): string {
    return `${kind}|${subject}|${windowId}`;
  }

  /**
   * `limit`: what the limit was when it was marked (unknown: the mark holds whatever it is
   * now); `spent`: used reached it, rather than holds filling it.
   */
  markExhausted(
    subject: string,
    kind: LimitKind,
    windowId: string,
    resetAt: number,
    limit = Number.POSITIVE_INFINITY,
    spent = false,
  ): void {
    const key = ExhaustionView.keyOf(subject, kind, windowId);
    const before = this.marks.get(key);
    if (before?.resetAt !== resetAt) {
      if (before) this.unschedule(key, before.resetAt);
      const keys = this.endingAt.get(resetAt);
      if (keys) keys.add(key);
      else this.endingAt.set(resetAt, new Set([key]));
    }
    this.marks.set(key, { resetAt, limit, spent });
    this.entryOf.set(limitOf(key), key);
  }

  /**
   * Drops every mark whose window has ended by `now`, as a read of it then would; returns
   * how many. Not per request: a timer runs it (`openExhaustionView`).
   */
  sweep(now: number): number {
    let dropped = 0;
    for (const [resetAt, keys] of this.endingAt) {
      if (resetAt > now) continue;
      for (const key of keys) {
        this.clear(key);
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * When the limit of entry `key` (`keyOf`) opens again, if it is exhausted now at `limit`
   * (its configured value; a mark made under a lower one is stale and dropped). Without
   * `limit`, any mark counts.
   */
  exhaustedUntilByKey(key: string, now: number, limit?: number): number | undefined {
    const mark = this.marks.get(key);
    if (mark === undefined) return undefined;
    if (mark.resetAt <= now || (limit !== undefined && mark.limit < limit)) {
      this.clear(key);
      return undefined;
    }
    return mark.resetAt;
  }

  apply(event: BudgetStateChanged): void {
    const { budgetKey, limitKind, windowId } = event;
    switch (event.state) {
      case BudgetState.Exhausted:
        this.markExhausted(
          budgetKey,
          limitKind,
          windowId,
          Date.parse(event.resetAt),
          event.limit,
          true,
        );
        break;
      case BudgetState.Recovered: {
        // Usually a new window, whose id the mark does not have: end the limit's mark of that
        // window or an earlier one. Not a later window's: usage that occurred in an ended
        // window (a lagging partition, a producer's clock behind) settles after the next
        // window was spent, and its room is that ended window's, not the limit's now.
        const key = this.entryOf.get(`${limitKind}|${budgetKey}`);
        const mark = key === undefined ? undefined : this.marks.get(key);
        if (mark && mark.resetAt <= Date.parse(event.resetAt)) this.clear(key!);
        this.clear(ExhaustionView.keyOf(budgetKey, limitKind, windowId));
        break;
      }
      case BudgetState.Remaining: {
        // Room left in that window: a mark this replica set on a refusal against holds
        // since settled is stale. With no room (held full) the mark, if any, stays. A spent
        // mark stays too: spend does not go down within a window, so a `remaining` with
        // room after it is one another budget replica paced before the spend (a per-model
        // limit is settled by every replica), unless the limit it names was raised.
        const key = ExhaustionView.keyOf(budgetKey, limitKind, windowId);
        const mark = this.marks.get(key);
        if (event.remaining > 0 && mark && (!mark.spent || event.limit > mark.limit)) {
          this.clear(key);
        }
        break;
      }
    }
  }

  get size(): number {
    return this.marks.size;
  }

  private clear(key: string): void {
    const mark = this.marks.get(key);
    if (mark === undefined) return;
    this.marks.delete(key);
    this.unschedule(key, mark.resetAt);
    const limit = limitOf(key);
    if (this.entryOf.get(limit) === key) this.entryOf.delete(limit);
  }

  private unschedule(key: string, resetAt: number): void {
    const keys = this.endingAt.get(resetAt);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.endingAt.delete(resetAt);
  }
}

/** `kind|subject` of an entry's key: window ids hold no `|`, subjects may. */
function limitOf(key: string): string {
  return key.slice(0, key.lastIndexOf('|'));
}

/**
 * How often a process sweeps its view: a mark outlives its window by this at most (a read
 * meanwhile does not see it: it drops an ended mark it finds).
 */
const EXHAUSTION_SWEEP_MS = 15_000;

/** Sweeps `view` every `everyMs` until the returned stop is called; keeps no process alive. */
export function sweepEndedMarks(
  view: ExhaustionView,
  everyMs = EXHAUSTION_SWEEP_MS,
  now: () => number = Date.now,
): () => void {
  const timer = setInterval(() => view.sweep(now()), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Keeps a view current from the budget state topic (compacted: the latest per limit). */
export function exhaustionViewSubscription(
  view: ExhaustionView,
  replica: string,
  onApplied?: (event: BudgetStateChanged) => void,
): EventSubscription {
  return {
    group: `exhaustion-view-${replica}`,
    topics: [Topic.BudgetState],
    ephemeral: true,
    handle: async (events) => {
      for (const event of events) {
        if (event.type !== 'budget.state') continue;
        view.apply(event);
        onApplied?.(event);
      }
    },
  };
}
