import type { BalanceChange } from '../budget-store.port';
import type { BoundLimit, LimitUnit } from './budget-limits';

/**
 * Each limit's share of `amounts` (a reservation or a settlement), in the limits' order.
 * A plain loop: it runs on every request, and a `.map` closure measured slower.
 */
export function balanceChangesOf(
  limits: readonly BoundLimit[],
  amounts: Readonly<Record<LimitUnit, number>>,
): BalanceChange[] {
  const changes: BalanceChange[] = [];
  for (const limit of limits) {
    changes.push({
      key: limit.key,
      amount: amounts[limit.unit],
      limit: limit.limit,
      windowEndsAt: limit.windowRef.endsAt,
    });
  }
  return changes;
}
