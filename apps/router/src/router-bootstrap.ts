import {
  modelBudgetGate,
  RedisModelBalanceReader,
  storeCheckedModelBudgetGate,
  type ExhaustionView,
  type ModelBudgetGate,
  type ModelSteerSource,
} from '@aigw/budget-core';
import { backendForCall } from '@aigw/config';
import { decodeRouteRequest } from '@aigw/contracts/data-plane';
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
import { createRedisClient } from '@aigw/infra';
import {
  createWireServer,
  heldUploadBytes,
  HttpGeminiFileClient,
  HttpHeldObjectClient,
  HttpProviderClient,
  PROVIDER_HOP_GRACE_MS,
  internalTokenFrom,
  openExhaustionView,
  positiveInteger,
  RealtimeProviderClient,
  registerGeminiFileRelay,
  registerHeldObjectRelay,
  registerRouterWire,
  requiredUrl,
  serveRealtimeWire,
  ServiceRuntime,
  type Env,
  wireAuthFor,
  type RunningService,
} from '@aigw/runtime';

/**
 * The router service: the failover loop behind the wire format, calling the
 * provider-adapter service over a keep-alive pool (PROVIDER_ADAPTER_URL).
 */
export async function bootstrapRouter(env: Env): Promise<RunningService> {
  const providerUrl = requiredUrl(env, 'PROVIDER_ADAPTER_URL');
  const halfLifeMs = latencyHalfLifeMs(env);
  const connections = positiveInteger(env, 'PROVIDER_ADAPTER_CONNECTIONS', 256);
  // Checked on this service's wire routes and sent on its calls to the provider-adapter.
  const internalToken = internalTokenFrom(env);
  // Least privilege: the provider-adapter injects every key, so the router holds none.
  const runtime = await ServiceRuntime.open(env, { app: 'router', missingSecrets: 'not-needed' });
  const { config, events, metrics, logger } = runtime;
  try {
    const auth = wireAuthFor(internalToken, 'router', runtime);
    const providers = new HttpProviderClient({
      url: providerUrl,
      connections,
      token: internalToken,
    });
    runtime.onClose(() => providers.close());
    metrics.watchPeerPools(() => [providers.poolState()]);
    // Shared by every replica, so reported, not gating: gating on it would take every
    // replica out at once, and clients would get connection errors instead of our 502/503.
    runtime.addReadinessCheck({
      name: 'providerAdapter',
      scope: 'shared',
      check: async () => {
        const ready = await providers.probe();
        return { ready, state: ready ? 'reachable' : 'unreachable' };
      },
    });
    const exhaustion = await openExhaustionView(runtime);
    const health = new BackendHealth();
    // Calls in flight and latency per backend, in this process (each replica its own).
    const load = new BackendLoad(undefined, halfLifeMs);
    const telemetry = new RouterTelemetry(events, metrics, logger);
    const router = new FailoverRouter({
      config,
      // What a backend's errors say of it (its model, account, host) stays here.
      providers: identityHidingProviders(providers),
      health,
      load,
      observer: telemetry,
      modelBudgetGate: routerBudgetGate(runtime, exhaustion),
      tracing: runtime.tracing && (await attemptTracing(runtime.tracing)),
      // The adapter times a stream's first event too, and reports its backend's silence.
      firstEventGraceMs: PROVIDER_HOP_GRACE_MS,
    });
    watchRouterGauges(metrics, router, health);
    // No upstream pools here: the provider-adapter calls the backends.
    for (const route of backendAdminRoutes({ config, health, load, metrics, logger })) {
      runtime.addAdminRoute(route);
    }
    const { fastify, served } = createWireServer({
      maxBodyBytes: runtime.settings.maxBodyBytes,
      onUnexpected: (error) => logger.error('unhandled wire request error', { error }),
      auth,
    });
    // A stop's drain starts no failover attempt past its deadline and ends the calls still
    // running there (AI_GATEWAY_DRAIN_TIMEOUT_MS), before the pod's grace period runs out.
    registerRouterWire(fastify, runtime.drainBoundedRouter(router));
    // Realtime sessions: the backend picked here, the WebSocket piped on to the adapter.
    const realtime = new RealtimeRouting({
      config,
      providers: new RealtimeProviderClient(providerUrl, internalToken),
      health,
      observer: telemetry,
    });
    const realtimeHops = serveRealtimeWire(
      fastify.server,
      (message, listener, signal) =>
        realtime.connectRealtime(decodeRouteRequest(message), listener, signal),
      auth,
    );
    // The server's close waits for upgraded sockets: end the sessions first.
    fastify.addHook('preClose', (done) => {
      realtimeHops.close();
      done();
    });
    // Files and batches: relayed to the provider-adapter, which holds the backends' keys.
    registerHeldObjectRelay(
      fastify,
      new HttpHeldObjectClient(providerUrl, internalToken),
      // The named route's backend (two routes may share a name), else the first naming it.
      (name, routeName) => backendForCall(config().routes, name, routeName)?.requestTimeoutMs,
      (error) => logger.warn('a file content stream from the adapter was cut', { error }),
      // An upload streams through: the file limit, not the wire body limit.
      heldUploadBytes(runtime.settings.maxFileBytes),
    );
    // Gemini's Files API: relayed to the provider-adapter, as files and batches are.
    registerGeminiFileRelay(
      fastify,
      new HttpGeminiFileClient(providerUrl, internalToken),
      (name, routeName) => backendForCall(config().routes, name, routeName)?.requestTimeoutMs,
      heldUploadBytes(runtime.settings.maxFileBytes),
    );
    return await runtime.serve(served);
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

/**
 * A read of the model's balances for this advisory check waits no longer than this: the
 * ingress has held the request already, so past it the call goes on as the view decides.
 */
const MODEL_BALANCE_READ_TIMEOUT_MS = 500;

/**
 * The per-model budget gate: with Redis (the budget store the ingress reserves in), the
 * local view first and then one read of the model's balances there, so a model spent or
 * held full is passed over before the budget service's broadcast arrives; without it, the
 * view alone (a store of this process's own would know nothing of the ingress's holds).
 */
function routerBudgetGate(runtime: ServiceRuntime, exhaustion: ExhaustionView): ModelBudgetGate {
  const { settings, logger, metrics } = runtime;
  const onSteered = (source: ModelSteerSource) => metrics.recordModelBudgetSteer(source);
  if (!settings.redisUrl) return modelBudgetGate(exhaustion, Date.now, onSteered);
  const redis = createRedisClient(settings.redisUrl, {
    // Advisory: while Redis is away the read fails at once and the view decides.
    enableOfflineQueue: false,
    commandTimeout: MODEL_BALANCE_READ_TIMEOUT_MS,
  });
  redis.on('error', (error: Error) =>
    logger.warn('redis connection problem (per-model budget reads)', { reason: error.name }),
  );
  runtime.onClose(() => void redis.disconnect());
  return storeCheckedModelBudgetGate(exhaustion, new RedisModelBalanceReader(redis), {
    onSteered,
    onStoreRead: (outcome) => metrics.recordModelBudgetStoreRead(outcome),
  });
}
