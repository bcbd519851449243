import type { EvictionReason } from './state/response-store';

export interface BoundedLruLimits {
  /** Entries kept at most; the least recently used go first. */
  readonly maxEntries: number;
  /** Bytes kept at most (as each entry reports them), likewise. */
  readonly maxBytes: number;
}

/** What the cache needs of an entry: its size, and when it stops being served. */
export interface LruEntry {
  bytes: number;
  expiresAt: number;
}

/**
 * Entries by key, bounded by count and bytes, least recently used evicted first, and each
 * dropped once past its `expiresAt`. Only the bookkeeping: the in-memory stores keep what
 * an entry holds and decide when it fits at all.
 */
export class BoundedLru<E extends LruEntry> {
  /** Map order is recency order: oldest first. */
  private readonly entries = new Map<string, E>();
  private bytes = 0;

  constructor(
    readonly limits: BoundedLruLimits,
    /** Told of each entry dropped for expiry or room (not of `remove`), after it is gone. */
    private readonly onEvicted: (reason: EvictionReason, key: string, entry: E) => void,
    private readonly now: () => number,
  ) {}

  /** The entry, made the most recently used, unless absent or expired (then evicted). */
  live(key: string, now = this.now()): E | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.evict(key, 'expired');
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /**
   * Adds an entry for a key not held (remove it first) as the most recently used, after
   * evicting expired, then least recently used, entries until it fits.
   */
  add(key: string, entry: E, now = this.now()): void {
    for (const [oldest, held] of this.entries) {
      const full =
        this.entries.size >= this.limits.maxEntries ||
        this.bytes + entry.bytes > this.limits.maxBytes;
      if (held.expiresAt <= now) this.evict(oldest, 'expired');
      else if (full) this.evict(oldest, 'capacity');
      else break;
    }
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
  }

  /** Counts `change` more bytes in a held entry (no eviction: it is not an addition). */
  resize(entry: E, change: number): void {
    entry.bytes += change;
    this.bytes += change;
  }

  /** Drops the entry without reporting an eviction; false when it was not held. */
  remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    return true;
  }

  size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private evict(key: string, reason: EvictionReason): void {
    const entry = this.entries.get(key);
    if (entry && this.remove(key)) this.onEvicted(reason, key, entry);
  }
}
