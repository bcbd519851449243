import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { routeOfBackend, usageCost, type GatewayConfig } from '@aigw/config';
import type { UsagePricing } from '@aigw/providers';
import { EmbeddedEventBus, SqliteEventLog } from '@aigw/embedded';
import { IngressTelemetry, OpenAiExceptionFilter } from '@aigw/ingress';
import { Logger, MetricsRegistry, NestLoggerService } from '@aigw/observability';
import { defaultProviderAdapters, MeteredProviderPort, ProviderRegistry } from '@aigw/providers';
import { FailoverRouter, RouterTelemetry } from '@aigw/router';
import { AdminServer, StartupError } from '@aigw/runtime';
import { GatewayModule } from './gateway.module';
import { loadGatewayConfig } from './gateway-settings';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface RunningGateway {
  readonly port: number;
  readonly adminPort: number;
  close(): Promise<void>;
}

/**
 * Starts every role in this process on embedded defaults: the event log and stores
 * live in SQLite under the data directory, and the hops between roles are calls.
 */
export async function bootstrapGateway(
  env: Readonly<Record<string, string | undefined>>,
): Promise<RunningGateway> {
  const logger = Logger.fromEnv(env).child({ app: 'gateway' });
  const metrics = MetricsRegistry.fromEnv(env);
  const configHolder = await loadGatewayConfig(env, logger, (ok) => metrics.recordConfigReload(ok));
  const { settings } = configHolder;
  const config = (): GatewayConfig => configHolder.current();

  const eventLog = new SqliteEventLog(join(settings.dataDir, 'events.db'));
  const events = new EmbeddedEventBus(eventLog, {
    flushIntervalMs: 50,
    maxBatch: 500,
    onError: (error, group) => logger.error('event consumer failed; will retry', { group, error }),
    onUndecodable: (reason, group) =>
      logger.error('skipped an unreadable event', { group, reason }),
  });
  const spoolGauge = setInterval(() => metrics.setSpoolDepth(events.pendingCount), 1_000);
  spoolGauge.unref();

  const pricing: UsagePricing = (_call, servedBy, usage) => {
    const route = routeOfBackend(config().routes, servedBy.backend);
    const cost = route ? usageCost(route, servedBy.model, usage) : undefined;
    return {
      weightedTokens: cost?.weightedTokens ?? usage.inputTokens + usage.outputTokens,
      dollars: cost?.dollars ?? 0,
    };
  };
  const providers = new MeteredProviderPort(
    new ProviderRegistry(defaultProviderAdapters()),
    events,
    metrics,
    pricing,
  );
  const router = new FailoverRouter({
    config,
    providers,
    observer: new RouterTelemetry(events, metrics),
  });

  const adapter = new FastifyAdapter({
    bodyLimit: settings.maxBodyBytes,
    // Honour a caller's request id so logs line up across systems.
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.create({ config, router, observer: new IngressTelemetry(events, metrics) }),
    adapter,
    { logger: new NestLoggerService(nestLogger(logger)), abortOnError: false },
  );
  app.useGlobalFilters(
    new OpenAiExceptionFilter((error) => logger.error('unhandled request error', { error })),
  );

  const admin = new AdminServer({
    metricsContentType: metrics.contentType,
    metrics: () => metrics.metrics(),
    ready: async () => ({ ready: true, checks: { config: 'loaded', events: 'embedded' } }),
  });
  const shutdown = async () => {
    configHolder.close();
    clearInterval(spoolGauge);
    await Promise.allSettled([app.close(), admin.close()]);
    await events.close();
    eventLog.close();
  };

  let port: number;
  let adminPort: number;
  try {
    await app.listen(settings.port, settings.host);
    port = Number(new URL(await app.getUrl()).port);
    adminPort = await admin.listen(settings.adminPort, settings.host);
  } catch (error) {
    await shutdown();
    throw error instanceof StartupError ? error : listenFailure(error, settings.port, 'PORT');
  }

  logger.info(`gateway listening on ${settings.host}:${port} (admin ${adminPort})`, {
    dataDir: settings.dataDir,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void shutdown().then(() => process.exit(0)));
  }
  return { port, adminPort, close: shutdown };
}

/** Nest's start-up chatter (one line per mapped route) only when debugging. */
function nestLogger(logger: Logger): Logger {
  const child = logger.child({ component: 'nest' });
  if (!logger.isEnabled('debug')) child.level = 'warn';
  return child;
}

function listenFailure(error: unknown, port: number, setting: string): StartupError {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    return new StartupError(`port ${port} is already in use (set ${setting} to another port)`);
  }
  return new StartupError(`cannot listen on port ${port} (${setting}): ${code ?? String(error)}`);
}
