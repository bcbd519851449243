import { IngressTelemetry, OpenAiExceptionFilter } from '@aigw/ingress';
import { defaultProviderAdapters, MeteredProviderPort, ProviderRegistry } from '@aigw/providers';
import { FailoverRouter, RouterTelemetry } from '@aigw/router';
import {
  configUsagePricing,
  createNestEdgeApp,
  ServiceRuntime,
  type Env,
  type RunningService,
} from '@aigw/runtime';
import { GatewayModule } from './gateway.module';

export type RunningGateway = RunningService;

/**
 * Starts every role in this process on embedded defaults: the event log and stores
 * live in SQLite under the data directory, and the hops between roles are calls.
 */
export async function bootstrapGateway(env: Env): Promise<RunningGateway> {
  const runtime = await ServiceRuntime.open(env, { app: 'gateway', eventLogFile: 'events.db' });
  const { config, events, metrics, logger } = runtime;

  const providers = new MeteredProviderPort(
    new ProviderRegistry(defaultProviderAdapters()),
    events,
    metrics,
    configUsagePricing(config),
  );
  const router = new FailoverRouter({
    config,
    providers,
    observer: new RouterTelemetry(events, metrics),
  });

  try {
    const app = await createNestEdgeApp(
      GatewayModule.create({ config, router, observer: new IngressTelemetry(events, metrics) }),
      {
        logger,
        maxBodyBytes: runtime.settings.maxBodyBytes,
        filter: new OpenAiExceptionFilter((error) =>
          logger.error('unhandled request error', { error }),
        ),
      },
    );
    return await runtime.serve(app);
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
