import type { GatewayConfig } from '@aigw/config';
import { bindLimit, budgetsNamed, userLimits, type BoundLimit } from '@aigw/budget-core';
import type { LimitKind } from '@aigw/contracts';

/**
 * The limits an operator's adjustment of `userKey` applies to (`kind`, or every one when
 * absent), each in the window it is in at `at`: whatever any route or tier configures for
 * the budgets the name stands for (budgetsNamed: the user key itself, or where users are
 * identified more than one way, a qualified key or each identification's key of a plain
 * id), since an adjustment names neither route nor tier. One per balance key (the key
 * holds no route or tier); where routes give one key different caps, the first route's is
 * kept.
 */
export function adjustableLimits(
  config: GatewayConfig,
  userKey: string,
  kind: LimitKind | undefined,
  at: number,
): BoundLimit[] {
  const byKey = new Map<string, BoundLimit>();
  for (const { budgetKey, routes } of budgetsNamed(config, userKey)) {
    for (const route of routes) {
      for (const tier of [undefined, ...route.userTiers, ...config.userTiers]) {
        for (const limit of userLimits({ route, userKey: budgetKey, tier })) {
          if (kind !== undefined && limit.kind !== kind) continue;
          const bound = bindLimit(limit, at);
          if (!byKey.has(bound.key)) byKey.set(bound.key, bound);
        }
      }
    }
  }
  return [...byKey.values()];
}
