/**
 * Why a store dropped live entries to make room: `max_size`, the route's caching.maxSize;
 * `memory_limit`, the bound on every route's in-memory entries together.
 */
export type CacheEvictionReason = 'max_size' | 'memory_limit';

/** Told how many live entries a store dropped to make room, and why (a metric's count). */
export type CacheEvicted = (reason: CacheEvictionReason, count: number) => void;

/** Where cached answers live: Redis shared by every replica, or this process's memory. */
export interface ResponseCacheStore {
  /** The serialized entry, or undefined when absent or expired. */
  get(namespace: string, key: string): Promise<string | undefined>;
  /**
   * Keeps `value` for `ttlMs`. With `maxBytes`, the namespace's entries (their serialized
   * size) stay within it: the entries closest to expiry go first, and a value larger
   * than the whole budget is not stored (returns false).
   */
  set(
    namespace: string,
    key: string,
    value: string,
    ttlMs: number,
    maxBytes?: number,
  ): Promise<boolean>;
  close(): Promise<void>;
}
