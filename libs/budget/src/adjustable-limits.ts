import type { GatewayConfig } from '@aigw/config';
import {
  allowsNothing,
  bindLimit,
  budgetsNamed,
  userLimits,
  type BoundLimit,
} from '@aigw/budget-core';
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
  for (const bound of configuredLimits(config, userKey, kind, at)) {
    if (!byKey.has(bound.key)) byKey.set(bound.key, bound);
  }
  return [...byKey.values()];
}

/**
 * Whether every limit an adjustment of `userKey` applies to is 0 wherever it is configured
 * (every route and tier): a 0 allows nothing whatever its balance, so giving spend back
 * changes nothing. False when none is configured (that is "no such limit").
 */
export function everyAdjustableLimitClosed(
  config: GatewayConfig,
  userKey: string,
  kind: LimitKind | undefined,
  at: number,
): boolean {
  let any = false;
  for (const bound of configuredLimits(config, userKey, kind, at)) {
    if (!allowsNothing(bound)) return false;
    any = true;
  }
  return any;
}

/** Each limit any route or tier configures for the budgets `userKey` names, repeats kept. */
function* configuredLimits(
  config: GatewayConfig,
  userKey: string,
  kind: LimitKind | undefined,
  at: number,
): Generator<BoundLimit> {
  for (const { budgetKey, routes } of budgetsNamed(config, userKey)) {
    for (const route of routes) {
      for (const tier of [undefined, ...route.userTiers, ...config.userTiers]) {
        for (const limit of userLimits({ route, userKey: budgetKey, tier })) {
          if (kind !== undefined && limit.kind !== kind) continue;
          yield bindLimit(limit, at);
        }
      }
    }
  }
}
