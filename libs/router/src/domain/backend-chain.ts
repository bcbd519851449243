import {
  backendsForModel,
  routeForModel,
  upstreamModel,
  type BackendConfig,
  type GatewayConfig,
  type RouteConfig,
} from '@aigw/config';
import { modelNotAllowed, modelNotServed } from '@aigw/contracts/data-plane';

/** One backend to try, and the model it runs for this request. */
export interface ChainLink {
  readonly backend: BackendConfig;
  readonly upstreamModel: string;
  /** The client-visible model this link stands for (differs on a cheaper-model retry). */
  readonly viaModel: string;
}

/** A `retry.fallbackOrder` model that no backend serves: an error once it is reached. */
export interface UnresolvedLink {
  readonly unresolvedModel: string;
}

export interface BackendChain {
  readonly route: RouteConfig;
  readonly links: readonly (ChainLink | UnresolvedLink)[];
}

export function isUnresolved(link: ChainLink | UnresolvedLink): link is UnresolvedLink {
  return 'unresolvedModel' in link;
}

/**
 * The ordered backends for a request: the requested model's backends by priority, then,
 * with `retry.fallbackStrategy: cheaperModel`, those of each model after it in
 * `retry.fallbackOrder`. Models a tier may not use are left out.
 */
export function planBackendChain(
  config: GatewayConfig,
  requestedModel: string,
  allowedModels: readonly string[] = [],
): BackendChain {
  const allowed = (model: string) => allowedModels.length === 0 || allowedModels.includes(model);
  if (!allowed(requestedModel)) {
    throw modelNotAllowed(requestedModel);
  }
  const route = routeForModel(config, requestedModel);
  if (!route) {
    throw modelNotServed(requestedModel);
  }

  const links: (ChainLink | UnresolvedLink)[] = linksFor(route, requestedModel);
  const retry = route.retry;
  if (retry?.fallbackStrategy === 'cheaperModel') {
    const position = retry.fallbackOrder.indexOf(requestedModel);
    if (position >= 0) {
      for (const model of retry.fallbackOrder.slice(position + 1)) {
        if (!allowed(model)) continue;
        const more = linksFor(route, model);
        links.push(...(more.length > 0 ? more : [{ unresolvedModel: model }]));
      }
    }
  }
  return { route, links };
}

function linksFor(route: RouteConfig, model: string): ChainLink[] {
  return backendsForModel(route, model).map((backend) => ({
    backend,
    upstreamModel: upstreamModel(backend, model),
    viaModel: model,
  }));
}

export { isAuthenticated } from '@aigw/config';
