import { positiveIntegerSetting } from '@aigw/config';
import { DEFAULT_LATENCY_HALF_LIFE_MS } from './backend-load';

/**
 * AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS: how fast a backend's latency figure ages for
 * lowest-latency (see BackendLoad), in ms; default 300 s. A process setting, not a route's:
 * the figure is the backend's, shared by every route that names it. Read at start-up, so a
 * bad value stops the service with a message naming the variable.
 */
export function latencyHalfLifeMs(env: Readonly<Record<string, string | undefined>>): number {
  const seconds = positiveIntegerSetting(
    env,
    'AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS',
    DEFAULT_LATENCY_HALF_LIFE_MS / 1000,
  );
  return seconds * 1000;
}
