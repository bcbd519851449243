import { join } from 'node:path';
import type { DynamicModule } from '@nestjs/common';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient, migrate, type MigrateResult } from '@aigw/infra';
import type { MetricsRegistry } from '@aigw/observability';
import {
  positiveInteger,
  sqliteSyncObserver,
  StartupError,
  type Env,
  type ServiceRuntime,
} from '@aigw/runtime';
import { ClickHouseRawEventExpiry } from './clickhouse/clickhouse-retention';
import { clickhouseReadiness } from './clickhouse/clickhouse-readiness';
import { ClickHouseUsageAnalytics } from './clickhouse/clickhouse-usage.analytics';
import { ClickHouseUsageWriter } from './clickhouse/clickhouse-usage.writer';
import {
  AnalyticsRetention,
  DEFAULT_PAYLOAD_RETENTION_DAYS,
  PAYLOAD_RETENTION_DAYS_VARIABLE,
  payloadExpiry,
  RETENTION_DAYS_VARIABLE,
  type RawEventExpiry,
  type RetentionOutcome,
} from './domain/analytics-retention';
import type { UsageAnalytics } from './domain/analytics.types';
import { SqliteUsageStore } from './embedded/sqlite-usage.store';
import { AnalyticsHttpModule } from './http/analytics-http.module';
import { MAX_SERIES_POINTS } from './domain/analytics-query-error';
import { UsageSinkConsumer, type UsageEventWriter } from './usage-sink.consumer';
import type { BatcherOptions } from './domain/event-batcher';

export interface UsageAnalyticsDefaults {
  /**
   * How long a batch waits for more events before it is written. The usage-sink
   * service waits (fewer, larger ClickHouse inserts); the all-in-one gateway writes at
   * once, since its bus delivers to one subscriber at a time and already batches.
   */
  readonly maxWaitMs: number;
  /**
   * Whether the process starts while ClickHouse does not answer. The all-in-one gateway
   * does: its model calls must not wait on the analytics store (a restart or a scale-up
   * during a ClickHouse outage failed to start, after a minute, every replica). Its schema
   * is then applied once ClickHouse answers, and until then each write fails (the bus keeps
   * the events and delivers them again) and the API answers 503. Otherwise (the usage-sink
   * service, whose only work this is) the start fails after CONNECT_DEADLINE_MS.
   */
  readonly startWithoutClickHouse?: boolean;
}

export interface OpenedUsageAnalytics {
  readonly store: 'clickhouse' | 'embedded';
  readonly analytics: UsageAnalytics;
  readonly consumer: UsageSinkConsumer;
  /** `/v1/analytics/*` and `/usage`, for the process's Nest app. */
  readonly httpModule: DynamicModule;
}

/**
 * The sink's consumer, its failed writes counted by store in
 * ai_gateway_usage_sink_write_failures_total: the bus logs them and redelivers, and the
 * count is what an alert can see (in both the usage-sink service and the all-in-one gateway).
 */
export function meteredUsageSinkConsumer(
  writer: UsageEventWriter,
  batch: BatcherOptions,
  store: OpenedUsageAnalytics['store'],
  metrics: MetricsRegistry,
): UsageSinkConsumer {
  return new UsageSinkConsumer(writer, {
    ...batch,
    onWriteFailed: () => metrics.recordUsageSinkWriteFailure(store),
  });
}

/**
 * The ClickHouse writer, the events it skips as already stored (redeliveries) counted by
 * table in ai_gateway_usage_sink_events_already_stored_total.
 */
export function meteredClickHouseWriter(
  client: ClickHouseClient,
  metrics: MetricsRegistry,
): ClickHouseUsageWriter {
  return new ClickHouseUsageWriter(client, (table, events) =>
    metrics.recordUsageSinkAlreadyStored(table, events),
  );
}

/** How long the sink waits for ClickHouse at start before giving up (it may start later). */
const CONNECT_DEADLINE_MS = 60_000;
/** Between retention passes: rows go at most this long after their retention ends. */
const RETENTION_PASS_EVERY_MS = 3_600_000;

/**
 * The analytics side of a process: ClickHouse when `CLICKHOUSE_URL` is set (migrations
 * applied first), else SQLite under the data directory; the sink subscribed to every
 * event topic of the process's bus; the HTTP module answering from the same store.
 *
 * Env: `USAGE_SINK_BATCH_SIZE` (events per write, default 1000), `USAGE_SINK_FLUSH_MS`
 * (longest wait of a batch), `CLICKHOUSE_DATABASE` (default: the server's default),
 * `AI_GATEWAY_ANALYTICS_TOKEN` (if set, the API requires `Authorization: Bearer` it),
 * `AI_GATEWAY_ANALYTICS_RETENTION_DAYS` (raw rows older than this are deleted, budget
 * adjustments excepted; unset or 0 keeps them all), `AI_GATEWAY_PAYLOAD_RETENTION_DAYS`
 * (logged prompts and answers are deleted after it, default 7; 0 leaves them to the other),
 * `AI_GATEWAY_ANALYTICS_MAX_SERIES_POINTS` (most buckets × groups one usage series may hold;
 * larger queries get a 400, default 100000).
 */
export async function openUsageAnalytics(
  runtime: ServiceRuntime,
  env: Env,
  defaults: UsageAnalyticsDefaults,
): Promise<OpenedUsageAnalytics> {
  const { settings, logger } = runtime;
  const retentionDays = analyticsRetentionDays(env);
  const payloadDays = payloadRetentionDays(env);
  const maxSeriesPoints = analyticsMaxSeriesPoints(env);
  const batch = {
    maxItems: positiveInteger(env, 'USAGE_SINK_BATCH_SIZE', 1000),
    maxWaitMs: nonNegativeInteger(env, 'USAGE_SINK_FLUSH_MS', defaults.maxWaitMs),
  };
  let writer: UsageEventWriter;
  let analytics: UsageAnalytics;
  let expiry: RawEventExpiry;
  let closeStore: () => Promise<void>;
  let store: OpenedUsageAnalytics['store'];
  if (settings.clickhouseUrl) {
    const client = createClickHouseClient({
      url: settings.clickhouseUrl,
      ...(env.CLICKHOUSE_DATABASE ? { database: env.CLICKHOUSE_DATABASE } : {}),
      logger,
    });
    const logMigrated = (result: MigrateResult) =>
      logger.info('clickhouse migrations', {
        server: result.serverVersion,
        applied: result.applied.join(',') || 'none',
      });
    let schema: ClickHouseSchema = { applied: true };
    try {
      if (defaults.startWithoutClickHouse && !(await client.ping()).success) {
        logger.warn(
          'clickhouse not reachable; starting without it, its migrations run once it answers',
        );
        schema = migrateInBackground(client, {
          onMigrated: logMigrated,
          onRetry: (attempt, error) =>
            logger.warn('clickhouse migrations not applied yet; retrying', { attempt, error }),
        });
        runtime.onClose(() => schema.stop?.());
      } else {
        logMigrated(
          await migrateWhenReachable(client, (attempt) =>
            logger.warn('clickhouse not reachable yet; retrying', { attempt }),
          ),
        );
      }
    } catch (error) {
      await client.close();
      throw error;
    }
    runtime.addReadinessCheck(clickhouseReadiness(client));
    writer = afterSchema(meteredClickHouseWriter(client, runtime.metrics), schema);
    analytics = new ClickHouseUsageAnalytics(client, { maxSeriesPoints });
    expiry = new ClickHouseRawEventExpiry(client);
    closeStore = () => client.close();
    store = 'clickhouse';
  } else {
    const sqlite = new SqliteUsageStore(join(settings.dataDir, 'analytics.db'), {
      maxSeriesPoints,
      sync: settings.sqliteSync,
      onSync: sqliteSyncObserver(runtime.metrics, runtime.logger, 'analytics'),
    });
    writer = sqlite;
    analytics = sqlite;
    expiry = sqlite;
    closeStore = async () => sqlite.close();
    store = 'embedded';
  }

  const consumer = meteredUsageSinkConsumer(writer, batch, store, runtime.metrics);
  const onPass = (what: string, days: number) => (outcome: RetentionOutcome) => {
    runtime.metrics.recordAnalyticsRetention(outcome);
    if ('error' in outcome) {
      logger.error(`${what} retention failed; retried at the next pass`, {
        error: outcome.error,
      });
    } else if (outcome.expiredRows > 0) {
      logger.info(`expired ${what} rows deleted`, { rows: outcome.expiredRows, days });
    }
  };
  const retention =
    retentionDays === undefined
      ? undefined
      : AnalyticsRetention.start(expiry, {
          retentionDays,
          everyMs: RETENTION_PASS_EVERY_MS,
          onPass: onPass('analytics', retentionDays),
        });
  // Prompts and answers go sooner than the rest, unless the analytics retention is shorter.
  const payloadRetention =
    payloadDays === undefined || (retentionDays !== undefined && retentionDays <= payloadDays)
      ? undefined
      : AnalyticsRetention.start(payloadExpiry(expiry), {
          retentionDays: payloadDays,
          everyMs: RETENTION_PASS_EVERY_MS,
          onPass: onPass('payload', payloadDays),
        });
  runtime.onClose(async () => {
    // Deliver what the bus still holds, write it, then close the store.
    await retention?.stop();
    await payloadRetention?.stop();
    await runtime.events.flush().catch(() => undefined);
    await consumer.drain();
    await closeStore();
  });
  await runtime.events.subscribe(consumer);
  logger.info('usage analytics', {
    store,
    batchSize: batch.maxItems,
    flushMs: batch.maxWaitMs,
    retentionDays: retentionDays ?? 'unlimited',
    payloadRetentionDays: payloadDays ?? retentionDays ?? 'unlimited',
    maxSeriesPoints,
  });

  const token = env.AI_GATEWAY_ANALYTICS_TOKEN?.trim();
  const httpModule = AnalyticsHttpModule.forRoot(analytics, {
    ...(token ? { accessToken: token } : {}),
    onStoreError: (error) => {
      logger.error('analytics query failed', { error });
      runtime.metrics.recordAnalyticsQueryFailure(store);
    },
  });
  return { store, analytics, consumer, httpModule };
}

/** Adds the analytics API and the usage page to an app's root module. */
export function withUsageAnalytics(
  root: DynamicModule,
  opened: OpenedUsageAnalytics,
): DynamicModule {
  return { ...root, imports: [...(root.imports ?? []), opened.httpModule] };
}

/** Whether ClickHouse's schema is applied; `stop` ends a migration still waiting for it. */
interface ClickHouseSchema {
  readonly applied: boolean;
  readonly stop?: () => void;
}

/** Longest wait between two tries of the background migration. */
const BACKGROUND_RETRY_MAX_MS = 30_000;

/**
 * Applies the migrations once ClickHouse answers, trying again (500 ms, doubling up to
 * 30 s) after each failure, until it succeeds or `stop` is called.
 */
function migrateInBackground(
  client: ClickHouseClient,
  observer: {
    readonly onMigrated: (result: MigrateResult) => void;
    readonly onRetry: (attempt: number, error: unknown) => void;
  },
): ClickHouseSchema {
  let applied = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (count: number): Promise<void> => {
    if (stopped) return;
    try {
      if (!(await client.ping()).success) throw new Error('ClickHouse did not answer a ping');
      const result = await migrate(client);
      applied = true;
      observer.onMigrated(result);
    } catch (error) {
      if (stopped) return;
      observer.onRetry(count, error);
      const delay = Math.min(BACKGROUND_RETRY_MAX_MS, 500 * 2 ** Math.min(count - 1, 10));
      timer = setTimeout(() => void attempt(count + 1), delay);
      timer.unref();
    }
  };
  void attempt(1);
  return {
    get applied() {
      return applied;
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * `writer` once the schema is applied; before, each write fails, so the bus keeps its
 * events (uncommitted, delivered again) rather than inserting into tables a migration has
 * not made or changed yet.
 */
function afterSchema(writer: UsageEventWriter, schema: ClickHouseSchema): UsageEventWriter {
  if (schema.applied) return writer;
  return {
    write: (events) => {
      if (!schema.applied) {
        return Promise.reject(new Error('ClickHouse migrations not applied yet (unreachable)'));
      }
      return writer.write(events);
    },
  };
}

async function migrateWhenReachable(
  client: ClickHouseClient,
  onRetry: (attempt: number) => void,
): Promise<Awaited<ReturnType<typeof migrate>>> {
  const deadline = Date.now() + CONNECT_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    const ping = await client.ping();
    if (ping.success) return migrate(client);
    if (Date.now() > deadline) {
      throw new StartupError(
        `ClickHouse at CLICKHOUSE_URL did not answer within ${CONNECT_DEADLINE_MS / 1000} s`,
      );
    }
    onRetry(attempt);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 500 * attempt)));
  }
}

function nonNegativeInteger(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new StartupError(`${name} must be a whole number of milliseconds, got "${raw}"`);
  }
  return value;
}

/** AI_GATEWAY_ANALYTICS_RETENTION_DAYS as a whole number of days; unset or 0 = no limit. */
export function analyticsRetentionDays(env: Env): number | undefined {
  const raw = env[RETENTION_DAYS_VARIABLE]?.trim();
  if (raw === undefined || raw === '' || raw === '0') return undefined;
  const days = Number(raw);
  if (!Number.isSafeInteger(days) || days <= 0) {
    throw new StartupError(
      `${RETENTION_DAYS_VARIABLE} must be a whole number of days (0 keeps every row), got "${raw}"`,
    );
  }
  return days;
}

/** AI_GATEWAY_PAYLOAD_RETENTION_DAYS as whole days (default 7); 0 = no retention of its own. */
export function payloadRetentionDays(env: Env): number | undefined {
  const raw = env[PAYLOAD_RETENTION_DAYS_VARIABLE]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_PAYLOAD_RETENTION_DAYS;
  if (raw === '0') return undefined;
  const days = Number(raw);
  if (!Number.isSafeInteger(days) || days <= 0) {
    throw new StartupError(
      `${PAYLOAD_RETENTION_DAYS_VARIABLE} must be a whole number of days (0: only the analytics retention applies), got "${raw}"`,
    );
  }
  return days;
}

const MAX_SERIES_POINTS_VARIABLE = 'AI_GATEWAY_ANALYTICS_MAX_SERIES_POINTS';

/** AI_GATEWAY_ANALYTICS_MAX_SERIES_POINTS: the usage series cap (default MAX_SERIES_POINTS). */
export function analyticsMaxSeriesPoints(env: Env): number {
  const raw = env[MAX_SERIES_POINTS_VARIABLE]?.trim();
  if (raw === undefined || raw === '') return MAX_SERIES_POINTS;
  const points = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(points) || points <= 0) {
    throw new StartupError(
      `${MAX_SERIES_POINTS_VARIABLE} must be a positive whole number of points (buckets × groups), got "${raw}"`,
    );
  }
  return points;
}
