import { heapBytesOf } from './heap-bytes';
import { InsertionOrder, type Place } from './insertion-order';
import type { CacheEvicted, ResponseCacheStore } from './response-cache-store';

interface Entry {
  readonly space: Namespace;
  readonly key: string;
  readonly value: string;
  /** The value's serialized size: what a route's maxSize counts, as in Redis. */
  readonly bytes: number;
  /** What it takes of the heap, its key and bookkeeping included: what the process bound counts. */
  readonly heldBytes: number;
  readonly expiresAt: number;
  /** Its place in its namespace's order, and in the process's. */
  inSpace?: Place<Entry>;
  inProcess?: Place<Entry>;
}

/**
 * The heap an entry takes besides its value and key: its record, its places in the two
 * orders and its slot in the route's Map. Measured at ~450 bytes (Node 24, heap growth
 * per entry less its value and key); counted, or the process bound held values only, and
 * a cache of small answers (a short classification's ~200 bytes) took 2-4 times it.
 */
export const ENTRY_OVERHEAD_BYTES = 450;

interface Namespace {
  readonly entries: Map<string, Entry>;
  /** Insertion order, which is expiry order while the route's TTL stays the same. */
  readonly order: InsertionOrder<Entry>;
  bytes: number;
}

/**
 * The cache in this process's memory (embedded mode): lost on restart, not shared
 * between processes. Each namespace (route) keeps within its own byte budget (its
 * `maxSize`), and all of them together within `processMaxBytes`: a route's `maxSize`
 * sized for Redis (the spec's example is 10GB) must not grow this process's heap past
 * what it can hold. Past the process bound, the entries stored first, of any route, go.
 * A store costs the same however many entries are held (see InsertionOrder).
 */
export class MemoryResponseCacheStore implements ResponseCacheStore {
  private readonly namespaces = new Map<string, Namespace>();
  /** Every entry, the first stored first: what goes when the process bound is reached. */
  private readonly stored = new InsertionOrder<Entry>();
  private bytes = 0;

  constructor(
    private readonly processMaxBytes: number,
    private readonly now: () => number = Date.now,
    private readonly evicted: CacheEvicted = () => undefined,
  ) {}

  async get(namespace: string, key: string): Promise<string | undefined> {
    const entry = this.namespaces.get(namespace)?.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(entry);
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
    const heldBytes = heapBytesOf(value) + heapBytesOf(key) + ENTRY_OVERHEAD_BYTES;
    if (bytes > maxBytes || heldBytes > this.processMaxBytes || ttlMs <= 0) return false;
    let space = this.namespaces.get(namespace);
    if (!space) {
      space = { entries: new Map(), order: new InsertionOrder(), bytes: 0 };
      this.namespaces.set(namespace, space);
    }
    const previous = space.entries.get(key);
    if (previous) this.remove(previous);
    const now = this.now();
    let forRoute = 0;
    for (let oldest = space.order.oldest; oldest; oldest = space.order.oldest) {
      const expired = oldest.expiresAt <= now;
      if (space.bytes + bytes <= maxBytes && !expired) break;
      this.remove(oldest);
      if (!expired) forRoute++;
    }
    let forProcess = 0;
    for (let first = this.stored.oldest; first; first = this.stored.oldest) {
      if (this.bytes + heldBytes <= this.processMaxBytes) break;
      this.remove(first);
      if (first.expiresAt > now) forProcess++;
    }
    if (forRoute > 0) this.evicted('max_size', forRoute);
    if (forProcess > 0) this.evicted('memory_limit', forProcess);
    const entry: Entry = { space, key, value, bytes, heldBytes, expiresAt: now + ttlMs };
    entry.inSpace = space.order.add(entry);
    entry.inProcess = this.stored.add(entry);
    space.entries.set(key, entry);
    space.bytes += bytes;
    this.bytes += heldBytes;
    return true;
  }

  /** Bytes held by a namespace, for tests and diagnostics. */
  bytesIn(namespace: string): number {
    return this.namespaces.get(namespace)?.bytes ?? 0;
  }

  /** Heap held by every namespace's entries together (values, keys and bookkeeping). */
  get totalBytes(): number {
    return this.bytes;
  }

  async close(): Promise<void> {
    this.namespaces.clear();
    this.stored.clear();
    this.bytes = 0;
  }

  private remove(entry: Entry): void {
    const space = entry.space;
    space.entries.delete(entry.key);
    if (entry.inSpace) space.order.remove(entry.inSpace);
    if (entry.inProcess) this.stored.remove(entry.inProcess);
    space.bytes -= entry.bytes;
    this.bytes -= entry.heldBytes;
  }
}
