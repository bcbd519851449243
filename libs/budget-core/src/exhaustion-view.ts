import {
  BudgetState,
  Topic,
  type BudgetStateChanged,
  type EventSubscription,
  type LimitKind,
} from '@aigw/contracts';

/**
 * A replica's local copy of which limits are exhausted, fed by the budget service's
 * broadcast (and by its own refused reservations), so a request against an exhausted
 * limit is refused without a network call. An entry ends with its window: a new window
 * is a recovery nobody has to announce.
 */
export class ExhaustionView {
  private readonly until = new Map<string, number>();

  /** The entry a limit in a window has: callers that check often may keep it. */
  static keyOf(subject: string, kind: LimitKind, windowId: string): string {
    return `${kind}|${subject}|${windowId}`;
  }

  markExhausted(subject: string, kind: LimitKind, windowId: string, resetAt: number): void {
    this.until.set(ExhaustionView.keyOf(subject, kind, windowId), resetAt);
  }

  /** When the limit opens again, if it is exhausted now. */
  exhaustedUntil(
    subject: string,
    kind: LimitKind,
    windowId: string,
    now: number,
  ): number | undefined {
    return this.exhaustedUntilByKey(ExhaustionView.keyOf(subject, kind, windowId), now);
  }

  /** `exhaustedUntil` by the entry's key (`keyOf`). */
  exhaustedUntilByKey(key: string, now: number): number | undefined {
    const resetAt = this.until.get(key);
    if (resetAt === undefined) return undefined;
    if (resetAt <= now) {
      this.until.delete(key);
      return undefined;
    }
    return resetAt;
  }

  apply(event: BudgetStateChanged): void {
    const id = ExhaustionView.keyOf(event.budgetKey, event.limitKind, event.windowId);
    if (event.state === BudgetState.Exhausted) this.until.set(id, Date.parse(event.resetAt));
    else this.until.delete(id);
  }

  get size(): number {
    return this.until.size;
  }
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
