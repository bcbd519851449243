import type { GatewayConfig } from '@aigw/config';
import type { MetricsRegistry } from '@aigw/observability';

/**
 * Every model name the config names: those clients ask for (`modelNameOverride ?? model`)
 * and those backends are sent (`model`). Wildcard backends name none.
 */
export function configuredModelNames(config: GatewayConfig): string[] {
  const names = new Set<string>();
  for (const route of config.routes) {
    for (const backend of route.backends) {
      if (backend.model !== undefined) names.add(backend.model);
      if (backend.virtualModel !== undefined) names.add(backend.virtualModel);
    }
  }
  return [...names];
}

/**
 * The configured models keep their own series on every model label, for the config in force
 * and each one a reload puts in force: names clients invent on a wildcard route fill the
 * label's cap (AI_GATEWAY_METRICS_MAX_MODELS) without folding the operator's models into
 * `__other__`.
 */
export function keepConfiguredModelLabels(
  metrics: MetricsRegistry,
  config: GatewayConfig,
  onConfigReload: (listener: (config: GatewayConfig) => void) => void,
): void {
  metrics.keepModelLabels(configuredModelNames(config));
  onConfigReload((reloaded) => metrics.keepModelLabels(configuredModelNames(reloaded)));
}
