import { routeForModel } from '@aigw/config';
import { throttledWarning } from '@aigw/observability';
import {
  BudgetAdmission,
  edgeTracing,
  IngressModule,
  IngressTelemetry,
  OpenAiExceptionFilter,
  openFilesAndBatches,
  openResponseReuse,
  openResponseState,
  identityOptionsFromEnv,
  realtimeTelemetry,
  SPLIT_HOP_MAX_CALL_OFFER_BYTES,
  warnIdentityConfigProblems,
} from '@aigw/ingress';
import {
  budgetSettings,
  createNestEdgeApp,
  HttpGeminiFileClient,
  HttpHeldObjectClient,
  HttpRouterClient,
  INTERNAL_TOKEN_ENV,
  internalTokenFrom,
  openBudgetStore,
  openExhaustionView,
  positiveInteger,
  RealtimeRouterClient,
  realtimeHopHandshakeMs,
  requiredUrl,
  routerCallBoundMs,
  ServiceRuntime,
  virtualModelNames,
  type Env,
  type RunningService,
} from '@aigw/runtime';

/**
 * The ingress service: the public OpenAI-compatible edge (the same module the all-in-one
 * gateway serves), handing each admitted request to the router service at ROUTER_URL.
 */
export async function bootstrapIngress(env: Env): Promise<RunningService> {
  const routerUrl = requiredUrl(env, 'ROUTER_URL');
  const connections = positiveInteger(env, 'ROUTER_CONNECTIONS', 256);
  const timeoutMs = positiveInteger(env, 'ROUTER_TIMEOUT_MS', 300_000);
  const realtimeHandshakeMs = realtimeHopHandshakeMs(env);
  // Sent on every call to the router (HTTP, Realtime, files and batches).
  const internalToken = internalTokenFrom(env);
  // The ingress never injects a key: it reads none (only the provider-adapter holds them).
  const runtime = await ServiceRuntime.open(env, { app: 'ingress', missingSecrets: 'not-needed' });
  const { config, events, metrics, logger } = runtime;
  try {
    // This process identifies callers: it tells what is wrong with identity, as the gateway does.
    warnIdentityConfigProblems(runtime, identityOptionsFromEnv(env));
    if (!internalToken) {
      logger.warn(
        `${INTERNAL_TOKEN_ENV} is not set: calls to the router carry no token, so the router's internal routes must take any caller`,
      );
    }
    let models: { for?: object; names: readonly string[] } = { names: [] };
    // Once a minute at most: a ConfigMap edit reaches the pods up to a minute apart, and
    // every request for the model meanwhile would log it.
    const warnConfigSkew = throttledWarning(
      logger,
      'the router does not serve a model this ingress serves: the services run different ' +
        'configs (compare ai_gateway_config_info); the client got a 503 to retry',
      60_000,
    );
    const configSkew = {
      serves: (model: string) => routeForModel(config(), model) !== undefined,
      onConfigSkew: (model: string) => warnConfigSkew({ model }),
    };
    const router = new HttpRouterClient({
      url: routerUrl,
      connections,
      timeoutMs,
      // Never shorter than the router may take: a failover past a timeout, a long stream pause.
      routerBoundMs: () => routerCallBoundMs(config()),
      token: internalToken,
      // Recomputed only when a reload replaced the config.
      listModels: () => {
        const current = config();
        if (models.for !== current) models = { for: current, names: virtualModelNames(current) };
        return models.names;
      },
      configSkew,
    });
    runtime.onClose(() => router.close());
    metrics.watchPeerPools(() => [router.poolState()]);
    // Shared by every replica, so reported, not gating: gating on it would take every
    // replica out at once, and clients would get connection errors instead of our 502/503.
    runtime.addReadinessCheck({
      name: 'router',
      scope: 'shared',
      check: async () => {
        const ready = await router.probe();
        return { ready, state: ready ? 'reachable' : 'unreachable' };
      },
    });
    const budgetStore = await openBudgetStore(runtime);
    const admission = new BudgetAdmission(config, budgetStore, await openExhaustionView(runtime), {
      ...budgetSettings(env),
      onHoldsRefreshed: (count) => runtime.metrics.recordBudgetHoldsRefreshed(count),
      onHoldReleased: (outcome) => runtime.metrics.recordBudgetHoldRelease(outcome),
    });
    const app = await createNestEdgeApp(
      IngressModule.forRoot({
        // Files and batches: ids, owners and billing here; the call itself through the
        // router to the provider-adapter, which alone holds the backends' keys.
        batches: openFilesAndBatches(runtime, env, {
          config,
          upstream: new HttpHeldObjectClient(routerUrl, internalToken),
          // Gemini's Files API: names and owners here, the call through the router too.
          geminiUpstream: new HttpGeminiFileClient(routerUrl, internalToken),
          admission,
          // A batch's estimated cost held where chat's holds are, until it is billed.
          budgetStore,
        }),
        config,
        // A stop's drain ends the calls still running at its deadline with the API's own 503
        // or stream error event (AI_GATEWAY_DRAIN_TIMEOUT_MS), not a reset by SIGKILL.
        router: runtime.drainBoundedRouter(router),
        admission,
        observer: new IngressTelemetry(events, metrics, (error, requestId) =>
          logger.error('request failed unexpectedly', { requestId, error }),
        ),
        reuse: openResponseReuse(runtime, env),
        responses: openResponseState(runtime, env),
        // Realtime sessions: a WebSocket hop to the router, which pipes on to the adapter.
        realtime: {
          router: new RealtimeRouterClient(
            routerUrl,
            internalToken,
            realtimeHandshakeMs,
            configSkew,
          ),
          observer: realtimeTelemetry(metrics, logger),
          // Client secrets minted here are kept in Redis when set, so any replica redeems them.
          redisUrl: runtime.settings.redisUrl,
          // A WebRTC call's offer crosses the hops in a header: bounded, with a clear 400.
          maxCallOfferBytes: SPLIT_HOP_MAX_CALL_OFFER_BYTES,
        },
        tracing: runtime.tracing && (await edgeTracing(runtime.tracing)),
      }),
      runtime.edgeAppOptions(
        new OpenAiExceptionFilter(
          (error) => logger.error('unhandled request error', { error }),
          (route, status) => metrics.recordRequest({ route, status }),
        ),
      ),
    );
    return await runtime.serve(app);
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
