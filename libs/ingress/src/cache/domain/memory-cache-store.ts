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
 * between processes. Each namespace (route) keeps within its own byte budget (its
 * `maxSize`), and all of them together within `processMaxBytes`: a route's `maxSize`
 * sized for Redis (the spec's example is 10GB) must not grow this process's heap past
 * what it can hold. Past the process bound, the entries stored first, of any route, go.
 */
export class MemoryResponseCacheStore implements ResponseCacheStore {
  private readonly namespaces = new Map<string, Namespace>();
  /** Every entry, the first stored first: what goes when the process bound is reached. */
  private readonly stored = new Map<string, { readonly namespace: string; readonly key: string }>();
  private bytes = 0;

  constructor(
    private readonly processMaxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(namespace: string, key: string): Promise<string | undefined> {
    const space = this.namespaces.get(namespace);
    const entry = space?.entries.get(key);
    if (!space || !entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(namespace, space, key, entry);
      return undefined;
    }
    return entry.value;
  }

  async set(
    namespace: string,
    key: string,
    value: string,
    ttlMs: number,
    maxBytes = this.processMaxBytes,
  ): Promise<boolean> {
    const bytes = Buffer.byteLength(value);
    if (bytes > Math.min(maxBytes, this.processMaxBytes) || ttlMs <= 0) return false;
    let space = this.namespaces.get(namespace);
    if (!space) {
      space = { entries: new Map(), bytes: 0 };
      this.namespaces.set(namespace, space);
    }
    const previous = space.entries.get(key);
    if (previous) this.remove(namespace, space, key, previous);
    const now = this.now();
    for (const [oldKey, entry] of space.entries) {
      if (space.bytes + bytes <= maxBytes && entry.expiresAt > now) break;
      this.remove(namespace, space, oldKey, entry);
    }
    for (const [, first] of this.stored) {
      if (this.bytes + bytes <= this.processMaxBytes) break;
      const owner = this.namespaces.get(first.namespace);
      const entry = owner?.entries.get(first.key);
      if (owner && entry) this.remove(first.namespace, owner, first.key, entry);
    }
    space.entries.set(key, { value, bytes, expiresAt: now + ttlMs });
    space.bytes += bytes;
    this.bytes += bytes;
    this.stored.set(storedKey(namespace, key), { namespace, key });
    return true;
  }

  /** Bytes held by a namespace, for tests and diagnostics. */
  bytesIn(namespace: string): number {
    return this.namespaces.get(namespace)?.bytes ?? 0;
  }

  /** Bytes held by every namespace together. */
  get totalBytes(): number {
    return this.bytes;
  }

  async close(): Promise<void> {
    this.namespaces.clear();
    this.stored.clear();
    this.bytes = 0;
  }

  private remove(namespace: string, space: Namespace, key: string, entry: Entry): void {
    space.entries.delete(key);
    space.bytes -= entry.bytes;
    this.bytes -= entry.bytes;
    this.stored.delete(storedKey(namespace, key));
  }
}

function storedKey(namespace: string, key: string): string {
  return `${namespace}\0${key}`;
}
