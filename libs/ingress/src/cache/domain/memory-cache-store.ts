import type { ResponseCacheStore } from './response-cache-store';

interface Entry {
  readonly value: string;
  readonly bytes: number;
  readonly expiresAt: number;
}

interface Namespace {
  /** Insertion order, which is expiry order while the route's TTL stays the same. */
  readonly entries: Map<string, Entry>;
  bytes: number;
}

/**
 * The cache in this process's memory (embedded mode): lost on restart, not shared
 * between processes. Each namespace (route) keeps within its byte budget, or within
 * `defaultMaxBytes` when the route sets no `maxSize`, so memory stays bounded.
 */
export class MemoryResponseCacheStore implements ResponseCacheStore {
  private readonly namespaces = new Map<string, Namespace>();

  constructor(
    private readonly defaultMaxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(namespace: string, key: string): Promise<string | undefined> {
    const space = this.namespaces.get(namespace);
    const entry = space?.entries.get(key);
    if (!space || !entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(space, key, entry);
      return undefined;
    }
    return entry.value;
  }

  async set(
    namespace: string,
    key: string,
    value: string,
    ttlMs: number,
    maxBytes = this.defaultMaxBytes,
  ): Promise<boolean> {
    const bytes = Buffer.byteLength(value);
    if (bytes > maxBytes || ttlMs <= 0) return false;
    let space = this.namespaces.get(namespace);
    if (!space) {
      space = { entries: new Map(), bytes: 0 };
      this.namespaces.set(namespace, space);
    }
    const previous = space.entries.get(key);
    if (previous) this.remove(space, key, previous);
    const now = this.now();
    for (const [oldKey, entry] of space.entries) {
      if (space.bytes + bytes <= maxBytes && entry.expiresAt > now) break;
      this.remove(space, oldKey, entry);
    }
    space.entries.set(key, { value, bytes, expiresAt: now + ttlMs });
    space.bytes += bytes;
    return true;
  }

  /** Bytes held by a namespace, for tests and diagnostics. */
  bytesIn(namespace: string): number {
    return this.namespaces.get(namespace)?.bytes ?? 0;
  }

  async close(): Promise<void> {
    this.namespaces.clear();
  }

  private remove(space: Namespace, key: string, entry: Entry): void {
    space.entries.delete(key);
    space.bytes -= entry.bytes;
  }
}
