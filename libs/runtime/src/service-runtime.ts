import { join } from 'node:path';
import type { GatewayConfig, MissingSecretPolicy } from '@aigw/config';
import { EmbeddedEventBus, SqliteEventLog } from '@aigw/embedded';
import { Logger, MetricsRegistry } from '@aigw/observability';
import { AdminServer } from './admin-server';
import { listenFailure } from './startup-errors';
import {
  loadServiceConfig,
  type ConfigHolder,
  type Env,
  type ServiceSettings,
} from './service-settings';

/** The client-facing listener of a service: a Nest app or a bare Fastify instance. */
export interface ServedApp {
  /** Listens and resolves the port actually bound (PORT=0 picks one). */
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export interface RunningService {
  readonly port: number;
  readonly adminPort: number;
  close(): Promise<void>;
}

/** Stands in for the client listener of a service that has none: PORT stays unbound. */
const ADMIN_ONLY: ServedApp = { listen: async () => 0, close: async () => undefined };

/** A dependency's state for /readyz; `ready: false` takes the service out of rotation. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<{ ready: boolean; state: string }>;
}

export interface ServiceRuntimeOptions {
  /** The role name used in logs: gateway, ingress, router, provider-adapter, ... */
  readonly app: string;
  /** File of the embedded event log under the data directory; default `<app>-events.db`. */
  readonly eventLogFile?: string;
  readonly missingSecrets?: MissingSecretPolicy;
}

/**
 * What every service process shares: logger and metrics, the configuration with reload,
 * its own embedded event bus under the data directory, the admin listener, one-line
 * start-up failures and a graceful shutdown on SIGINT/SIGTERM.
 */
export class ServiceRuntime {
  private readonly closers: (() => Promise<void> | void)[] = [];
  private readonly checks: ReadinessCheck[] = [];
  private closing?: Promise<void>;

  private constructor(
    readonly app: string,
    readonly logger: Logger,
    readonly metrics: MetricsRegistry,
    private readonly holder: ConfigHolder,
    readonly events: EmbeddedEventBus,
    private readonly eventLog: SqliteEventLog,
    private readonly spoolGauge: NodeJS.Timeout,
  ) {}

  static async open(env: Env, options: ServiceRuntimeOptions): Promise<ServiceRuntime> {
    const logger = Logger.fromEnv(env).child({ app: options.app });
    const metrics = MetricsRegistry.fromEnv(env);
    const holder = await loadServiceConfig(
      env,
      logger,
      (ok) => metrics.recordConfigReload(ok),
      options.missingSecrets === undefined ? {} : { missingSecrets: options.missingSecrets },
    );
    if (holder.settings.kafkaBrokers) {
      // The Kafka publisher arrives with its own issue; until then say so instead of
      // letting an operator believe events reach the brokers.
      logger.warn('KAFKA_BROKERS is set, but this build writes events to the embedded log', {
        dataDir: holder.settings.dataDir,
      });
    }
    let eventLog: SqliteEventLog;
    try {
      eventLog = new SqliteEventLog(
        join(holder.settings.dataDir, options.eventLogFile ?? `${options.app}-events.db`),
      );
    } catch (error) {
      holder.close();
      throw error;
    }
    const events = new EmbeddedEventBus(eventLog, {
      flushIntervalMs: 50,
      maxBatch: 500,
      onError: (error, group) =>
        logger.error('event consumer failed; will retry', { group, error }),
      onUndecodable: (reason, group) =>
        logger.error('skipped an unreadable event', { group, reason }),
    });
    const spoolGauge = setInterval(() => metrics.setSpoolDepth(events.pendingCount), 1_000);
    spoolGauge.unref();
    return new ServiceRuntime(options.app, logger, metrics, holder, events, eventLog, spoolGauge);
  }

  get settings(): ServiceSettings {
    return this.holder.settings;
  }

  /** The configuration in force; read per request so reloads apply at once. */
  readonly config = (): GatewayConfig => this.holder.current();

  /** Runs at shutdown after the listeners stopped, before the event log closes. */
  onClose(closer: () => Promise<void> | void): void {
    this.closers.push(closer);
  }

  addReadinessCheck(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /**
   * Starts the client listener and the admin listener; a failure closes everything.
   * Without an app only the admin listener runs (a service with no client API yet).
   */
  async serve(app: ServedApp = ADMIN_ONLY): Promise<RunningService> {
    const { settings } = this;
    const admin = new AdminServer({
      metricsContentType: this.metrics.contentType,
      metrics: () => this.metrics.metrics(),
      ready: () => this.readiness(),
    });
    this.closers.unshift(() =>
      Promise.allSettled([app.close(), admin.close()]).then(() => undefined),
    );

    let port: number;
    let adminPort: number;
    try {
      port = await app.listen(settings.port, settings.host).catch((error: unknown) => {
        throw listenFailure(error, settings.port, 'PORT');
      });
      adminPort = await admin.listen(settings.adminPort, settings.host);
    } catch (error) {
      await this.close();
      throw error;
    }
    const where =
      app === ADMIN_ONLY
        ? `${this.app} running (admin on ${settings.host}:${adminPort})`
        : `${this.app} listening on ${settings.host}:${port} (admin ${adminPort})`;
    this.logger.info(where, { dataDir: settings.dataDir });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void this.close().then(() => process.exit(0)));
    }
    return { port, adminPort, close: () => this.close() };
  }

  /** Stops listening, lets in-flight work finish, then writes out pending events. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.holder.close();
      clearInterval(this.spoolGauge);
      for (const closer of this.closers) {
        try {
          await closer();
        } catch (error) {
          this.logger.warn('error while shutting down', { error });
        }
      }
      await this.events.close();
      this.eventLog.close();
    })();
    return this.closing;
  }

  private async readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = { config: 'loaded', events: 'embedded' };
    let ready = true;
    const results = await Promise.all(this.checks.map((c) => c.check()));
    this.checks.forEach((c, index) => {
      const result = results[index];
      checks[c.name] = result.state;
      ready &&= result.ready;
    });
    return { ready, checks };
  }
}
