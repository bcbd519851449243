import type { EvictionReason, ResponseStore } from './response-store';
import { decodeStored, encodeStored, type StoredResponse } from './stored-response';

export interface MemoryStoreLimits {
  /** Records kept at most; the least recently used go first. */
  readonly maxEntries: number;
  /** Serialized bytes kept at most (UTF-8), likewise. */
  readonly maxBytes: number;
}

interface Entry {
  readonly text: string;
  readonly bytes: number;
  readonly expiresAt: number;
}

/**
 * Stored responses in this process's memory: lost on restart, not shared between
 * processes. Bounded by entries and bytes with least-recently-used eviction (a lookup
 * or a chain walk refreshes a record, so a live conversation keeps its turns), and by
 * each record's TTL.
 */
export class MemoryResponseStore implements ResponseStore {
  readonly kind = 'memory';
  /** Map order is recency order: oldest first. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    readonly limits: MemoryStoreLimits,
    private readonly onEvicted: (reason: EvictionReason) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async put(record: StoredResponse, ttlMs: number): Promise<boolean> {
    const text = encodeStored(record);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.limits.maxBytes || ttlMs <= 0) return false;
    this.remove(record.id);
    const now = this.now();
    for (const [id, entry] of this.entries) {
      const full =
        this.entries.size >= this.limits.maxEntries || this.bytes + bytes > this.limits.maxBytes;
      if (entry.expiresAt <= now) this.evict(id, 'expired');
      else if (full) this.evict(id, 'capacity');
      else break;
    }
    this.entries.set(record.id, { text, bytes, expiresAt: now + ttlMs });
    this.bytes += bytes;
    return true;
  }

  async get(ids: readonly string[]): Promise<(StoredResponse | undefined)[]> {
    const now = this.now();
    return ids.map((id) => {
      const entry = this.entries.get(id);
      if (!entry) return undefined;
      if (entry.expiresAt <= now) {
        this.evict(id, 'expired');
        return undefined;
      }
      // Most recently used now.
      this.entries.delete(id);
      this.entries.set(id, entry);
      return decodeStored(entry.text);
    });
  }

  async delete(id: string): Promise<boolean> {
    return this.remove(id);
  }

  /** Records and bytes held, for tests and diagnostics. */
  size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }

  private evict(id: string, reason: EvictionReason): void {
    if (this.remove(id)) this.onEvicted(reason);
  }

  private remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.bytes -= entry.bytes;
    return true;
  }
}
