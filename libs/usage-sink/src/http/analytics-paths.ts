// The analytics API's paths and their methods, so a wrong method on one answers 405 with
// `Allow` wherever the API is mounted: the usage-sink's own port (AnalyticsExceptionFilter)
// and the all-in-one gateway's API port (its OpenAI-style filter is handed
// `analyticsMethodsAt`). Only under `/v1`: the controller mounts no other prefix.

import { routePatternMatcher } from '@aigw/runtime';

/**
 * Every analytics route with its methods (Fastify answers a HEAD wherever a GET is served);
 * a spec checks it against AnalyticsController.
 */
export const ANALYTICS_PATHS: readonly (readonly [path: string, methods: readonly string[]])[] = [
  ['/v1/analytics/usage', ['GET', 'HEAD']],
  ['/v1/analytics/top-spenders', ['GET', 'HEAD']],
  ['/v1/analytics/rates', ['GET', 'HEAD']],
  ['/v1/analytics/latency', ['GET', 'HEAD']],
  ['/v1/analytics/fallbacks', ['GET', 'HEAD']],
  ['/v1/analytics/budgets', ['GET', 'HEAD']],
  ['/v1/analytics/requests/:requestId/payload', ['GET', 'HEAD']],
  ['/v1/analytics/payloads', ['GET', 'HEAD']],
  ['/v1/analytics/budget-adjustments', ['GET', 'HEAD']],
];

/** A `:name` segment matches one non-empty segment; the rest literally. */
const MATCHERS = ANALYTICS_PATHS.map(
  ([path, methods]) => [routePatternMatcher(path), methods] as const,
);

/** The methods an analytics URL is served with (for `Allow`), or undefined for another path. */
export function analyticsMethodsAt(url: string): readonly string[] | undefined {
  if (!url.startsWith('/v1/analytics/')) return undefined;
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return MATCHERS.find(([matcher]) => matcher.test(path))?.[1];
}
