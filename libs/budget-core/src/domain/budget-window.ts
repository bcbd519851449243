import type { Period } from '@aigw/config';

// Windows are named by when they start, so a new window is simply a new key: nothing
// has to reset balances, and old keys expire on their own.

export type WindowSpec = Period;

export const MINUTE: WindowSpec = { unit: 'fixed', ms: 60_000, text: '1m' };
export const DAY: WindowSpec = { unit: 'fixed', ms: 86_400_000, text: '1d' };

/**
 * Whether a limit with this window paces synchronous calls (a minute or less) rather than
 * budgeting spend. A batch runs over a day at the provider and is billed in one lump: it is
 * neither held against such limits nor settled into them, where one bill would shut every
 * caller of the limit out for the rest of the minute.
 */
export function pacesCalls(window: WindowSpec): boolean {
  return window.unit === 'fixed' && window.ms <= 60_000;
}

export interface BudgetWindow {
  /** Stable name of the window, part of the balance key. */
  readonly id: string;
  readonly startsAt: number;
  readonly endsAt: number;
}

/** The window containing `now`. Fixed windows are aligned to the Unix epoch (UTC). */
export function windowAt(spec: WindowSpec, now: number): BudgetWindow {
  if (spec.unit === 'fixed') {
    const startsAt = Math.floor(now / spec.ms) * spec.ms;
    return { id: `${spec.ms}@${startsAt}`, startsAt, endsAt: startsAt + spec.ms };
  }
  // Calendar months in UTC; `count` months per window, counted from January 1970.
  const date = new Date(now);
  const monthsSinceEpoch = (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
  const first = Math.floor(monthsSinceEpoch / spec.count) * spec.count;
  const startsAt = Date.UTC(1970, first, 1);
  const endsAt = Date.UTC(1970, first + spec.count, 1);
  return { id: `mo${spec.count}@${startsAt}`, startsAt, endsAt };
}
