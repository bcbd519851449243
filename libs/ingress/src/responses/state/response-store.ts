import type { StoredEntry } from './stored-response';

/**
 * Where stored responses live: this process's memory (the all-in-one gateway on embedded
 * defaults) or Redis (shared by every ingress replica). Keyed by response id alone; who
 * may see a record is `ResponseState`'s concern, which checks its owner.
 */
export interface ResponseStore {
  readonly kind: 'memory' | 'redis';
  /** Keeps the entry for `ttlMs` (replacing one under its id); false when too large to keep. */
  put(entry: StoredEntry, ttlMs: number): Promise<boolean>;
  /** The entries under these ids, in order; undefined for one absent or expired. */
  get(ids: readonly string[]): Promise<(StoredEntry | undefined)[]>;
  /** Keeps the entries under these ids (those still held) `ttlMs` from now. */
  touch(ids: readonly string[], ttlMs: number): Promise<void>;
  /** Forgets a record; false when there was none. */
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Why a record left a store before anyone deleted it. */
export type EvictionReason = 'capacity' | 'expired';
