import { backendsForModel, upstreamModel, type RouteConfig } from '@aigw/config';

// Per route object (a config reload brings new ones): requested model and tier's models
// to the answer. Clients may name any model on a wildcard route, so entries are bounded.
// Two maps, so no key of one form can be the other's: a client names models freely,
// newlines and NULs included, and a key joined with a separator would let "gpt-4\ngpt-4o"
// stand for gpt-4 with gpt-4o allowed, handing a tier's callers that name's chain (held on
// no per-model limit, priced at nothing).
interface ChainCache {
  /** By requested model, for callers no allowed list narrows (the common case). */
  readonly bare: Map<string, readonly string[]>;
  /** By the JSON of [requested model, ...allowed models]: one list, one key. */
  readonly listed: Map<string, readonly string[]>;
}
const byRoute = new WeakMap<RouteConfig, ChainCache>();
const MAX_ENTRIES_PER_ROUTE = 1_000;

/**
 * The upstream models that may serve a request for `requestedModel`, in the order the
 * router's chain tries them (`planBackendChain` in the router, kept in step by its
 * spec): the requested model's backends by priority, then, with
 * `retry.fallbackStrategy: cheaperModel`, those of each later `retry.fallbackOrder` model
 * the caller may use. Each model once; a fallback model no backend serves adds none.
 */
export function servingModels(
  route: RouteConfig,
  requestedModel: string,
  allowedModels: readonly string[] = [],
): readonly string[] {
  let cache = byRoute.get(route);
  if (!cache) {
    cache = { bare: new Map(), listed: new Map() };
    byRoute.set(route, cache);
  }
  // Nothing allocated on the bare path, which every request without an allowed list takes.
  const bare = allowedModels.length === 0;
  const entries = bare ? cache.bare : cache.listed;
  const key = bare ? requestedModel : JSON.stringify([requestedModel, ...allowedModels]);
  let models = entries.get(key);
  if (!models) {
    models = Object.freeze(chainModels(route, requestedModel, allowedModels));
    if (entries.size >= MAX_ENTRIES_PER_ROUTE) entries.clear();
    entries.set(key, models);
  }
  return models;
}

function chainModels(
  route: RouteConfig,
  requestedModel: string,
  allowedModels: readonly string[],
): string[] {
  const allowed = (model: string) => allowedModels.length === 0 || allowedModels.includes(model);
  const requested = [requestedModel];
  const retry = route.retry;
  if (retry?.fallbackStrategy === 'cheaperModel') {
    const position = retry.fallbackOrder.indexOf(requestedModel);
    if (position >= 0) requested.push(...retry.fallbackOrder.slice(position + 1).filter(allowed));
  }
  const models = new Set<string>();
  for (const model of requested) {
    for (const backend of backendsForModel(route, model)) models.add(upstreamModel(backend, model));
  }
  return [...models];
}
