import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { GatewayConfig } from '@aigw/config';
import { OpenAiExceptionFilter } from '@aigw/ingress';
import { LocalAdapter, OpenAiCompatibleAdapter, ProviderRegistry } from '@aigw/providers';
import { FailoverRouter } from '@aigw/router';
import { AdminServer, StartupError } from '@aigw/runtime';
import { GatewayModule } from './gateway.module';
import { loadInitialConfig, type GatewaySettings, readGatewaySettings } from './gateway-settings';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface RunningGateway {
  readonly port: number;
  readonly adminPort: number;
  close(): Promise<void>;
}

/** Starts every role in this process on embedded defaults. */
export async function bootstrapGateway(
  env: Readonly<Record<string, string | undefined>>,
): Promise<RunningGateway> {
  const settings = readGatewaySettings(env);
  const configHolder = await loadInitialConfig(settings, env, log);
  const config = (): GatewayConfig => configHolder.current();

  const providers = new ProviderRegistry([new OpenAiCompatibleAdapter(), new LocalAdapter()]);
  const router = new FailoverRouter({ config, providers });

  const adapter = new FastifyAdapter({
    bodyLimit: settings.maxBodyBytes,
    // Honour a caller's request id so logs line up across systems.
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.create({ config, router }),
    adapter,
    { logger: nestLogger, abortOnError: false },
  );
  const reportUnexpected = (error: unknown) => log('error', 'unhandled request error', error);
  app.useGlobalFilters(new OpenAiExceptionFilter(reportUnexpected));

  try {
    await app.listen(settings.port, settings.host);
  } catch (error) {
    await app.close();
    configHolder.close();
    throw listenFailure(error, settings.port, 'PORT');
  }
  const port = Number(new URL(await app.getUrl()).port);

  const admin = new AdminServer({
    metricsContentType: 'text/plain; version=0.0.4; charset=utf-8',
    metrics: async () => '',
    ready: async () => ({ ready: true, checks: { config: 'loaded' } }),
  });
  let adminPort: number;
  try {
    adminPort = await admin.listen(settings.adminPort, settings.host);
  } catch (error) {
    await app.close();
    configHolder.close();
    throw error;
  }

  log('info', `gateway listening on ${settings.host}:${port} (admin ${adminPort})`);
  const close = async () => {
    configHolder.close();
    await Promise.all([app.close(), admin.close()]);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void close().then(() => process.exit(0)));
  }
  return { port, adminPort, close };
}

function listenFailure(error: unknown, port: number, setting: string): StartupError {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    return new StartupError(`port ${port} is already in use (set ${setting} to another port)`);
  }
  return new StartupError(`cannot listen on port ${port} (${setting}): ${code ?? String(error)}`);
}

// Logs are JSON lines on stdout; stderr carries only the one-line cause of a failed start.
const nestLogger = {
  log: () => undefined, // Nest's start-up chatter (mapped routes) is not worth a line each
  error: (message: unknown) => log('error', String(message)),
  warn: (message: unknown) => log('warn', String(message)),
  debug: () => undefined,
  verbose: () => undefined,
};

function log(level: 'info' | 'warn' | 'error', message: string, error?: unknown): void {
  const line = JSON.stringify({
    level,
    time: new Date().toISOString(),
    msg: message,
    ...(error instanceof Error ? { error: error.message } : {}),
  });
  process.stdout.write(`${line}\n`);
}

export type { GatewaySettings };
