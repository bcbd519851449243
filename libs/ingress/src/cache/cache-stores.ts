// The response cache's stores by route, as openResponseReuse hands them out:
// `caching.backend.address` → that Redis; otherwise `REDIS_URL` → the shared Redis;
// otherwise this process's memory.
import type Redis from 'ioredis';
import type { GatewayConfig, RouteConfig } from '@aigw/config';
import { MemoryResponseCacheStore } from './domain/memory-cache-store';
import type { CacheEvictionReason, ResponseCacheStore } from './domain/response-cache-store';
import { CacheRedisPool } from './cache-redis-pool';
import { RedisResponseCacheStore } from './redis-cache-store';

/** What of a service process the stores need (a `ReuseHost` fits). */
export interface CacheStoresHost {
  readonly settings: { readonly redisUrl?: string };
  /** Called with each configuration a good reload puts in force. */
  onConfigReload(listener: (config: GatewayConfig) => void): void;
}

/** The stores openResponseReuse hands out by route, and the Redis clients under them. */
export interface CacheStores {
  readonly cacheStore: (route: RouteConfig) => ResponseCacheStore;
  /** A client for `url` (deduplication's REDIS_URL, never retired). */
  readonly client: (url: string) => Redis;
  /** Heap the in-memory entries take, keys and bookkeeping included (0 until one is stored). */
  readonly memoryBytes: () => number;
  readonly close: () => Promise<void>;
}

/** Told how many live entries a store dropped to make room, and why. */
export type StoreEvictions = (
  store: 'memory' | 'redis',
  reason: CacheEvictionReason,
  count: number,
) => void;

/** `redis:6379` as the spec writes it, or a full redis:// URL. */
function redisUrlOf(address: string): string {
  return /^rediss?:\/\//.test(address) ? address : `redis://${address}`;
}

/**
 * Stores by route. On each reload, a Redis whose address no caching route names any more
 * is retired: disconnected once its commands in flight have finished, so a changed
 * caching.backend.address leaves no connection behind.
 */
export function openCacheStores(
  host: CacheStoresHost,
  memoryBytes: number,
  openRedis: (url: string) => Redis,
  evicted: StoreEvictions = () => undefined,
): CacheStores {
  const redisUrl = host.settings.redisUrl;
  const pool = new CacheRedisPool(openRedis, redisUrl === undefined ? [] : [redisUrl]);
  let memory: MemoryResponseCacheStore | undefined;
  host.onConfigReload((config) => {
    const wanted = new Set<string>();
    for (const route of config.routes) {
      const address = route.caching.backend.address;
      if (route.caching.enabled && address) wanted.add(redisUrlOf(address));
    }
    pool.retainOnly(wanted);
  });
  return {
    cacheStore: (route) => {
      const address = route.caching.backend.address;
      const url = address ? redisUrlOf(address) : redisUrl;
      if (!url) {
        return (memory ??= new MemoryResponseCacheStore(memoryBytes, Date.now, (reason, count) =>
          evicted('memory', reason, count),
        ));
      }
      return pool.store(
        url,
        (redis) =>
          new RedisResponseCacheStore(redis, false, (reason, count) =>
            evicted('redis', reason, count),
          ),
      );
    },
    client: (url) => pool.client(url),
    memoryBytes: () => memory?.totalBytes ?? 0,
    close: async () => {
      await memory?.close();
      pool.closeAll();
    },
  };
}
