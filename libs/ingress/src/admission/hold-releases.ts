import type { BudgetStore } from '@aigw/budget-core';
import type { BudgetHoldReleaseOutcome } from '@aigw/observability';

/**
 * What became of giving a hold back: `released` at once, `released_on_retry` after the
 * store failed and then recovered, or `left_to_lapse` when the retries ran out (or too
 * many were waiting): the hold keeps its room until AI_GATEWAY_RESERVATION_HOLD_MS ends.
 */
export type HoldReleaseOutcome = BudgetHoldReleaseOutcome;

export interface HoldReleasesOptions {
  /** How long a hold lasts: no retry is made once it would have lapsed anyway. */
  readonly holdMs: number;
  /** Tries after the first; each waits `backoff` times the one before. */
  readonly retries?: number;
  readonly firstDelayMs?: number;
  readonly backoff?: number;
  /** Releases waiting for a retry at most; past it a failed one is left to lapse. */
  readonly maxWaiting?: number;
  readonly now?: () => number;
  readonly onOutcome?: (outcome: HoldReleaseOutcome) => void;
}

const DEFAULT_RETRIES = 3;
const DEFAULT_FIRST_DELAY_MS = 250;
const DEFAULT_BACKOFF = 4;
/** Enough for a short store outage under load; a timer and a closure each. */
const DEFAULT_MAX_WAITING = 10_000;

/**
 * Gives holds back to the store, off the request path: a release that fails (a command
 * timeout, a dropped connection) is tried again a few times with growing waits, since until
 * it succeeds its room stays held from other callers for the whole hold time. The caller
 * waits for the first try only, and is never told of a failure: its answer does not depend
 * on it. A retry of a hold the store already dropped is harmless (unknown ids are ignored).
 */
export class HoldReleases {
  private waiting = 0;
  private readonly now: () => number;

  constructor(
    private readonly store: Pick<BudgetStore, 'release'>,
    private readonly options: HoldReleasesOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Releases waiting for a retry now. */
  get pending(): number {
    return this.waiting;
  }

  /** Releases `reservationId`, retrying in the background if the store fails. */
  async release(reservationId: string): Promise<void> {
    const lapsesAt = this.now() + this.options.holdMs;
    if (await this.tried(reservationId)) this.options.onOutcome?.('released');
    else this.retryLater(reservationId, 1, lapsesAt);
  }

  private retryLater(reservationId: string, attempt: number, lapsesAt: number): void {
    const retries = this.options.retries ?? DEFAULT_RETRIES;
    const delay =
      (this.options.firstDelayMs ?? DEFAULT_FIRST_DELAY_MS) *
      (this.options.backoff ?? DEFAULT_BACKOFF) ** (attempt - 1);
    const full = this.waiting >= (this.options.maxWaiting ?? DEFAULT_MAX_WAITING);
    if (attempt > retries || full || this.now() + delay >= lapsesAt) {
      this.options.onOutcome?.('left_to_lapse');
      return;
    }
    this.waiting++;
    const timer = setTimeout(() => {
      void this.tried(reservationId).then((released) => {
        this.waiting--;
        if (released) this.options.onOutcome?.('released_on_retry');
        else this.retryLater(reservationId, attempt + 1, lapsesAt);
      });
    }, delay);
    timer.unref(); // a retry never keeps a process alive: the hold lapses without it
  }

  /** One try: whether the store took it (a store may throw before its promise). */
  private async tried(reservationId: string): Promise<boolean> {
    try {
      await this.store.release(reservationId);
      return true;
    } catch {
      return false;
    }
  }
}
