import type { StoredResponse } from './stored-response';

/**
 * Where stored responses live: this process's memory (the all-in-one gateway on embedded
 * defaults) or Redis (shared by every ingress replica). Keyed by response id alone; who
 * may see a record is `ResponseState`'s concern, which checks its owner.
 */
export interface ResponseStore {
  readonly kind: 'memory' | 'redis';
  /** Keeps the record for `ttlMs`; false when it is too large to keep. */
  put(record: StoredResponse, ttlMs: number): Promise<boolean>;
  /** The records under these ids, in order; undefined for one absent or expired. */
  get(ids: readonly string[]): Promise<(StoredResponse | undefined)[]>;
  /** Forgets a record; false when there was none. */
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Why a record left a store before anyone deleted it. */
export type EvictionReason = 'capacity' | 'expired';
