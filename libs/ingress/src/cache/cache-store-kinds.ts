// Which store each caching route's answers go to, as openResponseReuse picks it: the
// route's caching.backend.address, else REDIS_URL, else this process's memory. A route
// that asked for Redis and got memory is said out loud: its cache is per replica.
import type { GatewayConfig } from '@aigw/config';

export interface RouteCacheStore {
  readonly route: string;
  readonly kind: 'redis' | 'memory';
  /** caching.backend.type is redis, yet neither an address nor REDIS_URL is set. */
  readonly memoryInsteadOfRedis: boolean;
}

export function routeCacheStores(
  config: GatewayConfig,
  redisUrl: string | undefined,
): RouteCacheStore[] {
  return config.routes
    .filter((route) => route.caching.enabled)
    .map((route) => {
      const redis = route.caching.backend.address !== undefined || redisUrl !== undefined;
      return {
        route: route.name,
        kind: redis ? 'redis' : 'memory',
        memoryInsteadOfRedis: !redis && route.caching.backend.type === 'redis',
      };
    });
}

/** One warning per route whose Redis cache is in fact this process's memory. */
export function memoryInsteadOfRedisWarnings(stores: readonly RouteCacheStore[]): string[] {
  return stores
    .filter((store) => store.memoryInsteadOfRedis)
    .map(
      (store) =>
        `route "${store.route}": caching.backend.type is redis but neither ` +
        'caching.backend.address nor REDIS_URL is set: its cache is this process’s memory ' +
        '(per replica, not shared across replicas, lost on restart)',
    );
}

/** The /readyz state of the response cache: where answers are kept (never gating). */
export function cacheStoreState(stores: readonly RouteCacheStore[]): string {
  if (stores.length === 0) return 'off';
  const fallback = stores.filter((store) => store.memoryInsteadOfRedis).map((s) => s.route);
  if (fallback.length > 0) {
    return `memory instead of redis for route ${fallback.join(', ')} (not shared across replicas)`;
  }
  return [...new Set(stores.map((store) => store.kind))].sort().join(', ');
}
