import type { ReuseStoreOperation } from '@aigw/observability';

/**
 * The `ai_gateway_reuse_store_failures_total` operation of a failure the cache or
 * deduplication reported (their `onError`), or undefined for a connection's own errors:
 * those come once per reconnect attempt, not per request, and /readyz's
 * `responseCacheRedis` reports them.
 */
export function reuseStoreOperation(what: string): ReuseStoreOperation | undefined {
  switch (what) {
    case 'cache lookup':
      return 'cache_lookup';
    case 'cache store':
      return 'cache_store';
    case 'dedup lookup':
      return 'dedup_join';
    case 'dedup lock':
      return 'dedup_lead';
    // A follower given an error because the shared call could not be read whole.
    case 'dedup follow':
      return 'dedup_follow';
    case 'dedup publish':
    case 'dedup read':
    case 'dedup wake':
    case 'dedup expire':
    case 'dedup abandon':
    case 'dedup settle':
      return 'dedup_stream';
    // Counted in ai_gateway_dedup_lock_renewal_failures_total, once.
    case 'dedup renew':
      return undefined;
    default:
      return undefined;
  }
}
