import { Module, type DynamicModule } from '@nestjs/common';
import { USAGE_ANALYTICS, type UsageAnalytics } from '../domain/analytics.types';
import { AnalyticsController } from './analytics.controller';
import { ANALYTICS_HTTP_OPTIONS, type AnalyticsHttpOptions } from './analytics-http.options';
import { UsagePageController } from './usage-page.controller';

/**
 * `/v1/analytics/*` (JSON) and `/usage` (the page) over one `UsageAnalytics`: mounted on
 * the usage-sink's PORT and on the all-in-one gateway's API port.
 */
@Module({})
export class AnalyticsHttpModule {
  static forRoot(analytics: UsageAnalytics, options: AnalyticsHttpOptions): DynamicModule {
    return {
      module: AnalyticsHttpModule,
      controllers: [AnalyticsController, UsagePageController],
      providers: [
        { provide: USAGE_ANALYTICS, useValue: analytics },
        { provide: ANALYTICS_HTTP_OPTIONS, useValue: options },
      ],
    };
  }
}
