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
  // One pass over the backends, then each model's own merged with the wildcard ones by
  // their place in the route (sorted by priority): the work is the size of what is built,
  // not models x backends (a route of 1000 single-model backends was a million steps).
  const own = new Map<string, number[]>();
  const wildcardAt: number[] = [];
  route.backends.forEach((backend, at) => {
    const model = backend.virtualModel;
    if (model === undefined) {
      wildcardAt.push(at);
      return;
    }
    const places = own.get(model);
    if (places) places.push(at);
    else own.set(model, [at]);
  });
  const named = new Map<string, readonly BackendConfig[]>();
  for (const [model, ownAt] of own) {
    const places = wildcardAt.length === 0 ? ownAt : mergeAscending(ownAt, wildcardAt);
    named.set(model, Object.freeze(places.map((at) => route.backends[at])));
  }
  const wildcard = wildcardAt.map((at) => route.backends[at]);
  return { named, wildcard: Object.freeze(wildcard) };
}

/** Two ascending lists of distinct numbers as one ascending list. */
function mergeAscending(a: readonly number[], b: readonly number[]): number[] {
  const merged: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) merged.push(a[i++]);
    else merged.push(b[j++]);
  }
  return merged;
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
