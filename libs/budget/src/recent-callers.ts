import { tierByName, type GatewayConfig } from '@aigw/config';
import { bindLimit, userLimits, type BoundLimit } from '@aigw/budget-core';

/**
 * Callers rechecked at a reload at most: the most recently settled. Their limits (about six
 * a caller) are read with the per-model ones; the others' are announced at their next usage.
 */
const MAX_RECHECKED_CALLERS = 1_000;

interface Caller {
  readonly route: string;
  readonly tier: string | undefined;
  readonly budgetKey: string;
}

/**
 * The callers whose usage this settler settled lately, by route, tier and budget key: a
 * config reload may lower their limits below what they spent, and their calls are then
 * refused at admission, so no usage of theirs would come to say so (the remaining gauge,
 * the `exhausted` state). Insertion order is the order of last use: the oldest go first.
 */
export class RecentCallers {
  private readonly callers = new Map<string, Caller>();

  constructor(private readonly max = MAX_RECHECKED_CALLERS) {}

  remember(route: string, tier: string | undefined, budgetKey: string): void {
    const id = `${route}\0${tier ?? ''}\0${budgetKey}`;
    // Re-inserted: the map's order is the order of last use.
    if (!this.callers.delete(id) && this.callers.size >= this.max) {
      this.callers.delete(this.callers.keys().next().value as string);
    }
    this.callers.set(id, { route, tier, budgetKey });
  }

  /**
   * Each remembered caller's own limits as `config` sets them, bound at `now` (a route
   * gone binds nothing; a tier gone, none of its limits).
   */
  limitsUnder(config: GatewayConfig, now: number): BoundLimit[] {
    const limits: BoundLimit[] = [];
    for (const caller of this.callers.values()) {
      const route = config.routes.find((candidate) => candidate.name === caller.route);
      if (!route) continue;
      const tier = tierByName(config, route, caller.tier);
      for (const limit of userLimits({ route, userKey: caller.budgetKey, tier })) {
        limits.push(bindLimit(limit, now));
      }
    }
    return limits;
  }
}
