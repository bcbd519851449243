import type { Logger, MetricsRegistry } from '@aigw/observability';

// Budget balances, applied-event markers, client secrets and deduplication locks are
// Redis keys that nothing rebuilds: a Redis allowed to evict keys under memory pressure
// (any maxmemory-policy but noeviction) drops them silently. Checked, never enforced:
// managed Redis often forbids CONFIG, and a start must not fail for a check.

/** What the check needs of a Redis client (ioredis's `call`). */
interface RedisCommander {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** Why a policy other than `noeviction` is a problem, for the operator's log. */
const EVICTION_LOSSES =
  'under memory pressure Redis may evict budget balances and applied-event markers ' +
  '(budgets reset, redelivered usage is counted twice), client secrets and deduplication locks';

/** The value of `CONFIG GET maxmemory-policy` (a [name, value] reply), if it names one. */
function policyOf(reply: unknown): string | undefined {
  if (!Array.isArray(reply)) return undefined;
  const value: unknown = reply[1];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Reads the server's `maxmemory-policy` once: a warning naming it and what may be lost
 * when it is not `noeviction` (unless it is `alreadyWarned`), and the
 * `ai_gateway_redis_eviction_policy_safe` gauge. Never throws. Resolves to the policy
 * read, or undefined when it could not be.
 */
export async function checkRedisEvictionPolicy(
  redis: RedisCommander,
  logger: Logger,
  metrics: MetricsRegistry,
  alreadyWarned?: string,
): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    policy = policyOf(await redis.call('CONFIG', 'GET', 'maxmemory-policy'));
  } catch (error) {
    // Managed Redis (ElastiCache, Memorystore, ...) refuses CONFIG: nothing to report.
    logger.info('could not check the Redis maxmemory-policy (CONFIG GET refused or failed)', {
      reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown',
    });
    return undefined;
  }
  if (policy === undefined) {
    logger.info('could not check the Redis maxmemory-policy (CONFIG GET named none)');
    return undefined;
  }
  metrics.setRedisEvictionPolicy(policy);
  if (policy !== 'noeviction' && policy !== alreadyWarned) {
    logger.warn(
      `Redis maxmemory-policy is ${policy}, not noeviction: ${EVICTION_LOSSES}; run Redis with maxmemory-policy noeviction`,
      { policy },
    );
  }
  return policy;
}

/**
 * Checks the policy each time the connection opens (a reconnect may reach another
 * server, as after a failover), and at once if it is open already. A policy already
 * warned about is not warned about again on reconnects; the gauge is set every time.
 */
export function watchRedisEvictionPolicy(
  redis: RedisCommander & {
    readonly status: string;
    on(event: 'ready', listener: () => void): unknown;
  },
  logger: Logger,
  metrics: MetricsRegistry,
): void {
  let warnedAbout: string | undefined;
  const check = () => {
    void checkRedisEvictionPolicy(redis, logger, metrics, warnedAbout).then((policy) => {
      if (policy !== undefined) warnedAbout = policy === 'noeviction' ? undefined : policy;
    });
  };
  redis.on('ready', check);
  if (redis.status === 'ready') check();
}
