import { heapBytesOf } from '../../cache/domain/heap-bytes';
import { BoundedLru, type BoundedLruLimits } from '../bounded-lru';
import type { EvictionReason, ResponseStore } from './response-store';
import { decodeStored, encodeStored, type StoredEntry } from './stored-response';

/** Records (or conversations) kept at most, and the heap they take. */
export type MemoryStoreLimits = BoundedLruLimits;

interface Entry {
  readonly text: string;
  bytes: number;
  expiresAt: number;
}

/**
 * The heap a kept record takes besides its id's and JSON's characters: its entry, its map
 * slot and its strings' headers (measured: ~150 bytes, Node 24).
 */
const RECORD_OVERHEAD_BYTES = 160;

/**
 * What a kept record weighs: its id and JSON at the bytes a character V8 holds them in, not
 * their UTF-8 size (an answer with one em dash takes twice its UTF-8 size), and its
 * bookkeeping (small records weigh a quarter more than their JSON).
 */
function heldBytes(id: string, text: string): number {
  return heapBytesOf(id) + heapBytesOf(text) + RECORD_OVERHEAD_BYTES;
}

/**
 * Stored responses in this process's memory: lost on restart, not shared between
 * processes. Bounded by entries and bytes with least-recently-used eviction (a lookup
 * or a chain walk refreshes a record, so a live conversation keeps its turns), and by
 * each record's TTL.
 */
export class MemoryResponseStore implements ResponseStore {
  readonly kind = 'memory';
  private readonly lru: BoundedLru<Entry>;

  constructor(
    readonly limits: MemoryStoreLimits,
    onEvicted: (reason: EvictionReason) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.lru = new BoundedLru(limits, onEvicted, now);
  }

  async put(entry: StoredEntry, ttlMs: number): Promise<boolean> {
    const text = encodeStored(entry);
    const bytes = heldBytes(entry.id, text);
    if (bytes > this.limits.maxBytes || ttlMs <= 0) return false;
    this.lru.remove(entry.id);
    const now = this.now();
    this.lru.add(entry.id, { text, bytes, expiresAt: now + ttlMs }, now);
    return true;
  }

  async touch(ids: readonly string[], ttlMs: number): Promise<void> {
    const now = this.now();
    for (const id of ids) {
      const entry = this.lru.live(id, now);
      if (entry) entry.expiresAt = Math.max(entry.expiresAt, now + ttlMs);
    }
  }

  async get(ids: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    const now = this.now();
    return ids.map((id) => {
      const entry = this.lru.live(id, now);
      return entry && decodeStored(entry.text);
    });
  }

  async delete(id: string): Promise<boolean> {
    return this.lru.remove(id);
  }

  /** Records and the heap bytes they take, for tests and diagnostics. */
  size(): { entries: number; bytes: number } {
    return this.lru.size();
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}
