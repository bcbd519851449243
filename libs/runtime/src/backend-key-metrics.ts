import { backendForCall, isAuthenticated, type GatewayConfig } from '@aigw/config';
import type { MetricsRegistry } from '@aigw/observability';

/**
 * Backends whose API key was missing when the config loaded (AI_GATEWAY_MISSING_SECRETS=warn,
 * or an `optional` apiKeyRef): the router skips them until the key appears. Each name once,
 * whatever number of routes it serves. A process that holds no keys (`not-needed`) has none.
 */
export function backendsMissingKey(config: GatewayConfig): string[] {
  const names = new Set<string>();
  for (const route of config.routes) {
    for (const backend of route.backends) {
      if (!isAuthenticated(backend)) names.add(backend.name);
    }
  }
  return [...names];
}

/**
 * ai_gateway_backend_missing_key, read at each scrape from the configuration in force and
 * from an edit refused only for the keys it lacks (`waitingForKeys`): that edit's backends
 * wait for their key too, and in the split deployment the ingress and router, which read no
 * keys, already route to them.
 */
export function meterBackendsMissingKey(
  metrics: MetricsRegistry,
  config: () => GatewayConfig,
  waitingForKeys: () => GatewayConfig | undefined = () => undefined,
): void {
  metrics.watchBackendsMissingKey(() => {
    const inForce = config();
    const missing = backendsMissingKey(inForce);
    const waiting = waitingForKeys();
    return waiting ? new Set([...missing, ...newBackendsMissingKey(waiting, inForce)]) : missing;
  });
}

/**
 * The backends an edit waiting for its keys adds without their key: one the config in force
 * already has (its route, its name, its provider) is called as it is meanwhile, its old key
 * included; one the edit moves to another provider is not (upstreamTargetFor refuses it).
 */
function newBackendsMissingKey(waiting: GatewayConfig, inForce: GatewayConfig): string[] {
  const names = new Set<string>();
  for (const route of waiting.routes) {
    for (const backend of route.backends) {
      if (isAuthenticated(backend)) continue;
      const kept = backendForCall(inForce.routes, backend.name, route.name);
      if (kept?.provider !== backend.provider) names.add(backend.name);
    }
  }
  return [...names];
}
