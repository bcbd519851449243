import type { BudgetStore } from '@aigw/budget-core';

export interface RunningHoldsOptions {
  /** How long a hold lasts; a running call's is pushed on by this much at each refresh. */
  readonly holdMs: number;
  readonly now?: () => number;
  /** Told how many holds a round pushed on (for the refresh counter). */
  readonly onRefreshed?: (count: number) => void;
}

/**
 * Keeps the holds of calls still running from lapsing. A hold lapses after `holdMs` so an
 * abandoned one frees its room; a stream (or a Realtime session, a slow call) that runs
 * longer would lose its hold while still spending, and others would be admitted into that
 * room past the limit. One shared timer, running only while some call is, looks every
 * quarter of the hold time and refreshes, in one store call, the holds last pushed a
 * quarter or more ago: a call shorter than that costs a map entry and nothing else, and a
 * hold never gets closer than half its time to lapsing while its call runs.
 */
export class RunningHolds {
  /** Reservation id → when its lapse was last set (admitted or refreshed). */
  private readonly running = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private readonly now: () => number;
  private readonly everyMs: number;

  constructor(
    private readonly store: Pick<BudgetStore, 'refresh'>,
    private readonly options: RunningHoldsOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.everyMs = Math.max(1, Math.floor(options.holdMs / 4));
  }

  /** The call holding `reservationId` has started (its hold was just taken). */
  started(reservationId: string): void {
    if (!this.store.refresh) return; // a store whose holds cannot be pushed on
    this.running.set(reservationId, this.now());
    if (!this.timer) {
      this.timer = setInterval(() => void this.refreshDue(), this.everyMs);
      this.timer.unref(); // never what keeps a process alive
    }
  }

  /** The call has ended (answered, failed, released): its hold is left to settle or lapse. */
  ended(reservationId: string): void {
    this.running.delete(reservationId);
  }

  /** Calls being kept. */
  get size(): number {
    return this.running.size;
  }

  /** Pushes on the holds due; one that is gone (settled, lapsed) is no longer kept. */
  async refreshDue(): Promise<void> {
    if (this.running.size === 0) {
      // Idle: the timer goes until the next call starts (not per call: only when idle).
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.refreshing) return; // a slow store: the round in flight covers these
    const now = this.now();
    const due: string[] = [];
    for (const [id, setAt] of this.running) if (now - setAt >= this.everyMs) due.push(id);
    if (due.length === 0) return;
    this.refreshing = true;
    try {
      const kept = await this.store.refresh!(due, this.options.holdMs, now);
      let refreshed = 0;
      due.forEach((id, index) => {
        if (!this.running.has(id)) return; // ended meanwhile
        if (kept[index]) {
          this.running.set(id, now);
          refreshed++;
        } else this.running.delete(id);
      });
      if (refreshed > 0) this.options.onRefreshed?.(refreshed);
    } catch {
      // The store is unreachable: tried again at the next round, with half a hold left.
    } finally {
      this.refreshing = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.running.clear();
  }
}
