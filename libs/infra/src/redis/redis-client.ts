// ioredis client from REDIS_URL. The URL may carry a password: it never goes into an
// error message or a log line.
import type { Redis, RedisOptions } from 'ioredis';
import { ioredis } from '../client-libraries';

export class RedisConfigError extends Error {
  override name = 'RedisConfigError';
}

export function createRedisClient(
  url: string | undefined = process.env.REDIS_URL,
  options: RedisOptions = {},
): Redis {
  if (!url) throw new RedisConfigError('REDIS_URL is not set');
  if (!/^rediss?:\/\//.test(url)) {
    throw new RedisConfigError('REDIS_URL: expected a redis:// or rediss:// URL');
  }
  const { Redis: RedisClient } = ioredis();
  return new RedisClient(url, {
    // Fail a command instead of queueing it forever while the server is away.
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    lazyConnect: false,
    ...options,
  });
}

/**
 * Lets `redis` queue commands only until its first connection is ready; from then on a
 * command sent while it is disconnected fails at once instead of waiting for the
 * reconnection. For stores that only save work (a cache, request deduplication): while
 * Redis is away every request should go on without them, not wait on each command.
 * The first connection still queues, so the first requests of a fresh client are not
 * all misses just because they came before its connect finished.
 */
export function queueOnlyUntilFirstReady(redis: Redis): Redis {
  redis.once('ready', () => {
    redis.options.enableOfflineQueue = false;
  });
  return redis;
}
