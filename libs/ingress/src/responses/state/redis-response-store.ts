import type Redis from 'ioredis';
import type { ResponseStore } from './response-store';
import { decodeStored, encodeStored, type StoredEntry } from './stored-response';

const PREFIX = 'aigw:resp:v1:';
const keyOf = (id: string) => PREFIX + id;

/**
 * Stored responses in Redis, shared by every ingress replica. Each record is one key with
 * its TTL; Redis' own memory policy bounds the rest (a record it evicts reads as expired).
 * Lookups of a chain go out together (one GET per key, not MGET: in a cluster the keys
 * live in different slots).
 */
export class RedisResponseStore implements ResponseStore {
  readonly kind = 'redis';

  constructor(
    private readonly redis: Redis,
    /** Records larger than this are not kept (a bound on what one chain can pull back). */
    private readonly maxRecordBytes: number,
    private readonly closeClient = true,
  ) {}

  async put(entry: StoredEntry, ttlMs: number): Promise<boolean> {
    const text = encodeStored(entry);
    if (ttlMs <= 0 || Buffer.byteLength(text) > this.maxRecordBytes) return false;
    await this.redis.set(keyOf(entry.id), text, 'PX', Math.ceil(ttlMs));
    return true;
  }

  async touch(ids: readonly string[], ttlMs: number): Promise<void> {
    // Each key alone (they live in different slots of a cluster); an absent one is left so.
    await Promise.all(ids.map((id) => this.redis.pexpire(keyOf(id), Math.ceil(ttlMs))));
  }

  async get(ids: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    const texts = await Promise.all(ids.map((id) => this.redis.get(keyOf(id))));
    return texts.map((text) => (text === null ? undefined : decodeStored(text)));
  }

  async delete(id: string): Promise<boolean> {
    return (await this.redis.del(keyOf(id))) > 0;
  }

  async close(): Promise<void> {
    if (this.closeClient) this.redis.disconnect();
  }
}
