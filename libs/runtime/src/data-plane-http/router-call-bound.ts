import type { GatewayConfig, RouteConfig } from '@aigw/config';

/** Room past the router's own bound, so the router's answer (its timeout error too) comes first. */
const MARGIN_MS = 5_000;

const bounds = new WeakMap<GatewayConfig, number>();

/**
 * The longest the router may work on one call under `config` before it answers or gives up
 * by itself: on the route that allows most, every attempt its failover may make (retries go
 * round the chain again) at its slowest backend's requestTimeout, which also bounds a
 * stream's pauses (streamIdleTimeout), with retryDelay between attempts; plus a margin.
 * The ingress waits at least this long for the router (ROUTER_TIMEOUT_MS only bounds a
 * router that stopped answering), or it would cut off answers the router still gives.
 */
export function routerCallBoundMs(config: GatewayConfig): number {
  let bound = bounds.get(config);
  if (bound === undefined) {
    bound = Math.max(0, ...config.routes.map(routeBoundMs)) + MARGIN_MS;
    bounds.set(config, bound);
  }
  return bound;
}

function routeBoundMs(route: RouteConfig): number {
  if (route.backends.length === 0) return 0;
  // The chain: the route's backends, and retry.fallbackOrder's models (no backend: one link).
  const chainLength = route.backends.length + (route.retry?.fallbackOrder.length ?? 0);
  const retries = route.failover.retryAttempts ?? chainLength - 1;
  const attempts = Math.max(1, 1 + retries, route.retry?.maxAttempts ?? 0);
  const slowest = Math.max(...route.backends.map((backend) => backend.requestTimeoutMs));
  return attempts * slowest + (attempts - 1) * route.failover.retryDelayMs;
}
