import type Redis from 'ioredis';
import { createRedisClient, queueOnlyUntilFirstReady } from '@aigw/infra';
import { isSilent } from './redis-silence';

/** Cache and dedup commands are single round trips; one taking longer means Redis is away. */
const REUSE_REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * A Redis client for what only saves work (the response cache, deduplication): a command
 * waits for nothing while Redis is away. Commands queue while the first connection is being
 * made (the first requests of a fresh process are not all misses); once a connection
 * attempt failed (Redis down when the process started, or a wrong address) or once
 * connected, a command sent while disconnected fails at once, a miss, instead of waiting
 * out the 2 s command timeout on every request. One sent to a Redis that is connected but
 * silent gives up after those 2 s.
 */
export function reuseRedisClient(url: string): Redis {
  const redis = queueOnlyUntilFirstReady(
    createRedisClient(url, {
      commandTimeout: REUSE_REDIS_COMMAND_TIMEOUT_MS,
      // Commands queued while an attempt is made fail as soon as it failed: none is retried.
      maxRetriesPerRequest: 0,
    }),
  );
  // 'close' comes after a failed attempt as after a lost connection: either way it is away.
  redis.once('close', () => {
    redis.options.enableOfflineQueue = false;
  });
  return redis;
}

/** What readiness reads of a client: its state, and its end (a retired one is forgotten). */
type WatchedClient = Pick<Redis, 'status' | 'once'>;

/**
 * The reuse Redis clients this process opened (the cache's, deduplication's), for /readyz
 * as a shared, never gating check: the pod still serves, every request a miss, while
 * `ai_gateway_dependency_reachable{dependency="responseCacheRedis"}` shows the outage.
 */
export class ReuseRedisClients {
  readonly #open = new Set<WatchedClient>();

  add(redis: WatchedClient): void {
    this.#open.add(redis);
    redis.once('end', () => this.#open.delete(redis));
  }

  readiness(): { ready: boolean; state: string } {
    // Clients open on first use: none yet means nothing to reach.
    if (this.#open.size === 0) return { ready: true, state: 'unused' };
    let away = 0;
    // Only a ready connection reaches Redis: 'connecting' to a host that drops packets lasts
    // the whole connect timeout, attempt after attempt. A ready one may be silent (Redis
    // stalled, or its packets dropped with no reset): its commands time out, it is away too.
    for (const redis of this.#open) if (redis.status !== 'ready' || isSilent(redis)) away += 1;
    if (away === 0) return { ready: true, state: 'connected' };
    return { ready: false, state: `unreachable (${away} of ${this.#open.size} clients)` };
  }
}
