import { Registry } from 'prom-client';
import { type MetricsRegistry } from './metrics-registry';

/** The admin listener serves the same exposition on both paths (the spec's ServiceMonitor uses the second). */
export const PROMETHEUS_PATHS = ['/metrics', '/stats/prometheus'] as const;

export interface PrometheusResponse {
  readonly contentType: string;
  readonly body: string;
}

/**
 * Renders one or more registries as a single Prometheus text response (the all-in-one
 * gateway may hold one registry per role). Metric names must not repeat across them.
 */
export async function renderPrometheus(
  ...sources: (MetricsRegistry | Registry)[]
): Promise<PrometheusResponse> {
  const registries = sources.map((s) => (s instanceof Registry ? s : s.registry));
  const merged = registries.length === 1 ? registries[0] : Registry.merge(registries);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
