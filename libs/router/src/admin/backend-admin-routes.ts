import type {
  BackendConfig,
  GatewayConfig,
  LoadBalancingStrategy,
  RouteConfig,
} from '@aigw/config';
import type { Logger, MetricsRegistry } from '@aigw/observability';
import {
  adminNotFound,
  invalidAdminRequest,
  type AdminReply,
  type AdminRoute,
} from '@aigw/runtime';
import type { FailoverTrigger } from '@aigw/contracts/data-plane';
import type { BackendHealth, CooldownReason } from '../domain/backend-health';
import { LATENCY_KINDS, type BackendLoad, type LatencyKind } from '../domain/backend-load';

/** One backend origin's upstream pool, as the providers' shared agent reports it. */
export interface OriginPool {
  readonly origin: string;
  readonly open: number;
  readonly busy: number;
  readonly waiting: number;
}

export interface BackendAdminDeps {
  readonly config: () => GatewayConfig;
  /** The health the process's FailoverRouter keeps (its `health` dependency). */
  readonly health: BackendHealth;
  /** The load the process's FailoverRouter measures (its `load` dependency). */
  readonly load?: BackendLoad;
  readonly metrics: Pick<MetricsRegistry, 'recordBackendAdminAction'>;
  readonly logger?: Pick<Logger, 'info'>;
  /**
   * The upstream pools when this process holds them (the all-in-one gateway); absent where
   * another process calls the backends (the split router: the provider-adapter does).
   */
  readonly upstreamPools?: () => Iterable<OriginPool>;
  /** The origin a backend calls (its pool's key); default: its baseUrl's. */
  readonly originOf?: (backend: BackendConfig) => string | undefined;
}

type Action = 'reset' | 'drain';

/** The process's pools by origin, and how a backend's origin is found. */
interface Pools {
  readonly byOrigin: ReadonlyMap<string, OriginPool>;
  readonly originOf: (backend: BackendConfig) => string | undefined;
}

/** `GET /admin/backends`: this process's view; other replicas keep their own. */
export interface BackendsReply {
  readonly scope: 'process';
  readonly backends: BackendView[];
}

/** One backend of one route; every field always present, null when there is nothing. */
export interface BackendView {
  readonly route: string;
  readonly backend: string;
  readonly provider: string;
  /** The model sent upstream; null for a backend serving whatever model is asked. */
  readonly model: string | null;
  readonly priority: number;
  readonly weight: number;
  readonly state: 'available' | 'cooling' | 'drained';
  readonly cooling: {
    readonly since: string;
    readonly until: string;
    readonly remainingMs: number;
    /** retry_after (it sent Retry-After) or failures (too many in a row). */
    readonly reason: CooldownReason;
    /** The failover trigger of the failure that cooled it: rateLimit, timeout, error, ... */
    readonly trigger: FailoverTrigger | null;
    readonly retryAfterMs: number | null;
  } | null;
  readonly drained: {
    readonly since: string;
    readonly operator: string | null;
    readonly reason: string | null;
  } | null;
  readonly failures: {
    readonly consecutive: number;
    readonly lastAt: string | null;
    readonly lastTrigger: FailoverTrigger | null;
  };
  readonly upstream: UpstreamView;
  readonly loadBalancing: LoadBalancingView;
}

/** The route's strategy and the figures it reads for this backend, in this process. */
export interface LoadBalancingView {
  readonly strategy: LoadBalancingStrategy;
  /** lowest-latency's share of calls spread by weight (0 for the other strategies). */
  readonly explorationPercent: number;
  /** Calls this process has in flight to it; null where the router's load is not known. */
  readonly inFlight: number | null;
  /**
   * Its latency's moving average (ms); null until it answered, and null again once no
   * answer came for a half-life (as the latency gauge leaves it out): a consumer must not
   * read an old figure as current. latencyAgeSeconds still says since when.
   */
  readonly latencyMs: number | null;
  readonly latencySamples: number;
  /**
   * Seconds since its last answer of any kind; null until it answered. lowest-latency reads
   * each kind's figure apart (see byKind): this one may be fresh while one of those is stale.
   */
  readonly latencyAgeSeconds: number | null;
  /** The figures lowest-latency orders by: a stream's first event, a JSON answer's whole call. */
  readonly byKind: Readonly<Record<LatencyKind, KindLatencyView>>;
}

/** One kind's latency figure for this backend, in this process. */
export interface KindLatencyView {
  /** Its moving average (ms); null until a call of this kind answered. */
  readonly latencyMs: number | null;
  readonly latencySamples: number;
  /** Seconds since this kind's last answer; null until it answered. */
  readonly latencyAgeSeconds: number | null;
  /**
   * lowest-latency reads the figure as unmeasured now: a half-life
   * (AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS, 300) since its last answer and since its last
   * failed probe, so the next call of this kind probes it. False while unmeasured (null).
   */
  readonly stale: boolean;
}

/** The pool of the backend's origin (shared by every backend on it), or why it is unknown. */
export type UpstreamView =
  | {
      readonly known: true;
      readonly origin: string;
      readonly openConnections: number;
      readonly inFlight: number;
      readonly waiting: number;
    }
  | { readonly known: false; readonly note: string };

/** The answer to a reset or drain: the backend as it is now. */
export interface BackendActionReply {
  readonly action: Action;
  /** Applied in this process only: no other replica, and no restart, knows of it. */
  readonly processOnly: true;
  readonly backend: BackendView;
}

/** Longest operator or reason text kept; they go to the log as given. */
const MAX_NOTE_LENGTH = 200;

const SPLIT_UPSTREAM_NOTE =
  'this process does not call the backends (split deployment): the provider-adapter holds ' +
  'the upstream pools, see ai_gateway_upstream_connections on its admin port';

/**
 * `GET /admin/backends` on the admin port: every configured backend with its health in this
 * process (available, cooling with why and until when, or drained), its failures in a row
 * and its upstream pool where known. `POST /admin/backends/{route}/{backend}/reset` ends its
 * cooldown and drain; `.../drain` takes it out of rotation (a last resort, as a cooled one)
 * until reset. Both act on this process only: other replicas and a restart know nothing of
 * them. Health is kept by backend name, so a name two routes share shares its state.
 */
export function backendAdminRoutes(deps: BackendAdminDeps): AdminRoute[] {
  const act = (action: Action): AdminRoute => ({
    method: 'POST',
    path: new RegExp(`^/admin/backends/([^/]+)/([^/]+)/${action}$`),
    handle: async ({ params, body }) => apply(deps, action, params[0], params[1], body),
  });
  return [
    {
      method: 'GET',
      path: /^\/admin\/backends$/,
      handle: async () => ({ status: 200, body: listBackends(deps) }),
    },
    act('reset'),
    act('drain'),
  ];
}

function listBackends(deps: BackendAdminDeps): BackendsReply {
  const pools = poolsOf(deps);
  const backends = deps
    .config()
    .routes.flatMap((route) =>
      route.backends.map((backend) => backendView(deps, route, backend, pools)),
    );
  return { scope: 'process', backends };
}

/** The process's pools, when it holds them: a listing and an action's reply show the same. */
function poolsOf(deps: BackendAdminDeps): Pools | undefined {
  return (
    deps.upstreamPools && {
      byOrigin: new Map(pool(deps.upstreamPools)),
      originOf: deps.originOf ?? ((backend: BackendConfig) => originOf(backend.baseUrl)),
    }
  );
}

function pool(pools: () => Iterable<OriginPool>): [string, OriginPool][] {
  return [...pools()].map((p) => [p.origin, p]);
}

/** A backend as the operator sees it; every field always present (null when not known). */
function backendView(
  { health, load }: Pick<BackendAdminDeps, 'health' | 'load'>,
  route: RouteConfig,
  backend: BackendConfig,
  pools?: Pools,
): BackendView {
  const now = Date.now();
  const snapshot = health.snapshot(backend.name);
  const { cooling, drained, lastFailure } = snapshot;
  return {
    route: route.name,
    backend: backend.name,
    provider: backend.provider,
    model: backend.model ?? null,
    priority: backend.priority,
    weight: backend.weight,
    state: snapshot.state,
    cooling: cooling
      ? {
          since: iso(cooling.since),
          until: iso(cooling.until),
          remainingMs: Math.max(0, cooling.until - now),
          reason: cooling.reason,
          trigger: cooling.trigger ?? null,
          retryAfterMs: cooling.retryAfterMs ?? null,
        }
      : null,
    drained: drained
      ? {
          since: iso(drained.since),
          operator: drained.operator ?? null,
          reason: drained.reason ?? null,
        }
      : null,
    failures: {
      consecutive: snapshot.consecutiveFailures,
      lastAt: lastFailure ? iso(lastFailure.at) : null,
      lastTrigger: lastFailure?.trigger ?? null,
    },
    upstream: upstreamView(backend, pools),
    loadBalancing: loadBalancingView(route, backend, load),
  };
}

function loadBalancingView(
  route: RouteConfig,
  backend: BackendConfig,
  load?: BackendLoad,
): LoadBalancingView {
  const now = load?.time();
  // Read at `now`: the latency is left out once stale, as the latency gauge leaves it out.
  const figures = load?.of(backend.name, undefined, now);
  const byKind = Object.fromEntries(
    LATENCY_KINDS.map((kind) => [kind, kindView(backend.name, kind, load, now)]),
  ) as Record<LatencyKind, KindLatencyView>;
  return {
    strategy: route.loadBalancing?.strategy ?? 'weighted-round-robin',
    explorationPercent: route.loadBalancing?.explorationPercent ?? 0,
    inFlight: figures?.inFlight ?? null,
    latencyMs: milliseconds(figures?.latencyMs),
    latencySamples: figures?.samples ?? 0,
    latencyAgeSeconds: seconds(load?.ageOf(backend.name, undefined, now)),
    byKind,
  };
}

function kindView(
  name: string,
  kind: LatencyKind,
  load?: BackendLoad,
  now?: number,
): KindLatencyView {
  const figures = load?.of(name, kind);
  const latencyMs = figures?.latencyMs;
  return {
    latencyMs: milliseconds(latencyMs),
    latencySamples: figures?.samples ?? 0,
    latencyAgeSeconds: seconds(load?.ageOf(name, kind, now)),
    stale: latencyMs !== undefined && load?.of(name, kind, now).latencyMs === undefined,
  };
}

function milliseconds(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 10) / 10;
}

function seconds(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms / 100) / 10;
}

/** The pool of the backend's origin: shared by every backend on that origin. */
function upstreamView(backend: BackendConfig, pools?: Pools): UpstreamView {
  if (!pools) return { known: false, note: SPLIT_UPSTREAM_NOTE };
  const origin = pools.originOf(backend);
  if (origin === undefined) {
    return { known: false, note: 'the backend calls no host, or its host is not known here' };
  }
  const found = pools.byOrigin.get(origin);
  return {
    known: true,
    origin,
    openConnections: found?.open ?? 0,
    inFlight: found?.busy ?? 0,
    waiting: found?.waiting ?? 0,
  };
}

function originOf(baseUrl: string | undefined): string | undefined {
  if (baseUrl === undefined) return undefined;
  try {
    return new URL(baseUrl).origin;
  } catch {
    return undefined;
  }
}

async function apply(
  deps: BackendAdminDeps,
  action: Action,
  routeName: string,
  backendName: string,
  body: unknown,
): Promise<AdminReply> {
  const note = parseNote(body);
  if (!note.ok) return invalidAdminRequest(note.issues);
  const route = deps.config().routes.find((r) => r.name === routeName);
  const backend = route?.backends.find((b) => b.name === backendName);
  if (!route || !backend) {
    const message = route
      ? `route "${routeName}" has no backend "${backendName}"`
      : `no route "${routeName}" in the configuration in force`;
    return adminNotFound(message);
  }
  if (action === 'reset') deps.health.reset(backend.name);
  else deps.health.drain(backend.name, note.value);
  deps.metrics.recordBackendAdminAction(action);
  deps.logger?.info(action === 'reset' ? 'backend reset' : 'backend drained', {
    route: route.name,
    backend: backend.name,
    ...note.value,
  });
  const reply: BackendActionReply = {
    action,
    processOnly: true,
    backend: backendView(deps, route, backend, poolsOf(deps)),
  };
  return { status: 200, body: reply };
}

type Issue = { path: string; message: string };
type Parsed =
  { ok: true; value: { operator?: string; reason?: string } } | { ok: false; issues: Issue[] };

/** The optional body: `{ operator?, reason? }`, short strings; anything else is refused. */
function parseNote(body: unknown): Parsed {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, issues: [{ path: '', message: 'the body must be a JSON object' }] };
  }
  const issues: Issue[] = [];
  const value: { operator?: string; reason?: string } = {};
  for (const [key, field] of Object.entries(body)) {
    if (key !== 'operator' && key !== 'reason') {
      issues.push({
        path: key,
        message: `unknown field "${key}" (operator and reason are allowed)`,
      });
    } else if (typeof field !== 'string' || field.trim() === '' || field.length > MAX_NOTE_LENGTH) {
      issues.push({
        path: key,
        message: `${key} must be a non-empty string of at most ${MAX_NOTE_LENGTH} characters`,
      });
    } else {
      value[key] = field.trim();
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
