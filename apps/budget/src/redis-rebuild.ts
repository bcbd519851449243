import type { Redis } from 'ioredis';
import type { GatewayConfig } from '@aigw/config';
import { RedisBudgetStore, type BudgetStore } from '@aigw/budget-core';
import { rebuildBalances, type RebuildReport, type UsageLog } from '@aigw/budget';
import { dropScratchKeys } from './scratch-keys';

/**
 * Rebuilds the balances from `log` into a scratch namespace of the live Redis (applied-event
 * markers and balances apart from the live ones) and compares them with `live`. The
 * scratch copy is deleted afterwards, whatever the outcome.
 */
export async function rebuildInRedis(
  redis: Redis,
  config: () => GatewayConfig,
  log: UsageLog,
  live: BudgetStore,
  scratch = `aigw-rebuild-${Date.now()}`,
): Promise<RebuildReport> {
  // Its markers last as long as the balances they guard, as the live ones (a copy of an
  // event later in the log is refused however long the replay takes), and no longer: none
  // for an event whose windows have all ended, which most of a long history's are.
  const rebuilt = new RedisBudgetStore(redis, { namespace: scratch, appliedMarkerFloorMs: 0 });
  try {
    return await rebuildBalances(config, log, rebuilt, live, `${scratch}:`);
  } finally {
    await dropScratchKeys(redis, `${scratch}:`);
  }
}

/**
 * Resolves once `redis` answers a PING; else rejects naming its address (never its
 * credentials) and the connection's last error. Keeps ioredis from printing each failed
 * connection attempt as an "Unhandled error event" with its stack.
 */
export async function reachRedis(redis: Redis): Promise<void> {
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await redis.ping();
  } catch (error) {
    const { host, port } = redis.options;
    const cause = lastError ?? (error instanceof Error ? error : new Error(String(error)));
    throw new Error(`Redis at ${host}:${port} did not answer (${cause.message})`);
  }
}
