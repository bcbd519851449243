import { backendsForModel, upstreamModel, type RouteConfig } from '@aigw/config';

// Per route object (a config reload brings new ones): requested model and tier's models
// to the answer. Clients may name any model on a wildcard route, so entries are bounded.
const byRoute = new WeakMap<RouteConfig, Map<string, readonly string[]>>();
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
    cache = new Map();
    byRoute.set(route, cache);
  }
  const key =
    allowedModels.length === 0 ? requestedModel : `${requestedModel}\n${allowedModels.join('\n')}`;
  let models = cache.get(key);
  if (!models) {
    models = Object.freeze(chainModels(route, requestedModel, allowedModels));
    if (cache.size >= MAX_ENTRIES_PER_ROUTE) cache.clear();
    cache.set(key, models);
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
