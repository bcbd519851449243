import { join } from 'node:path';
import type { ExceptionFilter } from '@nestjs/common';
import type { GatewayConfig, MissingSecretPolicy } from '@aigw/config';
import type { EventPublisher, EventSubscription } from '@aigw/contracts';
import type { ProviderPort, RouterPort } from '@aigw/contracts/data-plane';
import { deadLetterLogMessage, EmbeddedEventBus, SqliteEventLog } from '@aigw/embedded';
import {
  createKafka,
  DEFAULT_SPOOL_MAX_BYTES,
  kafkaLogCreator,
  KafkaEventBus,
  openEventSpool,
} from '@aigw/infra';
import { clientSendTimeouts } from '@aigw/infra/http';
import {
  Logger,
  logProcessCrashes,
  logProcessWarnings,
  MetricsRegistry,
  type Tracing,
} from '@aigw/observability';
import { AdminServer, type AdminRoute } from './admin-server';
import { evaluateReadiness, type Readiness, type ReadinessCheck } from './readiness';
import { configurePricesFromEnv } from './builtin-prices-setting';
import type { NestEdgeAppOptions } from './nest-edge-app';
import { StartupError } from './listen';
import { heapGrowingPercent, HEAP_GROWING_PERCENT_SETTING, MAX_HEAP_GROWING_PERCENT } from './heap';
import { listenFailure } from './startup-errors';
import { openTracing, tracingSettings } from './tracing-settings';
import { answerAfterRecord } from './answer-after-record-setting';
import { kafkaEventMetrics } from './kafka-event-metrics';
import { poisonRuleOptions } from './event-handler-quiet-setting';
import { KafkaTransportWatch, kafkaProbe, kafkaProbeClient } from './kafka-transport-watch';
import { meterBackendsMissingKey } from './backend-key-metrics';
import { keepConfiguredModelLabels } from './model-label-metrics';
import { sqliteSyncObserver } from './sqlite-sync-observer';
import { DrainDeadline, drainTimeoutMs } from './drain-deadline';
import { handleStopSignals } from './stop-signals';
import {
  drainBoundedProviders,
  drainBoundedRouter,
  type DrainCutPhase,
} from './drain-bounded-calls';
import {
  loadServiceConfig,
  type ConfigHolder,
  type Env,
  type ServiceSettings,
  reloadTriggerLabel,
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

/** How often the embedded event log deletes what its topics' retention lets go. */
const EVENT_LOG_PRUNE_EVERY_MS = 5 * 60_000;

/** Stands in for the client listener of a service that has none: PORT stays unbound. */
const ADMIN_ONLY: ServedApp = { listen: async () => 0, close: async () => undefined };

/**
 * The event bus a service gets: Kafka when KAFKA_BROKERS is set, else the embedded log.
 * Services use only this, so they do not care which one they have.
 */
export interface RuntimeEventBus extends EventPublisher {
  /** A consumer group (or an ephemeral view); resolves once it consumes. */
  subscribe(subscription: EventSubscription): Promise<void>;
  /** Writes out everything published, then releases the bus. */
  close(): Promise<void>;
}

interface OpenedEvents {
  readonly bus: RuntimeEventBus;
  /** Stops consuming while the listeners close (Kafka; the embedded bus has no poller). */
  readonly stopConsumers: () => Promise<void>;
  /** Flushes and closes the bus and whatever it stores into. */
  readonly close: () => Promise<void>;
}

export type { ReadinessCheck, ReadinessScope } from './readiness';

export interface ServiceRuntimeOptions {
  /** The role name used in logs: gateway, ingress, router, provider-adapter, ... */
  readonly app: string;
  /** File of the embedded event log under the data directory; default `<app>-events.db`. */
  readonly eventLogFile?: string;
  readonly missingSecrets?: MissingSecretPolicy;
  /**
   * With KAFKA_BROKERS, whether Kafka must answer at start (`required`) or the service may
   * start spooling its events and connect once Kafka answers (`optional`). Default from
   * the role: see `kafkaAtStart`.
   */
  readonly kafkaAtStart?: KafkaAtStart;
}

export type KafkaAtStart = 'required' | 'optional';

/**
 * The data-plane roles mostly produce, and their spool holds what they produce while
 * Kafka is away, so a restart during an outage serves rather than crash-loops. The roles
 * whose work is consuming (budget, usage-sink, and the all-in-one gateway that settles
 * budgets) can do nothing without Kafka: they still fail fast at start.
 */
const SERVES_WITHOUT_KAFKA: ReadonlySet<string> = new Set([
  'ingress',
  'router',
  'provider-adapter',
]);

/** Whether a role may start while Kafka does not answer (its option, else its role's rule). */
export function kafkaAtStart(
  options: Pick<ServiceRuntimeOptions, 'app' | 'kafkaAtStart'>,
): KafkaAtStart {
  return options.kafkaAtStart ?? (SERVES_WITHOUT_KAFKA.has(options.app) ? 'optional' : 'required');
}

/**
 * What every service process shares: logger and metrics, the configuration with reload,
 * its event bus (Kafka, or the embedded log), the admin listener, one-line
 * start-up failures and a graceful shutdown on SIGINT/SIGTERM.
 */
export class ServiceRuntime {
  private readonly closers: (() => Promise<void> | void)[] = [];
  private readonly checks: ReadinessCheck[] = [];
  private readonly adminRoutes: AdminRoute[] = [];
  private closing?: Promise<void>;
  /** Lets go of SIGINT and SIGTERM (the start's handlers, then those `serve` sets). */
  private stopSignals?: () => void;
  /** Stops accepting, then waits for the answers in flight (set by `serve`). */
  private closeListeners: () => Promise<void> = async () => undefined;
  /** Kafka when KAFKA_BROKERS is set, else the embedded log under the data directory. */
  readonly events: RuntimeEventBus;

  private constructor(
    readonly app: string,
    readonly logger: Logger,
    readonly metrics: MetricsRegistry,
    private readonly holder: ConfigHolder,
    private readonly opened: OpenedEvents,
    /** Started by the stop: model calls still running at it are ended (AI_GATEWAY_DRAIN_TIMEOUT_MS). */
    readonly drain: DrainDeadline,
    /** The OpenTelemetry tracer when OTEL_EXPORTER_OTLP_*ENDPOINT is set; else undefined. */
    readonly tracing?: Tracing,
  ) {
    this.events = opened.bus;
    drain.signal.addEventListener('abort', () =>
      logger.warn('drain deadline passed: ending the model calls still running', {
        drainTimeoutMs: drain.timeoutMs,
      }),
    );
    // After the listeners (which end the last spans), before the event log.
    if (tracing) this.onClose(() => tracing.shutdown());
  }

  static async open(env: Env, options: ServiceRuntimeOptions): Promise<ServiceRuntime> {
    // Applied by each app's first import (heap-growth-at-start); a bad value stops here.
    if (heapGrowingPercent(env) === undefined) {
      throw new StartupError(
        `${HEAP_GROWING_PERCENT_SETTING} must be a whole number from 0 to ${MAX_HEAP_GROWING_PERCENT}, got "${env[HEAP_GROWING_PERCENT_SETTING]}"`,
      );
    }
    const logger = Logger.fromEnv(env).child({ app: options.app });
    // Node's warnings as JSON lines of this logger, not plain text on stderr.
    logProcessWarnings(logger);
    // A crash too: one fatal JSON line, redacted, not Node's plain-text report.
    logProcessCrashes(logger);
    // Until `serve` takes over. As a container's PID 1 (`node …`), a signal without a handler
    // is dropped: a stop during a start waiting on a dependency was ignored, and the process
    // served on after it, out of rotation, until the SIGKILL of its grace period.
    const releaseStartSignals = handleStopSignals({
      stop: (signal) => {
        logger.info('stopped while starting', { signal });
        process.exit(0);
      },
      insist: () => undefined,
    });
    try {
      const runtime = await ServiceRuntime.openWith(env, options, logger);
      runtime.stopSignals = releaseStartSignals;
      return runtime;
    } catch (error) {
      releaseStartSignals();
      throw error;
    }
  }

  private static async openWith(
    env: Env,
    options: ServiceRuntimeOptions,
    logger: Logger,
  ): Promise<ServiceRuntime> {
    const metrics = MetricsRegistry.fromEnv(env);
    metrics.watchClientSendTimeouts(clientSendTimeouts);
    const drain = new DrainDeadline(drainTimeoutMs(env));
    // Checked before anything starts, so a bad endpoint is the one-line cause.
    const tracing = tracingSettings(env, options.app);
    configurePricesFromEnv(env, logger);
    const holder = await loadServiceConfig(
      env,
      logger,
      (ok, cause, digest, fileInForce) =>
        metrics.recordConfigReload(ok, reloadTriggerLabel(cause), digest, fileInForce),
      options.missingSecrets === undefined ? {} : { missingSecrets: options.missingSecrets },
    );
    metrics.recordConfigInForce(holder.currentDigest());
    if (holder.settings.sqliteSync === 'normal') {
      logger.warn(
        'AI_GATEWAY_SQLITE_SYNC=normal: a power loss may lose the last commits of the SQLite ' +
          'stores under the data directory (event log, budget balances, analytics), after ' +
          'their consumer positions moved on',
      );
    }
    let opened: OpenedEvents;
    const readiness: ReadinessCheck[] = [];
    try {
      const awaitRecord = answerAfterRecord(env);
      const open = holder.settings.kafkaBrokers ? openKafkaEvents : openEmbeddedEvents;
      opened = await open(env, options, holder.settings, logger, metrics, readiness, awaitRecord);
    } catch (error) {
      holder.close();
      throw error;
    }
    const runtime = new ServiceRuntime(
      options.app,
      logger,
      metrics,
      holder,
      opened,
      drain,
      await openTracing(tracing, logger, metrics),
    );
    // Every app, so the process holding the keys reports them (the gateway, provider-adapter).
    meterBackendsMissingKey(metrics, runtime.config, runtime.configWaitingForKeys);
    keepConfiguredModelLabels(metrics, runtime.config(), (listener) =>
      runtime.onConfigReload(listener),
    );
    readiness.forEach((check) => runtime.addReadinessCheck(check));
    return runtime;
  }

  get settings(): ServiceSettings {
    return this.holder.settings;
  }

  /** The configuration in force; read per request so reloads apply at once. */
  readonly config = (): GatewayConfig => this.holder.current();
  /**
   * The config of a file edit refused only because keys it names are missing, while it
   * waits for them (it loads by itself once they appear); undefined otherwise.
   */
  readonly configWaitingForKeys = (): GatewayConfig | undefined => this.holder.waitingForKeys();

  /** Called with each configuration a good reload puts in force (after its warnings). */
  onConfigReload(listener: (config: GatewayConfig) => void): void {
    this.holder.onReload(listener);
  }

  /** Runs at shutdown after the listeners and consumers stopped, before the event log closes. */
  onClose(closer: () => Promise<void> | void): void {
    this.closers.push(closer);
  }

  /** The router, its calls ended at the drain deadline (each counted and logged). */
  drainBoundedRouter(router: RouterPort): RouterPort {
    return drainBoundedRouter(router, this.drain, this.reportDrainCut);
  }

  /** The provider calls, ended at the drain deadline (the provider-adapter). */
  drainBoundedProviders(providers: ProviderPort): ProviderPort {
    return drainBoundedProviders(providers, this.drain, this.reportDrainCut);
  }

  private readonly reportDrainCut = (phase: DrainCutPhase): void => {
    this.metrics.recordDrainCut(phase);
    this.logger.warn('a model call was ended at the drain deadline', { phase });
  };

  addReadinessCheck(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** An operator action on the admin port; added before `serve`. */
  addAdminRoute(route: AdminRoute): void {
    this.adminRoutes.push(route);
  }

  /** The options of a public Nest app (createNestEdgeApp) from this process's settings. */
  edgeAppOptions(filter: ExceptionFilter): NestEdgeAppOptions {
    return {
      logger: this.logger,
      maxBodyBytes: this.settings.maxBodyBytes,
      requestReceiveTimeoutMs: this.settings.requestReceiveTimeoutMs,
      cors: this.settings.corsOrigins,
      onClientError: (reason) => this.metrics.recordClientError(reason),
      filter,
    };
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
      routes: this.adminRoutes,
      access: settings.adminAccess,
      onRefused: (refusal) =>
        this.logger.warn('refused a call to an operator route', { ...refusal }),
      onFailed: ({ path, error }) =>
        this.logger.error('an admin port request failed', { path, error }),
    });
    this.closeListeners = () =>
      Promise.allSettled([app.close(), admin.close()]).then(() => undefined);

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
    // port and adminPort as fields: with PORT=0 this line is how a supervisor learns them.
    this.logger.info(where, { port, adminPort, dataDir: settings.dataDir });
    if (this.adminRoutes.length > 0) {
      this.logger.info(
        settings.adminAccess.kind === 'token'
          ? 'operator routes on the admin port take the bearer of AI_GATEWAY_ADMIN_TOKEN'
          : 'operator routes on the admin port answer this host only: set AI_GATEWAY_ADMIN_TOKEN to call them from elsewhere',
      );
    }
    this.stopSignals?.(); // the start's own
    this.stopSignals = handleStopSignals({
      stop: (signal) => {
        // Said at both ends, so an operator sees a stop waiting on long answers as such.
        const since = Date.now();
        this.logger.info('stopping: new connections refused, answers in flight finishing', {
          signal,
          drainTimeoutMs: this.drain.timeoutMs,
        });
        void this.close().then(() => {
          this.logger.info('stopped: answers done and events written', {
            ms: Date.now() - since,
          });
          process.exit(0);
        });
      },
      insist: (signal) => {
        this.logger.warn('a second stop signal: ending the model calls still running now', {
          signal,
          running: this.drain.runningCalls,
        });
        this.drain.cutNow();
      },
    });
    return { port, adminPort, close: () => this.close() };
  }

  /** Stops listening, lets in-flight work finish, then writes out pending events. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // From here the calls in flight have the drain's time, then they are ended.
      this.drain.begin();
      this.holder.close();
      // At once, side by side: leaving a Kafka consumer group waits out the Kafka client's
      // retries while Kafka is down (tens of seconds), and new connections must be refused
      // from the stop on, not only once the group is left.
      await Promise.all([
        this.opened.stopConsumers().catch((error: unknown) => {
          this.logger.warn('error while stopping event consumers', { error });
        }),
        this.closeListeners(),
      ]);
      for (const closer of this.closers) {
        try {
          await closer();
        } catch (error) {
          this.logger.warn('error while shutting down', { error });
        }
      }
      this.drain.end();
      await this.opened.close();
      this.stopSignals?.();
    })();
    return this.closing;
  }

  private readiness(): Promise<Readiness> {
    const fixed: Record<string, string> = {
      config: 'loaded',
      ...(this.settings.kafkaBrokers ? {} : { events: 'embedded' }),
    };
    return evaluateReadiness(fixed, this.checks, (name, reachable) =>
      this.metrics.setDependencyReachable(name, reachable),
    );
  }
}

function openEmbeddedEvents(
  env: Env,
  options: ServiceRuntimeOptions,
  settings: ServiceSettings,
  logger: Logger,
  metrics: MetricsRegistry,
  readiness: ReadinessCheck[],
  answersAwaitRecord: boolean,
): OpenedEvents {
  const poisonRules = poisonRuleOptions(env); // checked before the log is opened
  const eventLog = new SqliteEventLog(
    join(settings.dataDir, options.eventLogFile ?? `${options.app}-events.db`),
    { sync: settings.sqliteSync, onSync: sqliteSyncObserver(metrics, logger, 'event_log') },
  );
  if (options.app !== 'gateway') {
    // Only the all-in-one gateway has every consumer in the same process as its log.
    logger.warn(
      "no KAFKA_BROKERS: events stay in this process's local log, so other services never " +
        'see them (budgets are not settled, usage is not analysed); set KAFKA_BROKERS, or ' +
        'run the all-in-one gateway',
    );
  }
  const bus = new EmbeddedEventBus(eventLog, {
    flushIntervalMs: 50,
    maxBatch: 500,
    answersAwaitRecord,
    onError: (error, group) => logger.error('event consumer failed; will retry', { group, error }),
    ...poisonRules,
    onHandlerRetried: (labels) => metrics.recordEventHandlerRetry(labels),
    onDeadLettered: ({ topic, eventId, seq, attempts, rule, reason }, group) => {
      metrics.recordEventHandlerDeadLettered({ group, topic, rule });
      logger.error(deadLetterLogMessage(rule), {
        group,
        topic,
        eventId,
        seq,
        attempts,
        rule,
        reason,
      });
    },
    // Counted as Kafka's dead-lettered events are, so one alert covers both shapes.
    onUndecodable: ({ topic, code, reason }, group) => {
      metrics.recordEventRejected({ topic, code });
      logger.error('skipped an unreadable event', { group, topic, reason });
    },
    onWriteError: (error, waiting) =>
      logger.error('event log write failed; the events wait in memory and are retried', {
        waiting,
        refused: bus.status().refused,
        error,
      }),
    // Past the backlog's bound: counted as Kafka's refused events are (a full spool).
    onRefused: (topic) => metrics.recordEventRejected({ topic, code: 'EVENT_LOG.BACKLOG_FULL' }),
    // Kafka's topic retention, applied to the embedded log so its file stops growing.
    pruneEveryMs: EVENT_LOG_PRUNE_EVERY_MS,
    onPruned: (outcome) => {
      metrics.recordEventLogPruned(outcome);
      if ('error' in outcome) logger.error('event log pruning failed', { error: outcome.error });
      else if (outcome.deleted > 0) {
        logger.info('expired events deleted from the event log', { deleted: outcome.deleted });
      }
    },
  });
  // What the log has not taken, as Kafka's spool is: an event waiting for the next timed
  // flush is not held (AiGatewayEventBacklog pages on this staying above 0).
  const spoolGauge = setInterval(() => metrics.setSpoolDepth(bus.heldCount), 1_000);
  spoolGauge.unref();
  readiness.push({
    name: 'eventLog',
    // Events that only memory holds are not yet a record: out of rotation until written.
    check: async () => {
      const { writable, pending, refused } = bus.status();
      if (writable) return { ready: true, state: 'writing' };
      return {
        ready: false,
        state: `failing (${pending} events waiting in memory, ${refused} refused)`,
      };
    },
  });
  return {
    bus,
    stopConsumers: async () => undefined,
    close: async () => {
      clearInterval(spoolGauge);
      await bus.close();
      eventLog.close();
    },
  };
}

/** AI_GATEWAY_SPOOL_MAX_BYTES: the disk spool's bound while Kafka is unreachable. */
export function spoolMaxBytes(env: Env): number {
  const raw = env.AI_GATEWAY_SPOOL_MAX_BYTES?.trim();
  if (raw === undefined || raw === '') return DEFAULT_SPOOL_MAX_BYTES;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new StartupError(
      `AI_GATEWAY_SPOOL_MAX_BYTES must be a positive whole number of bytes, got "${raw}"`,
    );
  }
  return value;
}

/** AI_GATEWAY_KAFKA_TOPIC_PREFIX: a namespace for topics and groups on a shared cluster. */
export function kafkaTopicPrefix(env: Env): string {
  const prefix = env.AI_GATEWAY_KAFKA_TOPIC_PREFIX?.trim() ?? '';
  if (!/^[A-Za-z0-9._-]*$/.test(prefix) || prefix.length > 100) {
    throw new StartupError(
      'AI_GATEWAY_KAFKA_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-" (at most 100)',
    );
  }
  return prefix;
}

/**
 * The Kafka bus: topics created with TOPIC_SETTINGS, a spool under the data directory,
 * metrics and a readiness check. Later outages are spooled; at start, Kafka must answer
 * unless the role's `kafkaAtStart` is `optional`, when the start is spooled as an outage is.
 */
async function openKafkaEvents(
  env: Env,
  options: ServiceRuntimeOptions,
  settings: ServiceSettings,
  logger: Logger,
  metrics: MetricsRegistry,
  readiness: ReadinessCheck[],
  answersAwaitRecord: boolean,
): Promise<OpenedEvents> {
  const brokers = settings.kafkaBrokers ?? [];
  const maxBytes = spoolMaxBytes(env);
  const poisonRules = poisonRuleOptions(env);
  const eventsLogger = logger.child({ component: 'events' });
  const kafka = createKafka({
    clientId: `aigw-${options.app}`,
    brokers,
    config: {
      logCreator: kafkaLogCreator(eventsLogger),
      // Bounds how long a reconnect waits, so recovery is noticed soon after Kafka returns.
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 },
    },
  });
  const { spool, setAside } = openEventSpool(
    join(settings.dataDir, `${options.app}-kafka-spool.db`),
    { maxBytes },
  );
  if (setAside) {
    metrics.recordEventSpoolSetAside();
    eventsLogger.error(
      'the event spool could not be read; it is set aside and an empty one used: the events ' +
        'it held are not replayed (not sent to Kafka, not billed)',
      { movedTo: setAside.movedTo, reason: setAside.reason },
    );
  }
  const watch = new KafkaTransportWatch(metrics);
  const bus = new KafkaEventBus(kafka, {
    spool,
    topicPrefix: kafkaTopicPrefix(env),
    ...poisonRules,
    answersAwaitRecord,
    logger: eventsLogger,
    observer: { ...kafkaEventMetrics(metrics), ...watch.observer },
  });
  const whileUnreachable = kafkaAtStart(options) === 'optional' ? 'spool' : 'fail';
  let started;
  try {
    // A serving start waits for one quick try, not for the client's reconnect retries.
    const probe = kafkaProbe(kafkaProbeClient(`aigw-${options.app}`, brokers, eventsLogger));
    started = await bus.start({ whileUnreachable, probe });
  } catch (error) {
    await bus.close().catch(() => undefined);
    throw new StartupError(
      `Kafka (${brokers.join(',')}) did not answer at start: ${errorText(error)}`,
    );
  }
  if (!started.connected) {
    // Broker addresses only (host:port, checked when parsed): no credentials in the line.
    eventsLogger.warn(
      'Kafka does not answer at start; serving with events spooled to disk, and trying ' +
        'again in the background (consumers start and the spool replays once it answers)',
      { brokers: brokers.join(','), reason: errorText(started.error), spooled: spool.count },
    );
  }
  watch.follow(bus);
  readiness.push({
    name: 'kafka',
    check: async () => {
      const status = bus.status();
      return { ready: status.ready, state: watch.readinessState(status) };
    },
  });
  logger.info(started.connected ? 'events go to Kafka' : 'events go to Kafka once it answers', {
    brokers: brokers.join(','),
    spooled: spool.count,
    spoolMaxBytes: maxBytes,
  });
  return {
    bus,
    stopConsumers: () => bus.stopConsumers(),
    close: () => {
      watch.stop();
      return bus.close();
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
