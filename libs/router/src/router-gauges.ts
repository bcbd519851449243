import type { MetricsRegistry } from '@aigw/observability';
import type { BackendHealth } from './domain/backend-health';
import type { FailoverRouter } from './failover-router';

/**
 * The gauges a process that routes exports, read at each scrape: backends cooling, each
 * route's backends in rotation, calls in flight per backend, backends drained. One place,
 * so the all-in-one gateway and the router service cannot drift apart.
 */
export function watchRouterGauges(
  metrics: MetricsRegistry,
  router: FailoverRouter,
  health: BackendHealth,
): void {
  metrics.watchBackendStates(() => router.backendStates());
  metrics.watchRouteBackends(() => router.routeBackendStates());
  metrics.watchBackendLoads(() => router.backendLoads());
  metrics.watchDrainedBackends(() => health.drainedBackends());
}
