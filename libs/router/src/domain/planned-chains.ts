import type { GatewayConfig } from '@aigw/config';
import { upstreamTargetOf, type UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  planBackendChain,
  type BackendChain,
  type ChainLink,
  type UnresolvedLink,
} from './backend-chain';

/** Models whose chain is remembered per configuration (a wildcard route takes any name). */
const MAX_PLANNED_MODELS = 1024;

/** A remembered link, with its call target built once. */
interface PlannedLink extends ChainLink {
  readonly target: UpstreamTarget;
}

/**
 * Each model's backend chain and call targets, planned once per configuration object (a
 * reload plans afresh) rather than per request: the chain's links and each attempt's
 * target were a handful of objects on every call of the base path. A caller limited to
 * some models (a tier's `allowedModels`) is planned each time, as its chain differs.
 */
export class PlannedChains {
  private config?: GatewayConfig;
  private readonly chains = new Map<string, BackendChain>();

  /** As `planBackendChain`: throws for a model not served or not allowed. */
  plan(config: GatewayConfig, model: string, allowedModels: readonly string[]): BackendChain {
    if (allowedModels.length > 0) return planBackendChain(config, model, allowedModels);
    if (this.config !== config) {
      this.config = config;
      this.chains.clear();
    }
    let chain = this.chains.get(model);
    if (!chain) {
      const planned = planBackendChain(config, model);
      const routeName = planned.route.name;
      chain = {
        route: planned.route,
        links: planned.links.map((link) => withTarget(link, routeName)),
      };
      if (this.chains.size >= MAX_PLANNED_MODELS) this.chains.clear();
      this.chains.set(model, chain);
    }
    return chain;
  }

  /**
   * The call target of a link of `routeName`'s chain, built once for a remembered one. It
   * names the route: backend names are unique only within one, and usage is priced by both.
   */
  target(link: ChainLink, routeName: string): UpstreamTarget {
    return (
      (link as Partial<PlannedLink>).target ??
      upstreamTargetOf(link.backend, link.upstreamModel, routeName)
    );
  }
}

function withTarget(
  link: ChainLink | UnresolvedLink,
  routeName: string,
): ChainLink | UnresolvedLink {
  if ('unresolvedModel' in link) return link;
  const planned: PlannedLink = {
    ...link,
    target: upstreamTargetOf(link.backend, link.upstreamModel, routeName),
  };
  return planned;
}
