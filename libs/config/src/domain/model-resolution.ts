// Which client-visible model names a config serves, and which backends answer for one.
import {
  type BackendConfig,
  type GatewayConfig,
  type RouteConfig,
  type UserTierConfig,
} from './gateway-config';

/** Model names clients may request, across all routes, in config order, without duplicates. */
export function virtualModels(config: GatewayConfig): string[] {
  const names = new Set<string>();
  for (const route of config.routes) for (const name of routeVirtualModels(route)) names.add(name);
  return [...names];
}

/** Named models of one route (`modelNameOverride ?? model`); wildcard backends add none. */
export function routeVirtualModels(route: RouteConfig): string[] {
  const names = new Set<string>();
  for (const backend of route.backends) {
    if (backend.virtualModel !== undefined) names.add(backend.virtualModel);
  }
  return [...names];
}

export function hasWildcardBackend(route: RouteConfig): boolean {
  return route.backends.some((backend) => backend.virtualModel === undefined);
}

/** A route's answers to `backendsForModel`, worked out once per route object. */
interface RouteBackends {
  /** For each model a backend names: those backends and the wildcard ones, by priority. */
  readonly named: ReadonlyMap<string, readonly BackendConfig[]>;
  /** For any other model: the wildcard backends alone. */
  readonly wildcard: readonly BackendConfig[];
}

// Keyed by the route object: a config reload builds new routes, so it starts afresh. Per
// route the entries are bounded by its config (clients' other model names share one).
const backendsByRoute = new WeakMap<RouteConfig, RouteBackends>();

/** Backends of a route that can answer a request for `model`, by priority (a shared, frozen array). */
export function backendsForModel(route: RouteConfig, model: string): readonly BackendConfig[] {
  let backends = backendsByRoute.get(route);
  if (!backends) {
    backends = indexBackends(route);
    backendsByRoute.set(route, backends);
  }
  return backends.named.get(model) ?? backends.wildcard;
}

function indexBackends(route: RouteConfig): RouteBackends {
  const named = new Map<string, readonly BackendConfig[]>();
  for (const model of routeVirtualModels(route)) {
    const backends = route.backends.filter(
      (backend) => backend.virtualModel === undefined || backend.virtualModel === model,
    );
    named.set(model, Object.freeze(backends));
  }
  const wildcard = route.backends.filter((backend) => backend.virtualModel === undefined);
  return { named, wildcard: Object.freeze(wildcard) };
}

/** Model name to send upstream when `backend` serves a request for `requestedModel`. */
export function upstreamModel(backend: BackendConfig, requestedModel: string): string {
  return backend.model ?? requestedModel;
}

export function canServeModel(route: RouteConfig, model: string): boolean {
  return backendsForModel(route, model).length > 0;
}

/** `retry.fallbackOrder` entries no backend of the route can serve (a request-time error). */
export function unresolvedFallbackModels(route: RouteConfig): string[] {
  return (route.retry?.fallbackOrder ?? []).filter((model) => !canServeModel(route, model));
}

/** A config's answers to `routeForModel`, worked out once per config object. */
interface RouteIndex {
  /** Each named model's route: the first, in config order, that names it. */
  readonly named: ReadonlyMap<string, RouteConfig>;
  /** For any other model: the first route with a wildcard backend. */
  readonly wildcard: RouteConfig | undefined;
}

// Keyed by the config object, as backends are by route: a reload starts afresh, and the
// entries are bounded by the config (clients' other model names share the wildcard).
const routesByConfig = new WeakMap<GatewayConfig, RouteIndex>();

/** The route that answers for a model: one naming it wins over one with a wildcard backend. */
export function routeForModel(config: GatewayConfig, model: string): RouteConfig | undefined {
  let index = routesByConfig.get(config);
  if (!index) {
    index = indexRoutes(config);
    routesByConfig.set(config, index);
  }
  return index.named.get(model) ?? index.wildcard;
}

function indexRoutes(config: GatewayConfig): RouteIndex {
  const named = new Map<string, RouteConfig>();
  for (const route of config.routes) {
    for (const model of routeVirtualModels(route)) if (!named.has(model)) named.set(model, route);
  }
  return { named, wildcard: config.routes.find(hasWildcardBackend) };
}

/** A tier by name: the route's own tiers first, then the global ones. */
export function tierByName(
  config: GatewayConfig,
  route: RouteConfig,
  name: string | undefined,
): UserTierConfig | undefined {
  if (name === undefined) return undefined;
  return (
    route.userTiers.find((tier) => tier.name === name) ??
    config.userTiers.find((tier) => tier.name === name)
  );
}
