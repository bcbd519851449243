import type Redis from 'ioredis';
import { positiveIntegerSetting, type GatewayConfig } from '@aigw/config';
import type { EventPublisher } from '@aigw/contracts';
import {
  throttledWarning,
  type LogFields,
  type Logger,
  type MetricsRegistry,
} from '@aigw/observability';
import {
  DEFAULT_FLIGHT_MEMORY,
  InProcessFlightCoordinator,
  type FlightCoordinator,
  type FlightMemoryLimits,
} from '../dedup/domain/flight-coordinator';
import {
  DEFAULT_LEADER_TIMEOUT_MS,
  RedisFlightCoordinator,
} from '../dedup/redis-flight-coordinator';
import { parseReuseBilling } from './domain/reuse-billing';
import {
  cacheStoreState,
  memoryInsteadOfRedisWarnings,
  routeCacheStores,
} from './cache-store-kinds';
import { openCacheStores } from './cache-stores';
import { ResponseReuse } from './response-reuse';
import { ReusePublisher } from './reuse-publisher';
import { ReuseRedisClients, reuseRedisClient } from './reuse-redis-client';
import { reuseStoreOperation } from './reuse-store-failures';

/** How often a failing cache or deduplication store is logged (each failure is counted). */
const REUSE_WARNING_EVERY_MS = 60_000;

type Env = Readonly<Record<string, string | undefined>>;

/** What a service process offers the cache (a `ServiceRuntime` fits). */
export interface ReuseHost {
  readonly settings: { readonly redisUrl?: string };
  readonly config: () => GatewayConfig;
  readonly events: EventPublisher;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  onClose(closer: () => Promise<void> | void): void;
  /** Called with each configuration a good reload puts in force. */
  onConfigReload(listener: (config: GatewayConfig) => void): void;
  addReadinessCheck(check: {
    readonly name: string;
    /** `shared`: reported (and in ai_gateway_dependency_reachable), never gating. */
    readonly scope?: 'own' | 'shared';
    check(): Promise<{ ready: boolean; state: string }>;
  }): void;
}

const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;

/**
 * The response cache and deduplication for a service process. Stores, by route:
 * `caching.backend.address` → that Redis; otherwise `REDIS_URL` → the shared Redis;
 * otherwise this process's memory (not persisted: a restart starts cold; bounded by the
 * route's `maxSize`, and all routes together by `AI_GATEWAY_CACHE_MEMORY_MAX_BYTES`,
 * default 64 MiB).
 * Deduplication goes through `REDIS_URL` when set (across replicas), else in process;
 * finished answers kept for late followers are bounded by
 * `AI_GATEWAY_DEDUP_MEMORY_MAX_BYTES` (64 MiB) and `_MAX_ENTRIES` (10000) per process.
 * Connections open on first use, so routes without caching cost nothing.
 */
export function openResponseReuse(host: ReuseHost, env: Env): ResponseReuse {
  const { logger } = host;
  const billing = parseReuseBilling(env.AI_GATEWAY_REUSE_BILLING);
  const memoryBytes = positiveIntegerSetting(
    env,
    'AI_GATEWAY_CACHE_MEMORY_MAX_BYTES',
    DEFAULT_MEMORY_BYTES,
  );
  // A few missed heartbeats (one a second): a follower waits no longer for a leader that
  // went down or lost Redis, and a dead leader's lock outlives its last renewal by as much.
  const leaderTimeoutMs = positiveIntegerSetting(
    env,
    'AI_GATEWAY_DEDUP_LEADER_TIMEOUT_MS',
    DEFAULT_LEADER_TIMEOUT_MS,
  );
  const flightMemory: FlightMemoryLimits = {
    maxBytes: positiveIntegerSetting(
      env,
      'AI_GATEWAY_DEDUP_MEMORY_MAX_BYTES',
      DEFAULT_FLIGHT_MEMORY.maxBytes,
    ),
    maxEntries: positiveIntegerSetting(
      env,
      'AI_GATEWAY_DEDUP_MEMORY_MAX_ENTRIES',
      DEFAULT_FLIGHT_MEMORY.maxEntries,
    ),
    onEvict: () => host.metrics.recordDedupEviction(),
  };
  // While the store is away every request fails the same way: a line a minute per kind of
  // failure (with how many came since), every failure counted on the metric.
  const warnings = new Map<string, (fields?: LogFields) => void>();
  const onError = (what: string, error: unknown) => {
    let warn = warnings.get(what);
    if (!warn) {
      warn = throttledWarning(logger, `${what} failed`, REUSE_WARNING_EVERY_MS);
      warnings.set(what, warn);
    }
    warn({ reason: error instanceof Error ? error.name : 'unknown' });
    const operation = reuseStoreOperation(what);
    if (operation) host.metrics.recordReuseStoreFailure(operation);
  };

  const redisClients = new ReuseRedisClients();
  const openRedis = (url: string): Redis => {
    // While Redis is away (never reached included) a lookup fails at once: a cache miss,
    // no coordination. Blocking reads of the dedup stream wait far less (blockMs).
    const redis = reuseRedisClient(url);
    redisClients.add(redis);
    // The URL may carry a password: log the error's kind only.
    redis.on('error', (error: Error) => onError('cache redis connection', error));
    return redis;
  };
  const stores = openCacheStores(host, memoryBytes, openRedis, (store, reason, count) =>
    host.metrics.recordCacheEvictions(store, reason, count),
  );
  host.metrics.watchCacheMemoryBytes(stores.memoryBytes);
  const { cacheStore, client } = stores;

  let flights: FlightCoordinator | undefined;
  const coordinator = (): FlightCoordinator => {
    if (!flights) {
      const url = host.settings.redisUrl;
      flights = url
        ? new RedisFlightCoordinator(client(url), {
            leaderTimeoutMs,
            memory: flightMemory,
            // Its blocking reader is a connection of its own: /readyz watches it too.
            onReader: (reader) => redisClients.add(reader),
            onLockRenewalFailed: (reason) => {
              host.metrics.recordDedupLockRenewalFailure(reason);
              // A failed command is logged by onError ('dedup renew failed').
              if (reason === 'lost') logger.warn('dedup lock lost while its call ran');
            },
            onSilentLeader: () => {
              host.metrics.recordDedupSilentLeader();
              logger.warn('dedup leader stopped sending heartbeats; its followers got an error');
            },
            onError,
          })
        : new InProcessFlightCoordinator(Date.now, flightMemory);
    }
    return flights;
  };

  // Loads as the spec writes it, but a Redis cache that is in fact per-process is said so.
  const warnAboutStores = (config: GatewayConfig): void => {
    const routes = routeCacheStores(config, host.settings.redisUrl);
    for (const warning of memoryInsteadOfRedisWarnings(routes)) logger.warn(`config: ${warning}`);
  };
  warnAboutStores(host.config());
  host.onConfigReload(warnAboutStores);
  // Never gating: a per-process cache still serves; the state says where answers live.
  host.addReadinessCheck({
    name: 'responseCache',
    check: () =>
      Promise.resolve({
        ready: true,
        state: cacheStoreState(routeCacheStores(host.config(), host.settings.redisUrl)),
      }),
  });
  // Its Redis away, every request is a miss served by the provider: said here, not gating.
  host.addReadinessCheck({
    name: 'responseCacheRedis',
    scope: 'shared',
    check: () => Promise.resolve(redisClients.readiness()),
  });

  host.onClose(async () => {
    await flights?.close();
    await stores.close();
  });
  return new ResponseReuse({
    config: host.config,
    cacheStore,
    flights: coordinator,
    publisher: new ReusePublisher(host.config, host.events, host.metrics, billing),
    billing,
    onError,
  });
}
