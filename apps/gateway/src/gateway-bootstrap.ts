import { startBudgetSettlement } from '@aigw/budget';
import { modelBudgetGate } from '@aigw/budget-core';
import {
  BudgetAdmission,
  edgeTracing,
  identityOptionsFromEnv,
  IngressTelemetry,
  OpenAiExceptionFilter,
  openFilesAndBatches,
  openResponseReuse,
  openResponseState,
  realtimeTelemetry,
  warnIdentityConfigProblems,
} from '@aigw/ingress';
import {
  backendOrigin,
  DEFAULT_UPSTREAM_CONNECTIONS,
  GeminiFilesUpstream,
  HeldObjectUpstream,
  meteredProviders,
  upstreamPoolStates,
} from '@aigw/providers';
import {
  attemptTracing,
  BackendHealth,
  BackendLoad,
  latencyHalfLifeMs,
  backendAdminRoutes,
  FailoverRouter,
  identityHidingProviders,
  RealtimeRouting,
  RouterTelemetry,
  watchRouterGauges,
} from '@aigw/router';
import {
  budgetSettings,
  configUsagePricing,
  positiveInteger,
  createNestEdgeApp,
  openBudgetStore,
  openExhaustionView,
  ServiceRuntime,
  type Env,
  type RunningService,
} from '@aigw/runtime';
import { analyticsMethodsAt, openUsageAnalytics, withUsageAnalytics } from '@aigw/usage-sink';
import { GatewayModule } from './gateway.module';

export type RunningGateway = RunningService;

/**
 * Starts every role in this process on embedded defaults: the event log and the budget
 * balances live in SQLite under the data directory, and the hops between roles are calls.
 */
export async function bootstrapGateway(env: Env): Promise<RunningGateway> {
  const halfLifeMs = latencyHalfLifeMs(env);
  const runtime = await ServiceRuntime.open(env, { app: 'gateway', eventLogFile: 'events.db' });
  const { config, events, metrics, logger } = runtime;
  try {
    warnIdentityConfigProblems(runtime, identityOptionsFromEnv(env));
    const budget = budgetSettings(env);
    const budgetStore = await openBudgetStore(runtime);
    const exhaustion = await openExhaustionView(runtime);
    await startBudgetSettlement(runtime, budgetStore, budget);

    const providers = meteredProviders({
      events,
      metrics,
      pricing: configUsagePricing(config, metrics),
      connections: positiveInteger(
        env,
        'AI_GATEWAY_UPSTREAM_CONNECTIONS',
        DEFAULT_UPSTREAM_CONNECTIONS,
      ),
    });
    const health = new BackendHealth();
    // Calls in flight and latency per backend, in this process (each replica its own).
    const load = new BackendLoad(undefined, halfLifeMs);
    // One observer for chat calls and Realtime connects: both cool backends.
    const routerTelemetry = new RouterTelemetry(events, metrics, logger);
    const router = new FailoverRouter({
      config,
      // What a backend's errors say of it (its model, account, host) stays here.
      providers: identityHidingProviders(providers),
      health,
      load,
      observer: routerTelemetry,
      modelBudgetGate: modelBudgetGate(exhaustion, Date.now, (source) =>
        runtime.metrics.recordModelBudgetSteer(source),
      ),
      tracing: runtime.tracing && (await attemptTracing(runtime.tracing)),
    });
    watchRouterGauges(metrics, router, health);
    // This process calls the backends, so it can show their upstream pools.
    const routes = backendAdminRoutes({
      config,
      health,
      load,
      metrics,
      logger,
      upstreamPools: upstreamPoolStates,
      originOf: backendOrigin,
    });
    for (const route of routes) runtime.addAdminRoute(route);
    const admission = new BudgetAdmission(config, budgetStore, exhaustion, {
      ...budget,
      onHoldsRefreshed: (count) => metrics.recordBudgetHoldsRefreshed(count),
      onHoldReleased: (outcome) => metrics.recordBudgetHoldRelease(outcome),
    });
    // Analytics: every event into ClickHouse (CLICKHOUSE_URL) or SQLite; API port serves
    // /v1/analytics/* and the /usage page. Model calls never wait for ClickHouse to answer.
    const usageAnalytics = await openUsageAnalytics(runtime, env, {
      maxWaitMs: 0,
      startWithoutClickHouse: true,
    });

    const app = await createNestEdgeApp(
      withUsageAnalytics(
        GatewayModule.create({
          config,
          // A stop's drain ends the calls still running at its deadline, and no failover
          // attempt starts past it (AI_GATEWAY_DRAIN_TIMEOUT_MS).
          router: runtime.drainBoundedRouter(router),
          admission,
          observer: new IngressTelemetry(events, metrics, (error, requestId) =>
            logger.error('request failed unexpectedly', { requestId, error }),
          ),
          reuse: openResponseReuse(runtime, env),
          responses: openResponseState(runtime, env),
          // Realtime sessions: this process holds the keys and meters each response.
          realtime: {
            router: new RealtimeRouting({ config, providers, health, observer: routerTelemetry }),
            observer: realtimeTelemetry(metrics, logger),
            // Client secrets minted here are kept in Redis when set, so any replica redeems them.
            redisUrl: runtime.settings.redisUrl,
          },
          // This process holds the backends' keys, so it passes files and batches through.
          batches: openFilesAndBatches(runtime, env, {
            config,
            upstream: new HeldObjectUpstream(env),
            // Gemini's Files API on the Gemini edge, with the Gemini backends' keys.
            geminiUpstream: new GeminiFilesUpstream(),
            admission,
            // A batch's estimated cost held where chat's holds are, until it is billed.
            budgetStore,
          }),
          tracing: runtime.tracing && (await edgeTracing(runtime.tracing)),
        }),
        usageAnalytics,
      ),
      runtime.edgeAppOptions(
        new OpenAiExceptionFilter(
          (error) => logger.error('unhandled request error', { error }),
          (route, status) => metrics.recordRequest({ route, status }),
          // The analytics API is mounted here: a wrong method on it is a 405 too.
          analyticsMethodsAt,
        ),
      ),
    );
    return await runtime.serve(app);
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
