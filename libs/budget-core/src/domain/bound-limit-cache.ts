import type { RouteConfig } from '@aigw/config';
import type { BoundLimit } from './budget-limits';

interface Cached<L> {
  /** What the limits were derived from besides the route (the caller's tier): compared by identity. */
  readonly scope: object | undefined;
  readonly limits: readonly L[];
  /** The span in which every limit is in the window it was bound to. */
  readonly from: number;
  readonly until: number;
}

/**
 * Every request of one caller in one window binds the same limits to the same keys. This
 * keeps them, per route object (a config reload brings new ones) and caller, until the
 * first of their windows ends, so a request does not rebuild the key strings (nor rehash
 * them in every map it looks them up in).
 */
export class BoundLimitCache<L extends BoundLimit> {
  private readonly byRoute = new WeakMap<RouteConfig, Map<string, Cached<L>>>();
  /** Callers added since this cache was made (never lowered), for a bound over several caches. */
  added = 0;

  /** `maxCallers` bounds the callers kept per route; past it the cache starts over. */
  constructor(private readonly maxCallers = 10_000) {}

  get(
    route: RouteConfig,
    caller: string,
    scope: object | undefined,
    at: number,
    bind: (at: number) => readonly L[],
  ): readonly L[] {
    let callers = this.byRoute.get(route);
    if (!callers) {
      callers = new Map();
      this.byRoute.set(route, callers);
    }
    const cached = callers.get(caller);
    if (cached && cached.scope === scope && at >= cached.from && at < cached.until) {
      return cached.limits;
    }
    const limits = bind(at);
    let from = -Infinity;
    let until = Infinity;
    for (const { windowRef } of limits) {
      from = Math.max(from, windowRef.startsAt);
      until = Math.min(until, windowRef.endsAt);
    }
    if (!cached) {
      if (callers.size >= this.maxCallers) callers.clear();
      this.added++;
    }
    callers.set(caller, { scope, limits, from, until });
    return limits;
  }
}
