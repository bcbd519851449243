import type { GatewayConfig } from '@aigw/config';
import { bindLimit, userLimits, type BoundLimit } from '@aigw/budget-core';
import type { LimitKind } from '@aigw/contracts';

/**
 * The limits of `userKey` an operator's adjustment applies to (`kind`, or every one when
 * absent), each in the window it is in at `at`: whatever any route or tier configures for
 * the user, since an adjustment names neither. One per balance key (the key holds no
 * route or tier); where routes give one key different caps, the first route's is kept.
 */
export function adjustableLimits(
  config: GatewayConfig,
  userKey: string,
  kind: LimitKind | undefined,
  at: number,
): BoundLimit[] {
  const byKey = new Map<string, BoundLimit>();
  for (const route of config.routes) {
    for (const tier of [undefined, ...route.userTiers, ...config.userTiers]) {
      for (const limit of userLimits({ route, userKey, tier })) {
        if (kind !== undefined && limit.kind !== kind) continue;
        const bound = bindLimit(limit, at);
        if (!byKey.has(bound.key)) byKey.set(bound.key, bound);
      }
    }
  }
  return [...byKey.values()];
}
