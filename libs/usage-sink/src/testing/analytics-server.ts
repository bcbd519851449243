import { Module } from '@nestjs/common';
import { Logger } from '@aigw/observability';
import { createNestEdgeApp, type ServedApp } from '@aigw/runtime';
import type { UsageAnalytics } from '../domain/analytics.types';
import { AnalyticsExceptionFilter } from '../http/analytics-exception.filter';
import { AnalyticsHttpModule } from '../http/analytics-http.module';

/** The token the test servers take, as a deployment logging payloads must. */
export const ANALYTICS_TOKEN = 'contract-analytics-token';

export const getAnalytics = (url: string): Promise<Response> =>
  fetch(url, { headers: { authorization: `Bearer ${ANALYTICS_TOKEN}` } });

/** The analytics API over `analytics` on a free local port; its base URL. */
export async function serveAnalytics(
  analytics: UsageAnalytics,
  onStoreError: (error: unknown) => void = (error) =>
    Logger.fromEnv({ LOG_LEVEL: 'error' }).error('store', { error }),
): Promise<{ app: ServedApp; base: string }> {
  @Module({})
  class TestModule {}
  const app = await createNestEdgeApp(
    {
      module: TestModule,
      imports: [
        AnalyticsHttpModule.forRoot(analytics, { accessToken: ANALYTICS_TOKEN, onStoreError }),
      ],
    },
    {
      logger: Logger.fromEnv({ LOG_LEVEL: 'error' }),
      maxBodyBytes: 1024,
      requestReceiveTimeoutMs: 10_000,
      filter: new AnalyticsExceptionFilter({ accessToken: ANALYTICS_TOKEN, onStoreError }),
    },
  );
  return { app, base: `http://127.0.0.1:${await app.listen(0, '127.0.0.1')}` };
}
