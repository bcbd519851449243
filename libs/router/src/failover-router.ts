import type { BackendConfig, GatewayConfig, RouteConfig } from '@aigw/config';
import { PassOverRefusal } from '@aigw/budget-core';
import {
  AttemptCommit,
  DataPlaneError,
  DataPlaneErrorCode,
  nameForRequestedModel,
  type FailoverTrigger,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type ProviderPort,
  type RequestOverrides,
  type RouterPort,
  type StreamAnswer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  isAuthenticated,
  isUnresolved,
  type ChainLink,
  type UnresolvedLink,
} from './domain/backend-chain';
import { BackendBalancer } from './domain/backend-balancer';
import { PlannedChains } from './domain/planned-chains';
import { BackendLoad, LATENCY_KINDS, type LatencyKind } from './domain/backend-load';
import { measuredProviders } from './measured-providers';
import { streamAttemptSignal, type StreamAttemptSignal } from './stream-attempt-signal';
import { StreamIdleWatch } from './stream-idle-watch';
import { FirstEventDeadline } from './first-event-deadline';
import { BackendHealth, type Cooldown } from './domain/backend-health';
import { RequestDeadline } from './domain/request-deadline';
import { UpstreamChanges } from './domain/upstream-changes';
import { modelCallFailure } from './domain/model-call-failure';
import { withoutBackendIdentity } from './domain/hidden-backend-identity';
import { heldFilePin, holderFailed, pinnedLink } from './domain/held-file-pin';
import {
  isImageStream,
  isSpecialRequest,
  isSpeechAsEvents,
  providersServing,
  servesOperation,
  servesRequest,
  unservedProviderFeature,
} from './domain/operation-support';
import type { AttemptSpan, AttemptTracing } from './tracing/attempt-tracing';
import { stoppedForPolicy } from './domain/policy-stop';

/** What the router tells the rest of the gateway about its decisions. */
export interface RouterObserver {
  fallback(request: GatewayRequest, from: ChainLink, to: ChainLink, reason: FailoverTrigger): void;
  /** A backend is skipped for a while (tried only as a last resort) after failing. */
  cooledDown?(backend: BackendConfig, cooldown: Cooldown): void;
  /** The client narrowed this call (`request.overrides`): what the router applied. */
  overridden?(request: GatewayRequest, applied: AppliedOverrides): void;
  /** A stream that had started went silent for its backend's streamIdleTimeout, and was cut. */
  streamStalled?(backend: BackendConfig, request: GatewayRequest): void;
  /** A stream that had started was broken off by its backend (a stall is `streamStalled`). */
  streamBroken?(backend: BackendConfig): void;
  /** The backend ended an answer for its own content policy (finish_reason content_filter). */
  policyStopped?(backend: BackendConfig): void;
}

/** A request's overrides as the router applied them, after clamping. */
export interface AppliedOverrides {
  readonly timeoutMs?: number;
  /** Calls after the first, at most the route's. */
  readonly retries?: number;
  /** The client asked for more retries than the route allows (clamped to `retries`). */
  readonly retriesClamped?: boolean;
  readonly fallback?: false;
}

/** Whether each configured backend is cooling down now, for the metrics. */
export interface BackendState {
  readonly backend: string;
  readonly cooling: boolean;
}

/** How many backends of a route are in rotation now, for the metrics. */
export interface RouteBackendState {
  readonly route: string;
  readonly available: number;
}

/** A configured backend's load in this process, for the metrics. */
export interface BackendLoadState {
  readonly backend: string;
  /** Calls in flight from this process (a stream until it ends). */
  readonly inFlight: number;
  /**
   * The moving average of its latency (a stream's first event, a JSON answer's whole call),
   * once it answered and until no answer came for a half-life (no current figure then).
   */
  readonly latencyMs?: number;
  /** Seconds since each kind's last answer, for the kinds that answered. */
  readonly latencyAges?: readonly { readonly kind: LatencyKind; readonly seconds: number }[];
}

export interface FailoverRouterDeps {
  /** The configuration in force; read per request so reloads apply at once. */
  readonly config: () => GatewayConfig;
  readonly providers: ProviderPort;
  readonly health?: BackendHealth;
  /** Each backend's calls in flight and latency, for `loadBalancing` and the operator. */
  readonly load?: BackendLoad;
  /** In [0, 1): draws lowest-latency's exploration share (injected by tests). */
  readonly random?: () => number;
  readonly observer?: RouterObserver;
  /**
   * Throws a `BudgetExceeded` DataPlaneError when a backend's model has no budget left
   * (`tokenRateLimit.perModel`); with `budgetExceeded` in `failover.on` the next backend
   * is tried. A promise only when it reads the budget store (the split deployment's
   * router); the plain check (a local view) costs the attempt no await.
   */
  readonly modelBudgetGate?: (
    route: RouteConfig,
    model: string,
    request: GatewayRequest,
  ) => void | Promise<void>;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A span per upstream attempt; absent (tracing off), nothing is traced or built. */
  readonly tracing?: AttemptTracing;
  /**
   * Waited past a stream attempt's first-byte timeout before giving it up, when the
   * providers time it themselves across a hop (the split deployment's provider-adapter):
   * their report names the timeout, where the router's hang-up would look like a client
   * that left. Absent (in-process providers), the attempt ends at the timeout.
   */
  readonly firstEventGraceMs?: number;
}

/**
 * Turns a request for a (virtual) model into calls to backends, in priority order,
 * failing over on the triggers the route lists. A stream is committed to a backend only
 * once its first event arrived, so failover before the first byte stays invisible.
 */
export class FailoverRouter implements RouterPort {
  private readonly health: BackendHealth;
  private readonly load: BackendLoad;
  private readonly balancer: BackendBalancer;
  private readonly chains: PlannedChains;
  private readonly upstreamChanges = new UpstreamChanges();
  private readonly providers: ProviderPort;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Cooled or drained, or another call is trying it after its cooldown: tried last. */
  private readonly resting = (backend: string): boolean =>
    this.health.isOutOfRotation(backend) || this.health.isOnTrial(backend);

  constructor(private readonly deps: FailoverRouterDeps) {
    this.health = deps.health ?? new BackendHealth();
    this.load = deps.load ?? new BackendLoad();
    this.balancer = new BackendBalancer(deps.random);
    this.chains = new PlannedChains();
    this.providers = measuredProviders(deps.providers, this.load);
    this.sleep = deps.sleep ?? abortableSleep;
  }

  listModels(): readonly string[] {
    const names = new Set<string>();
    for (const route of this.deps.config().routes) {
      for (const backend of route.backends) {
        if (backend.virtualModel !== undefined) names.add(backend.virtualModel);
      }
    }
    return [...names];
  }

  /**
   * The config in force, once the health of each backend name a reload pointed at another
   * upstream (provider, URL) is forgotten: the new upstream's health is not known yet.
   */
  private configFollowed(): GatewayConfig {
    const config = this.deps.config();
    for (const name of this.upstreamChanges.since(config)) this.health.forgetFailures(name);
    return config;
  }

  /** Every backend of the configuration in force, and whether it is cooling down now. */
  backendStates(): BackendState[] {
    const states = new Map<string, boolean>();
    for (const route of this.configFollowed().routes) {
      for (const backend of route.backends) {
        states.set(backend.name, this.health.isCooling(backend.name));
      }
    }
    return [...states].map(([backend, cooling]) => ({ backend, cooling }));
  }

  /**
   * Every route of the configuration in force, with how many of its backends a call would
   * try first now: authenticated (not skipped for a missing key), neither cooling down nor
   * drained. Health is kept by backend name, so a name shared by several routes counts in
   * each of them.
   */
  routeBackendStates(): RouteBackendState[] {
    return this.deps.config().routes.map((route) => ({
      route: route.name,
      available: route.backends.filter(
        (backend) => isAuthenticated(backend) && !this.health.isOutOfRotation(backend.name),
      ).length,
    }));
  }

  /** Every backend of the configuration in force, with its calls in flight and latency. */
  backendLoads(): BackendLoadState[] {
    const names = new Set(this.deps.config().routes.flatMap((r) => r.backends.map((b) => b.name)));
    const now = this.load.time();
    return [...names].map((backend) => {
      const { inFlight, latencyMs } = this.load.of(backend, undefined, now);
      const latencyAges = LATENCY_KINDS.flatMap((kind) => {
        const age = this.load.ageOf(backend, kind, now);
        return age === undefined ? [] : [{ kind, seconds: age / 1000 }];
      });
      return {
        backend,
        inFlight,
        ...(latencyMs === undefined ? {} : { latencyMs }),
        ...(latencyAges.length === 0 ? {} : { latencyAges }),
      };
    });
  }

  route(request: GatewayRequest, signal: AbortSignal): Promise<GatewayAnswer> {
    let route: RouteConfig;
    let ordered: readonly (ChainLink | UnresolvedLink)[];
    try {
      const config = this.configFollowed();
      const chain = this.chains.plan(config, request.requestedModel, request.allowedModels);
      route = chain.route;
      const links = chain.links;
      // A file one backend holds: that backend alone, whatever balancing, a cooldown or a
      // drain say (a drained backend is the last resort, and here the only one).
      const pin = heldFilePin(request);
      if (pin) {
        const holder = pinnedLink(pin, route.name, request.requestedModel, links);
        return this.routePinned(request, route, holder, signal);
      }
      // A backend whose API lacks the operation (completions or audio on Anthropic), or a
      // chat's Gemini built-in tools, Anthropic server tools or inference_geo, is no failover
      // target; every backend serves the other chats, so those skip the filter.
      const able = isSpecialRequest(request)
        ? links.filter(
            (link) =>
              isUnresolved(link) ||
              servesRequest(link.backend.provider, request, link.upstreamModel),
          )
        : links;
      if (able.length === 0 && links.length > 0) throw unservedOperation(request, links);
      const resting = (l: ChainLink | UnresolvedLink) =>
        !isUnresolved(l) && this.resting(l.backend.name);
      // lowest-latency's figures age: the clock is read once, when the first is read.
      let now: number | undefined;
      const ageing = route.loadBalancing?.strategy === 'lowest-latency';
      const usable = this.balancer.order(
        able.every(isCallable) ? able : able.filter(isCallable),
        route.loadBalancing && {
          config: route.loadBalancing,
          load: (backend) =>
            this.load.of(
              backend,
              request.stream ? 'stream' : 'json',
              ageing ? (now ??= this.load.time()) : undefined,
            ),
        },
        route.name,
        this.resting,
      );
      if (usable.length === 0) {
        throw new DataPlaneError(
          DataPlaneErrorCode.NoBackendAvailable,
          `no backend for "${request.requestedModel}" has credentials configured`,
        );
      }
      // Healthy backends first; cooled or drained ones stay a last resort, not a failure.
      // With none out of rotation (the usual case) the order stands, with nothing copied.
      // A backend another call is trying after its cooldown waits for that trial too.
      ordered = usable.some(resting)
        ? [...usable.filter((l) => !resting(l)), ...usable.filter(resting)]
        : usable;
    } catch (error) {
      // Rejected, not thrown, as when this method was async (planning throws DataPlaneErrors).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    const overrides = request.overrides;
    if (!overrides) {
      return this.tryChain(request, route, ordered, attemptBudget(route, ordered.length), signal);
    }
    return this.routeNarrowed(request, route, ordered, overrides, signal);
  }

  /** The one backend holding the request's files, called alone even while it cools down. */
  private async routePinned(
    request: GatewayRequest,
    route: RouteConfig,
    holder: ChainLink,
    signal: AbortSignal,
  ): Promise<GatewayAnswer> {
    try {
      return await this.routeNarrowed(request, route, [holder], request.overrides!, signal);
    } catch (error) {
      throw signal.aborted ? error : holderFailed(error);
    }
  }

  /**
   * The client's overrides applied, each only narrowing: the first backend alone
   * (`fallback: false`), fewer calls, and a deadline over the whole call.
   */
  private async routeNarrowed(
    request: GatewayRequest,
    route: RouteConfig,
    ordered: readonly (ChainLink | UnresolvedLink)[],
    overrides: RequestOverrides,
    signal: AbortSignal,
  ): Promise<GatewayAnswer> {
    const chain = overrides.fallback === false ? firstOfModel(request, ordered) : ordered;
    const maxAttempts = this.narrowedBudget(request, route, chain.length, overrides);
    if (overrides.timeoutMs === undefined) {
      return this.tryChain(request, route, chain, maxAttempts, signal);
    }
    const deadline = new RequestDeadline(overrides.timeoutMs, signal);
    try {
      return deadline.releaseAfter(
        await this.tryChain(request, route, chain, maxAttempts, signal, deadline),
      );
    } catch (error) {
      deadline.release();
      throw error;
    }
  }

  /**
   * Calls the chain's backends in turn, failing over on the route's triggers, until one
   * answers or `maxAttempts` calls were made; within `deadline` when the client set one.
   */
  private async tryChain(
    request: GatewayRequest,
    route: RouteConfig,
    ordered: readonly (ChainLink | UnresolvedLink)[],
    maxAttempts: number,
    signal: AbortSignal,
    deadline?: RequestDeadline,
  ): Promise<GatewayAnswer> {
    // The attempts run on the deadline's signal, so it cancels the call in flight.
    const callSignal = deadline?.signal ?? signal;
    let lastError: unknown;
    let previous: ChainLink | undefined;
    // Backends that answered this request with Retry-After: calling one again within the
    // same request, milliseconds later, would only be refused again.
    // Made on the first Retry-After only: most requests never need it.
    let askedToWait: Set<string> | undefined;
    let skippedInARow = 0;
    for (let attempt = 0, position = 0; attempt < maxAttempts; position++) {
      const link = ordered[position % ordered.length];
      if (askedToWait && !isUnresolved(link) && askedToWait.has(link.backend.name)) {
        if (++skippedInARow >= ordered.length) break; // every backend asked us to wait
        continue;
      }
      skippedInARow = 0;
      attempt++;
      if (isUnresolved(link)) {
        lastError = new DataPlaneError(
          DataPlaneErrorCode.ModelNotFound,
          `retry.fallbackOrder names "${link.unresolvedModel}", which no backend serves`,
        );
        continue;
      }
      if (attempt > 1 && route.failover.retryDelayMs > 0) {
        // No call could start before the deadline: end now rather than sleep until it.
        if (deadline && deadline.remaining() <= route.failover.retryDelayMs) throw deadline.error;
        await this.sleep(route.failover.retryDelayMs, callSignal);
      }
      if (previous && lastError instanceof DataPlaneError && lastError.trigger) {
        this.deps.observer?.fallback(request, previous, link, lastError.trigger);
      }
      let span: AttemptSpan | undefined;
      // A stream's attempt can be cancelled alone, once its first event came too late.
      let streamSignal: StreamAttemptSignal | undefined;
      // Kept once the stream's first event came, given up if it failed before: only a kept
      // attempt's usage settles the request's hold (the metered provider waits on it).
      let streamCommit: AttemptCommit | undefined;
      let endTrial: (() => void) | undefined;
      let firstEvent: FirstEventDeadline | undefined;
      try {
        const gated = this.deps.modelBudgetGate?.(route, link.upstreamModel, request);
        if (gated) await gated;
        const target = this.chains.target(link, route.name);
        endTrial = this.health.startCall(link.backend.name);
        const calledAt = this.health.time();
        span = this.deps.tracing?.start(request, target, attempt, callSignal);
        const attempted = span ? span.request : request;
        if (request.stream) {
          streamSignal = streamAttemptSignal(callSignal);
          streamCommit = new AttemptCommit();
          // From the call's start: the wait for the headers counts towards the first event.
          firstEvent = new FirstEventDeadline(
            firstEventMs(request, target),
            target.backendName,
            this.deps.firstEventGraceMs,
          );
        }
        // The provider's promise awaited here, a JSON answer finished without a further
        // async layer (one promise and tick less per call); a stream waits for its start.
        const invoked = this.providers.invoke({
          request: attempted,
          target,
          signal: streamSignal?.signal ?? callSignal,
          streamCommit,
          firstEventTimeoutMs: firstEvent?.ms,
        });
        const called = firstEvent ? await firstEvent.answer(invoked, streamSignal) : await invoked;
        if (called.kind === 'json') {
          streamSignal?.release();
          firstEvent?.clear();
          if (stoppedForPolicy(called.body)) this.deps.observer?.policyStopped?.(link.backend);
        }
        const answer =
          called.kind === 'json'
            ? namedJson(called, attempted)
            : await commitStream(called, attempted.requestedModel, callSignal, {
                attempt: streamSignal,
                commit: streamCommit,
                stalled: () => {
                  this.deps.observer?.streamStalled?.(link.backend, request);
                  this.streamFailed(link.backend);
                },
                broken: () => {
                  this.deps.observer?.streamBroken?.(link.backend);
                  this.streamFailed(link.backend);
                },
                finished: () => this.health.recordFinishedStream(link.backend.name),
                policyStopped: () => this.deps.observer?.policyStopped?.(link.backend),
                firstEvent: (firstEvent ??= new FirstEventDeadline(
                  firstEventMs(request, target),
                  target.backendName,
                )),
                idleMs: idleMs(request, link.backend, target),
              });
        this.health.recordSuccess(link.backend.name, calledAt);
        const served = { ...answer, servedBy: { ...answer.servedBy, attempts: attempt } };
        return span ? span.answered(served) : served;
      } catch (thrown) {
        // The gate's refusal names the model the backend runs; the client may not see it.
        const error = withoutBackendIdentity(modelCallFailure(thrown, link.backend), {
          request,
          target: { model: link.upstreamModel },
        });
        firstEvent?.clear();
        streamSignal?.release();
        streamCommit?.decide(false);
        if (signal.aborted) {
          span?.failed(error, 'clientGone');
          throw error;
        }
        // The client's deadline, not the backend's fault: no cooldown, no further call.
        if (deadline?.passed) {
          span?.failed(error, 'final');
          throw deadline.error;
        }
        lastError = error;
        previous = link;
        const trigger = error instanceof DataPlaneError ? error.trigger : undefined;
        if (trigger === undefined || !route.failover.on.includes(trigger)) {
          span?.failed(error, 'final');
          throw error;
        }
        // A model passed over for this request alone (too small for it, by the gateway's
        // budget or the backend's own 413) has room for every other call: no failure of its
        // backend, no cooldown keeping the others off it.
        const forThisRequestOnly =
          error instanceof PassOverRefusal ||
          (error instanceof DataPlaneError && error.refusedForSize);
        if (!forThisRequestOnly) {
          const retryAfterMs = error instanceof DataPlaneError ? error.retryAfterMs : undefined;
          const cooldown = this.health.recordFailure(link.backend.name, retryAfterMs, trigger);
          if (cooldown) this.deps.observer?.cooledDown?.(link.backend, cooldown);
          if (retryAfterMs !== undefined && retryAfterMs > 0) {
            (askedToWait ??= new Set()).add(link.backend.name);
          }
        }
        span?.failed(
          error,
          attempt < maxAttempts && callableLeft(ordered, askedToWait) ? 'failover' : 'final',
        );
      } finally {
        endTrial?.();
      }
    }
    throw lastError;
  }

  /** The route's attempts, cut to the client's retries; reported to the observer. */
  private narrowedBudget(
    request: GatewayRequest,
    route: RouteConfig,
    chainLength: number,
    overrides: RequestOverrides,
  ): number {
    const budget = attemptBudget(route, chainLength);
    const asked = overrides.retries;
    const maxAttempts = asked === undefined ? budget : Math.min(budget, 1 + asked);
    this.deps.observer?.overridden?.(request, {
      ...(overrides.timeoutMs === undefined ? {} : { timeoutMs: overrides.timeoutMs }),
      ...(asked === undefined
        ? {}
        : { retries: maxAttempts - 1, retriesClamped: 1 + asked > budget }),
      ...(overrides.fallback === false ? { fallback: false as const } : {}),
    });
    return maxAttempts;
  }

  /** A stream broken off or stalled after it started: counted towards its backend's cooldown. */
  private streamFailed(backend: BackendConfig): void {
    const cooldown = this.health.recordBrokenStream(backend.name);
    if (cooldown) this.deps.observer?.cooledDown?.(backend, cooldown);
  }
}

/** A JSON answer named for the model the client asked for. */
function namedJson(answer: JsonAnswer, request: GatewayRequest): JsonAnswer {
  nameForRequestedModel(answer.body, request);
  return answer;
}

/** What a stream attempt is watched with once it started. */
interface StreamWatch {
  readonly attempt?: StreamAttemptSignal;
  readonly commit?: AttemptCommit;
  /** The stream went silent for its idle timeout after it started, and was cut. */
  readonly stalled?: () => void;
  /** The backend broke the stream off after it started (not a stall, not the client). */
  readonly broken?: () => void;
  /** The backend ended the stream as it should (not cut, not left by the client). */
  readonly finished?: () => void;
  /** The backend ended the answer for its own content policy (told once, at its finish). */
  readonly policyStopped?: () => void;
  /** The attempt's first-byte timeout, running since the call started. */
  readonly firstEvent: FirstEventDeadline;
  /** The longest wait between two events once it started. */
  readonly idleMs: number;
}

/**
 * How long a stream may take to its first event. A gpt-image stream's events are images
 * (partials, or the whole one without partial_images): each as slow as the JSON answer,
 * which waits the request timeout.
 */
function firstEventMs(request: GatewayRequest, target: UpstreamTarget): number {
  return isImageStream(request) ? target.requestTimeoutMs : target.firstByteTimeoutMs;
}

/** The longest wait between two events of a stream that started. */
function idleMs(request: GatewayRequest, backend: BackendConfig, target: UpstreamTarget): number {
  return isImageStream(request) ? target.requestTimeoutMs : backend.streamIdleTimeoutMs;
}

function unservedOperation(
  request: GatewayRequest,
  links: readonly (ChainLink | UnresolvedLink)[],
): DataPlaneError {
  const providerFeature = unservedProviderFeature(request);
  if (providerFeature) return providerFeature;
  const speaks = links.some(
    (link) => !isUnresolved(link) && servesOperation(link.backend.provider, request.operation),
  );
  if (speaks && isSpeechAsEvents(request)) {
    return new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `no backend of "${request.requestedModel}" serves speech as server-sent events ` +
        '(Azure OpenAI has none): ask for stream_format "audio", or route it to an OpenAI or ' +
        'OpenAI-compatible backend',
      { param: 'stream_format' },
    );
  }
  if (speaks && isImageStream(request)) {
    return new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `no backend of "${request.requestedModel}" streams images (Together answers them ` +
        'whole): leave stream unset, or route it to an OpenAI, Azure OpenAI or ' +
        'OpenAI-compatible backend',
      { param: 'stream' },
    );
  }
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `no backend of "${request.requestedModel}" serves ${request.operation}: route it to ` +
      providersServing(request.operation),
    { param: 'model' },
  );
}

/**
 * The chain's first backend of the requested model itself (x-ai-gateway-fallback: none):
 * never a cheaper model's, even when every backend of the model is cooling down or has no
 * key, as the client needs that model's answer.
 */
function firstOfModel(
  request: GatewayRequest,
  ordered: readonly (ChainLink | UnresolvedLink)[],
): ChainLink[] {
  const first = ordered.find(
    (link): link is ChainLink => !isUnresolved(link) && link.viaModel === request.requestedModel,
  );
  if (!first) {
    throw new DataPlaneError(
      DataPlaneErrorCode.NoBackendAvailable,
      `no backend of "${request.requestedModel}" itself can be called, and x-ai-gateway-fallback: none allows no other model`,
    );
  }
  return [first];
}

/**
 * How many calls one request may make: `failover.retryAttempts` retries after the first
 * call, or one call per backend in the chain when the route did not say.
 */
function attemptBudget(route: RouteConfig, chainLength: number): number {
  const retries = route.failover.retryAttempts ?? chainLength - 1;
  return Math.max(1, 1 + retries, route.retry?.maxAttempts ?? 0);
}

/** Whether a backend of the chain is left that did not ask this request to wait. */
function callableLeft(
  ordered: readonly (ChainLink | UnresolvedLink)[],
  askedToWait: ReadonlySet<string> | undefined,
): boolean {
  return ordered.some((link) => !isUnresolved(link) && !askedToWait?.has(link.backend.name));
}

/** A link to try: a backend with its key at hand, or a fallback model to report. */
function isCallable(link: ChainLink | UnresolvedLink): boolean {
  return isUnresolved(link) || isAuthenticated(link.backend);
}

/**
 * Waits for a stream's first event (within the first-byte timeout) before handing it on;
 * until then a failure can still fail over. After it, each event is awaited at most the
 * idle timeout: a stream that stalls is cancelled upstream and ends in a timeout error,
 * which the edge turns into its error event. Every chunk is renamed to the model the client
 * asked for.
 */
async function commitStream(
  answer: StreamAnswer,
  requestedModel: string,
  signal: AbortSignal,
  { attempt, commit, stalled, broken, finished, policyStopped, firstEvent, idleMs }: StreamWatch,
): Promise<StreamAnswer> {
  const backendName = answer.servedBy.backend;
  const iterator = answer.events[Symbol.asyncIterator]();
  let first: IteratorResult<JsonObject>;
  try {
    first = await Promise.race([iterator.next(), firstEvent.expired]);
  } catch (error) {
    // The iterator may be waiting on the backend: only cancelling the call ends the wait
    // and lets go of its connection now (the return() is queued behind that wait).
    attempt?.abandon(error);
    void iterator.return?.();
    // Nothing reached the client yet, so a broken stream is an ordinary backend error.
    if (error instanceof DataPlaneError && error.code === DataPlaneErrorCode.StreamInterrupted) {
      throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, error.message, { cause: error });
    }
    throw error;
  } finally {
    firstEvent.clear();
  }
  commit?.decide(true);
  if (signal.aborted) void iterator.return?.();

  async function* renamed(): AsyncGenerator<JsonObject> {
    const idle = new StreamIdleWatch(
      iterator,
      idleMs,
      () =>
        new DataPlaneError(
          DataPlaneErrorCode.UpstreamTimeout,
          `backend "${backendName}" sent no stream data for ${idleMs} ms (its streamIdleTimeout)`,
        ),
      (error) => {
        // Cancels the upstream call: its adapter stops reading, settles the usage seen so
        // far (estimated where the provider sent none) and lets go of the connection.
        attempt?.abandon(error);
        stalled?.();
      },
    );
    try {
      let next = first;
      let stopCounted = false;
      while (!next.done) {
        next.value.model = requestedModel;
        if (!stopCounted && stoppedForPolicy(next.value)) {
          stopCounted = true;
          policyStopped?.();
        }
        yield next.value;
        try {
          next = await idle.next();
        } catch (error) {
          // Output went out, so no failover: only a count tells which backend cuts answers.
          if (!signal.aborted && !idle.hasStalled) broken?.();
          throw error;
        }
      }
      finished?.();
    } finally {
      idle.stop();
      try {
        // After a stall the iterator may still be waiting on the backend, and its return()
        // would queue behind that wait: the error must reach the client now.
        if (idle.hasStalled) void iterator.return?.();
        else await iterator.return?.();
      } finally {
        attempt?.release();
      }
    }
  }
  return { ...answer, events: renamed() };
}

/**
 * Waits `ms`, or rejects when `signal` aborts first. The abort listener goes when the wait
 * ends: a signal may outlive many calls (a dedup leader's never aborts), and each listener
 * left would hold its closure for the signal's life.
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
