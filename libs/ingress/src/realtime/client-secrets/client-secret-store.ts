import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { BoundedLru, type BoundedLruLimits } from '../../responses/bounded-lru';

/**
 * Where client secrets' grants are kept, each under the SHA-256 of its secret (never the
 * secret itself: what the store holds cannot open a session), until it expires.
 */
export interface ClientSecretStore {
  /**
   * Keeps `grant` (its JSON) for `ttlMs`, as one of `owner`'s (the caller's budget key):
   * past MAX_SECRETS_PER_CALLER of them, the owner's oldest is dropped.
   */
  put(digest: string, grant: string, ttlMs: number, owner: string): Promise<void>;
  /** The grant's JSON, or undefined when unknown or expired. */
  get(digest: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Live secrets one caller may hold. A browser needs one per session it opens within the
 * secret's lifetime, so a few at most; without a per-caller bound, one caller minting in a
 * loop would fill the shared store and drop every other caller's secrets (their browsers
 * then get 401). Past it the caller's own oldest goes.
 */
const MAX_SECRETS_PER_CALLER = 100;

/**
 * The store's key for a secret (or the owner index's, for a budget key): a SHA-256 digest,
 * so a store dump opens nothing and names no user.
 */
export function digestOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** The bounds of the in-memory store: secrets live minutes, so these are generous. */
const MEMORY_SECRET_LIMITS: BoundedLruLimits = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
};

interface Entry {
  readonly grant: string;
  readonly owner: string;
  bytes: number;
  expiresAt: number;
}

/**
 * This process's memory: lost on restart and not shared between replicas (a secret minted
 * on one is unknown to another). Bounded by entries and bytes, the oldest evicted first,
 * and per caller (MAX_SECRETS_PER_CALLER), the caller's oldest evicted first.
 */
export class MemoryClientSecretStore implements ClientSecretStore {
  private readonly lru: BoundedLru<Entry>;
  /** Each owner's held secrets: digest → expiry, oldest minted first. */
  private readonly byOwner = new Map<string, Map<string, number>>();

  constructor(
    limits: BoundedLruLimits = MEMORY_SECRET_LIMITS,
    private readonly onEvicted: () => void = () => undefined,
    private readonly now: () => number = Date.now,
    private readonly perCaller: number = MAX_SECRETS_PER_CALLER,
  ) {
    this.lru = new BoundedLru(
      limits,
      (reason, digest, entry) => {
        this.forget(entry.owner, digest);
        if (reason === 'capacity') onEvicted();
      },
      now,
    );
  }

  async put(digest: string, grant: string, ttlMs: number, owner: string): Promise<void> {
    const now = this.now();
    this.remove(digest, now);
    const own = this.byOwner.get(owner) ?? new Map<string, number>();
    for (const [held, expiresAt] of own) {
      if (own.size < this.perCaller) break;
      this.remove(held, now);
      // An expired one was no one's loss; a live one is an eviction.
      if (expiresAt > now) this.onEvicted();
    }
    const expiresAt = now + ttlMs;
    own.set(digest, expiresAt);
    this.byOwner.set(owner, own);
    const entry: Entry = { grant, owner, bytes: Buffer.byteLength(grant), expiresAt };
    this.lru.add(digest, entry, now);
  }

  async get(digest: string): Promise<string | undefined> {
    return this.lru.live(digest, this.now())?.grant;
  }

  async close(): Promise<void> {
    this.lru.clear();
    this.byOwner.clear();
  }

  /** Drops a held secret without counting an eviction (an expired one the LRU drops). */
  private remove(digest: string, now: number): void {
    const entry = this.lru.live(digest, now);
    if (!entry) return;
    this.lru.remove(digest);
    this.forget(entry.owner, digest);
  }

  private forget(owner: string, digest: string): void {
    const own = this.byOwner.get(owner);
    own?.delete(digest);
    if (own?.size === 0) this.byOwner.delete(owner);
  }
}

const PREFIX = 'aigw:realtime-secret:v1:';
/** Each owner's secrets: a sorted set of their digests, scored by when each was minted. */
const OWNER_PREFIX = 'aigw:realtime-secret-owner:v1:';
/**
 * How long an owner's index outlives its last mint: the longest a secret lives (OpenAI's
 * 7200 s bound on `expires_after.seconds`), so no live secret drops out of its index.
 */
const OWNER_INDEX_TTL_MS = 7200 * 1000;

/** The owner's index key: a digest, so Redis holds no user id in a key name. */
function ownerKey(owner: string): string {
  return OWNER_PREFIX + digestOf(owner);
}

/**
 * Redis, shared by every replica (the split deployment's ingresses); Redis expires each key.
 * Per caller as in memory: each mint adds its digest to the owner's index and, past
 * MAX_SECRETS_PER_CALLER, deletes the owner's oldest secrets (a second round trip only then).
 */
export class RedisClientSecretStore implements ClientSecretStore {
  constructor(
    private readonly redis: Redis,
    private readonly onEvicted: () => void = () => undefined,
    private readonly now: () => number = Date.now,
    private readonly perCaller: number = MAX_SECRETS_PER_CALLER,
  ) {}

  /** The last mint's score: strictly increasing here, so mints in one millisecond keep order. */
  private lastScore = 0;

  async put(digest: string, grant: string, ttlMs: number, owner: string): Promise<void> {
    const index = ownerKey(owner);
    const now = this.now();
    // Equal scores sort by member (a digest), not by age: each mint gets a later one.
    this.lastScore = Math.max(now, this.lastScore + 1);
    const answers = await this.redis
      .multi()
      .set(PREFIX + digest, grant, 'PX', Math.ceil(ttlMs))
      .zadd(index, this.lastScore, digest)
      // Minted longer ago than any secret lives: expired, so out of the count.
      .zremrangebyscore(index, '-inf', now - OWNER_INDEX_TTL_MS)
      .pexpire(index, OWNER_INDEX_TTL_MS)
      // All but the newest perCaller, oldest first.
      .zrange(index, '0', String(-(this.perCaller + 1)))
      .exec();
    const failed = answers?.find(([error]) => error);
    if (!answers || failed) throw failed?.[0] ?? new Error('The Redis transaction was aborted');
    const over = answers[4][1] as string[];
    if (over.length === 0) return;
    const [, [, deleted]] = (await this.redis
      .multi()
      .zrem(index, ...over)
      .del(...over.map((held) => PREFIX + held))
      .exec()) as [unknown, [unknown, number]];
    // Only secrets still live were a loss: those already expired are not counted.
    for (let count = 0; count < deleted; count++) this.onEvicted();
  }

  async get(digest: string): Promise<string | undefined> {
    return (await this.redis.get(PREFIX + digest)) ?? undefined;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
