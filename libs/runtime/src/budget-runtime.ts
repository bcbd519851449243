import { join } from 'node:path';
import {
  ExhaustionView,
  exhaustionViewSubscription,
  BudgetStoreOwnerLock,
  LocalBudgetStore,
  RedisBudgetStore,
  sweepEndedMarks,
  type BudgetStore,
  type HoldLapseListener,
} from '@aigw/budget-core';
import { nonNegativeIntegerSetting, positiveIntegerSetting } from '@aigw/config';
import { createRedisClient } from '@aigw/infra';
import type { Redis } from 'ioredis';
import { StartupError } from './listen';
import type { ServiceRuntime } from './service-runtime';
import { watchRedisEvictionPolicy } from './redis-eviction-policy';
import type { Env } from './service-settings';
import { sqliteSyncObserver } from './sqlite-sync-observer';

/** Budget knobs from the environment (see the README). */
export interface BudgetSettings {
  /** Output tokens assumed for a request that sets no `max_tokens`. */
  readonly defaultMaxOutputTokens: number;
  /** How long a reservation holds if nothing settles or releases it. */
  readonly holdMs: number;
  readonly alertWebhookUrl?: string;
  /** At most one `remaining` state per limit this often (ms); 0 = one per settled batch. */
  readonly stateIntervalMs: number;
}

export function budgetSettings(env: Env): BudgetSettings {
  const webhook = env.AI_GATEWAY_ALERT_WEBHOOK_URL;
  if (webhook) {
    try {
      new URL(webhook);
    } catch {
      throw new StartupError('AI_GATEWAY_ALERT_WEBHOOK_URL is not a valid URL');
    }
  }
  return {
    defaultMaxOutputTokens: positiveIntegerSetting(
      env,
      'AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS',
      4096,
    ),
    holdMs: positiveIntegerSetting(env, 'AI_GATEWAY_RESERVATION_HOLD_MS', 600_000),
    stateIntervalMs: nonNegativeIntegerSetting(env, 'AI_GATEWAY_BUDGET_STATE_INTERVAL_MS', 1_000),
    ...(webhook ? { alertWebhookUrl: webhook } : {}),
  };
}

/** Budget commands are single round trips; one taking longer means Redis is in trouble. */
const REDIS_COMMAND_TIMEOUT_MS = 2_000;
/** How long a start waits for Redis before serving (and refusing) without it. */
const REDIS_STARTUP_WAIT_MS = 10_000;

/** True once the client is ready, false if it is not within `ms`. */
function becomesReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}

/**
 * What a split service without `REDIS_URL` must be told: its balances are its own. The
 * all-in-one gateway settles its own holds; an ingress's are settled by nobody (the budget
 * service settles in Redis), so each lapses after its timeout and replicas share no limit.
 */
function unsharedBudgetStoreWarning(app: string): string | undefined {
  if (app === 'gateway') return undefined;
  const why =
    app === 'ingress'
      ? 'no budget service settles its holds (each lapses after its timeout) and ingress replicas do not share limits'
      : 'ingresses and other budget replicas do not see them';
  return `REDIS_URL is not set: budget balances live in this process only (embedded store), so ${why}; set REDIS_URL in a split deployment`;
}

/**
 * The authoritative balances for this process: Redis when `REDIS_URL` is set (shared by
 * every replica), else SQLite under the data directory (one process only).
 */
export async function openBudgetStore(runtime: ServiceRuntime): Promise<BudgetStore> {
  const { settings, logger } = runtime;
  // Holds lapse lazily, where a reservation (or a balance read) sweeps them: with Redis
  // in ingress and the budget service alike, each counting the ones it swept.
  const onLapse: HoldLapseListener = (kind, count) =>
    runtime.metrics.recordBudgetHoldsLapsed(kind, count);
  if (settings.redisUrl) {
    const redis = createRedisClient(settings.redisUrl, {
      // While Redis is away a command fails at once (the request gets a 503) instead of
      // waiting in a queue through reconnect backoff, which held requests for 20 s and more.
      enableOfflineQueue: false,
      // A Redis that is connected but does not answer fails a command after this long.
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    });
    redis.on('error', (error: Error) =>
      logger.warn('redis connection problem', { reason: error.name }),
    );
    runtime.onClose(async () => {
      // Settle what is still queued (the embedded log's usage) before the balances close:
      // else it waits in the log, its holds kept, until the next start.
      await runtime.events.flush();
      redis.disconnect();
    });
    // A Redis that may evict keys loses balances silently: warned about, never refused.
    watchRedisEvictionPolicy(redis, logger, runtime.metrics);
    // Shared by every replica: reported, not gating. Were Redis to take pods out of
    // rotation, all of them would leave at once, and clients would get connection errors
    // instead of our 503 budget_store_unavailable (and unbudgeted routes would fail too).
    runtime.addReadinessCheck({
      name: 'redis',
      scope: 'shared',
      check: async () => {
        const ready = redis.status === 'ready';
        return { ready, state: redis.status };
      },
    });
    // Without an offline queue, a command before the first connection would fail: wait
    // for it (bounded; /readyz reports redis meanwhile, and budget-bound requests get 503s).
    if (!(await becomesReady(redis, REDIS_STARTUP_WAIT_MS))) {
      logger.warn('Redis is not reachable yet; requests are refused (503) until it is', {
        state: redis.status,
      });
    }
    return new RedisBudgetStore(redis, { onLapse });
  }
  const unshared = unsharedBudgetStoreWarning(runtime.app);
  if (unshared) logger.warn(unshared);
  const path = join(settings.dataDir, 'budget.db');
  const store = new LocalBudgetStore(path, Date.now, onLapse, {
    sync: settings.sqliteSync,
    onSync: sqliteSyncObserver(runtime.metrics, logger, 'budget'),
  });
  // Kept in memory until their windows end: an operator sees many distinct callers here.
  runtime.metrics.watchLocalBudgetBalances(() => store.size);
  // Tells budget:rebuild --restore that the balances are kept here (it would be overwritten).
  const owner = BudgetStoreOwnerLock.acquire(path);
  if (!owner) {
    logger.warn(
      'another process keeps the budget balances of this data directory: two processes on one budget.db overwrite each other',
      { path },
    );
  }
  runtime.onClose(async () => {
    await runtime.events.flush(); // settle what is still queued before the balances close
    store.close();
    owner?.release();
  });
  return store;
}

/**
 * This replica's local view of exhausted limits, kept current from the state topic, and
 * swept of the marks of ended windows on a timer (nothing reads those again).
 */
export async function openExhaustionView(runtime: ServiceRuntime): Promise<ExhaustionView> {
  const view = new ExhaustionView();
  runtime.onClose(sweepEndedMarks(view));
  runtime.metrics.watchExhaustionMarks(() => view.size);
  const startedAt = Date.now();
  await runtime.events.subscribe(
    exhaustionViewSubscription(view, `${runtime.app}-${process.pid}`, (event) => {
      // States from before this process started arrive as a catch-up, not a broadcast.
      const sentAt = Date.parse(event.occurredAt);
      if (sentAt >= startedAt)
        runtime.metrics.observeBudgetBroadcastLag((Date.now() - sentAt) / 1000);
    }),
  );
  return view;
}
