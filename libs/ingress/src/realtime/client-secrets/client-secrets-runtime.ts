import { createRedisClient, queueOnlyUntilFirstReady } from '@aigw/infra';
import { RealtimeClientSecrets } from './client-secret-grants';
import { MemoryClientSecretStore, RedisClientSecretStore } from './client-secret-store';

/** Single round trips; one taking longer means Redis is away. */
const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The Realtime client secrets' store, chosen as stored responses choose theirs:
 * `REDIS_URL` → Redis, shared by every replica (a secret minted on one ingress opens a
 * session on any); otherwise this process's memory, bounded (MEMORY_SECRET_LIMITS).
 * Both bound each caller's secrets (MAX_SECRETS_PER_CALLER); `evicted` is told of each
 * live secret dropped for room. Redis is reached on first use: a deployment that mints
 * no secret pays nothing; while it is away, mints and sessions with secrets get a 503.
 */
export function openRealtimeClientSecrets(
  redisUrl: string | undefined,
  evicted: () => void = () => undefined,
): RealtimeClientSecrets {
  if (!redisUrl) return new RealtimeClientSecrets(new MemoryClientSecretStore(undefined, evicted));
  const redis = queueOnlyUntilFirstReady(
    createRedisClient(redisUrl, { commandTimeout: REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true }),
  );
  // Each failed command is a 503 and a `store_failed` count; the connection's own errors
  // (their messages may name the host) are not logged again here.
  redis.on('error', () => undefined);
  return new RealtimeClientSecrets(new RedisClientSecretStore(redis, evicted));
}
