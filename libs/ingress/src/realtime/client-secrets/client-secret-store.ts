import type Redis from 'ioredis';
import { BoundedLru, type BoundedLruLimits } from '../../responses/bounded-lru';

/**
 * Where client secrets' grants are kept, each under the SHA-256 of its secret (never the
 * secret itself: what the store holds cannot open a session), until it expires.
 */
export interface ClientSecretStore {
  /** Keeps `grant` (its JSON) for `ttlMs`. */
  put(digest: string, grant: string, ttlMs: number): Promise<void>;
  /** The grant's JSON, or undefined when unknown or expired. */
  get(digest: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** The bounds of the in-memory store: secrets live minutes, so these are generous. */
const MEMORY_SECRET_LIMITS: BoundedLruLimits = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
};

interface Entry {
  readonly grant: string;
  bytes: number;
  expiresAt: number;
}

/**
 * This process's memory: lost on restart and not shared between replicas (a secret minted
 * on one is unknown to another). Bounded by entries and bytes, the oldest evicted first.
 */
export class MemoryClientSecretStore implements ClientSecretStore {
  private readonly lru: BoundedLru<Entry>;

  constructor(
    limits: BoundedLruLimits = MEMORY_SECRET_LIMITS,
    onEvicted: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.lru = new BoundedLru(limits, (reason) => reason === 'capacity' && onEvicted(), now);
  }

  async put(digest: string, grant: string, ttlMs: number): Promise<void> {
    const now = this.now();
    this.lru.remove(digest);
    this.lru.add(digest, { grant, bytes: Buffer.byteLength(grant), expiresAt: now + ttlMs }, now);
  }

  async get(digest: string): Promise<string | undefined> {
    return this.lru.live(digest, this.now())?.grant;
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}

const PREFIX = 'aigw:realtime-secret:v1:';

/** Redis, shared by every replica (the split deployment's ingresses); Redis expires each key. */
export class RedisClientSecretStore implements ClientSecretStore {
  constructor(private readonly redis: Redis) {}

  async put(digest: string, grant: string, ttlMs: number): Promise<void> {
    await this.redis.set(PREFIX + digest, grant, 'PX', Math.ceil(ttlMs));
  }

  async get(digest: string): Promise<string | undefined> {
    return (await this.redis.get(PREFIX + digest)) ?? undefined;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
