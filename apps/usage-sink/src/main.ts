// First: V8's old-generation cap, before loading the modules runs the first full GCs.
import '@aigw/runtime/heap-growth-at-start';
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import {
  createNestEdgeApp,
  exitWithStartupError,
  ServiceRuntime,
  type Env,
  type RunningService,
} from '@aigw/runtime';
import { AnalyticsExceptionFilter, openUsageAnalytics, withUsageAnalytics } from '@aigw/usage-sink';

@Module({})
class UsageSinkModule {}

/**
 * The usage-sink service: every event into ClickHouse (or SQLite without
 * CLICKHOUSE_URL) in batches, and the analytics API plus the usage page on PORT.
 */
export async function bootstrapUsageSink(env: Env): Promise<RunningService> {
  const runtime = await ServiceRuntime.open(env, {
    app: 'usage-sink',
    missingSecrets: 'not-needed',
  });
  try {
    const analytics = await openUsageAnalytics(runtime, env, { maxWaitMs: 1_000 });
    const app = await createNestEdgeApp(
      withUsageAnalytics({ module: UsageSinkModule }, analytics),
      runtime.edgeAppOptions(
        new AnalyticsExceptionFilter({
          onStoreError: (error) => runtime.logger.error('request failed', { error }),
        }),
      ),
    );
    return await runtime.serve(app);
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

if (require.main === module) bootstrapUsageSink(process.env).catch(exitWithStartupError);
