import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { BoundedLruLimits } from '../../responses/bounded-lru';
import { IndexedHeap } from './indexed-heap';

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

/** One caller's secrets in memory. */
interface Holder {
  readonly owner: string;
  /** Oldest minted first. */
  readonly secrets: Map<string, Entry>;
  bytes: number;
}

interface Entry {
  readonly digest: string;
  readonly grant: string;
  readonly holder: Holder;
  readonly bytes: number;
  readonly expiresAt: number;
}

/**
 * This process's memory: lost on restart and not shared between replicas (a secret minted
 * on one is unknown to another). Bounded per caller (MAX_SECRETS_PER_CALLER: past it the
 * caller's own oldest goes) and in all, by entries and bytes. When full, expired secrets go
 * first, then the oldest of the heaviest holder: the caller holding the largest share of the
 * store (of its entries or of its bytes, whichever is larger), or the minter itself once it
 * would outweigh that one. So a caller takes room from others only up to the heaviest
 * holder's share, never from one holding less: with 100 callers at their bound filling the
 * 10,000 entries, a newcomer's mints take one secret from each, then its own. None is
 * refused: a minter holding nothing whose one grant outweighs every holder (a huge session
 * configuration when the bytes are full) still takes room from the heaviest, and is then
 * the heaviest itself, so its next mint gives up that grant first.
 * Mint and lookup: O(1) maps and O(log n) heaps (by expiry, by holder's weight).
 */
export class MemoryClientSecretStore implements ClientSecretStore {
  private readonly entries = new Map<string, Entry>();
  private readonly holders = new Map<string, Holder>();
  private bytes = 0;
  private readonly byExpiry = new IndexedHeap<Entry>((a, b) => a.expiresAt < b.expiresAt);
  private readonly byWeight = new IndexedHeap<Holder>((a, b) => this.weight(a) > this.weight(b));

  constructor(
    private readonly limits: BoundedLruLimits = MEMORY_SECRET_LIMITS,
    private readonly onEvicted: () => void = () => undefined,
    private readonly now: () => number = Date.now,
    private readonly perCaller: number = MAX_SECRETS_PER_CALLER,
  ) {}

  async put(digest: string, grant: string, ttlMs: number, owner: string): Promise<void> {
    const now = this.now();
    const held = this.entries.get(digest);
    if (held) this.drop(held);
    const holder = this.holders.get(owner) ?? {
      owner,
      secrets: new Map<string, Entry>(),
      bytes: 0,
    };
    for (const oldest of holder.secrets.values()) {
      if (holder.secrets.size < this.perCaller) break;
      this.dropCounting(oldest, now);
    }
    const bytes = Buffer.byteLength(grant);
    this.makeRoom(holder, bytes, now);
    const entry: Entry = { digest, grant, holder, bytes, expiresAt: now + ttlMs };
    this.entries.set(digest, entry);
    this.bytes += bytes;
    this.byExpiry.upsert(entry);
    holder.secrets.set(digest, entry);
    holder.bytes += bytes;
    this.holders.set(owner, holder);
    this.byWeight.upsert(holder);
  }

  async get(digest: string): Promise<string | undefined> {
    const entry = this.entries.get(digest);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry.grant;
    this.drop(entry);
    return undefined;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.holders.clear();
    this.byExpiry.clear();
    this.byWeight.clear();
    this.bytes = 0;
  }

  /** Drops secrets until one of `bytes` minted by `minter` fits: expired first, then by weight. */
  private makeRoom(minter: Holder, bytes: number, now: number): void {
    const { maxEntries, maxBytes } = this.limits;
    while (this.entries.size >= maxEntries || this.bytes + bytes > maxBytes) {
      const soonest = this.byExpiry.peek();
      if (!soonest) return;
      if (soonest.expiresAt <= now) this.drop(soonest);
      else this.dropCounting(this.victimFor(minter, bytes).secrets.values().next().value!, now);
    }
  }

  /** Whose oldest secret makes room: the minter's once it would outweigh the heaviest. */
  private victimFor(minter: Holder, bytes: number): Holder {
    const heaviest = this.byWeight.peek()!;
    if (heaviest === minter) return minter;
    const after = this.share(minter.secrets.size + 1, minter.bytes + bytes);
    return minter.secrets.size > 0 && after > this.weight(heaviest) ? minter : heaviest;
  }

  /** A holder's share of the store: of its entries or of its bytes, whichever is larger. */
  private weight(holder: Holder): number {
    return this.share(holder.secrets.size, holder.bytes);
  }

  private share(entries: number, bytes: number): number {
    return Math.max(entries / this.limits.maxEntries, bytes / this.limits.maxBytes);
  }

  /** Drops a secret for room, counting it as an eviction when it was live. */
  private dropCounting(entry: Entry, now: number): void {
    this.drop(entry);
    // An expired one was no one's loss; a live one is an eviction.
    if (entry.expiresAt > now) this.onEvicted();
  }

  private drop(entry: Entry): void {
    const { holder } = entry;
    this.entries.delete(entry.digest);
    this.bytes -= entry.bytes;
    this.byExpiry.remove(entry);
    holder.secrets.delete(entry.digest);
    holder.bytes -= entry.bytes;
    if (holder.secrets.size > 0) this.byWeight.upsert(holder);
    else {
      this.byWeight.remove(holder);
      this.holders.delete(holder.owner);
    }
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
 * One mint, one atomic step: keeps the secret, adds it to its owner's index as the newest,
 * and deletes the owner's oldest past the bound; answers how many of those were live.
 * A script, not MULTI: the trim must read the index (its newest score, who is past the
 * bound) and act on what it read within the same step, which MULTI cannot (its answers come
 * only after EXEC; WATCH would make one caller's concurrent mints retry), and two replicas'
 * mints must not interleave between add and trim. The score is the mint's time but always
 * above the index's newest, so the newest is the last mint to reach Redis whatever the
 * replicas' clocks (one lagging, or run ahead by a burst of mints within a millisecond).
 * The trimmed secrets' keys are named in the script, not passed as KEYS: one Redis, not
 * Cluster.
 * KEYS: the secret's key, the owner's index. ARGV: digest, grant, TTL (ms), now (ms),
 * bound, index TTL (ms), the secrets' key prefix.
 */
const PUT_SECRET_LUA = `
local index = KEYS[2]
local now = tonumber(ARGV[4])
local indexTtl = tonumber(ARGV[6])
local score = now
local newest = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
if newest[2] then score = math.max(now, tonumber(newest[2]) + 1) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', index, string.format('%.0f', score), ARGV[1])
-- Minted longer ago than any secret lives: expired, so out of the count.
redis.call('ZREMRANGEBYSCORE', index, '-inf', string.format('%.0f', now - indexTtl))
redis.call('PEXPIRE', index, indexTtl)
local over = redis.call('ZRANGE', index, 0, -(tonumber(ARGV[5]) + 1))
if #over == 0 then return 0 end
redis.call('ZREMRANGEBYRANK', index, 0, #over - 1)
local evicted = 0
for _, held in ipairs(over) do
  -- 1 only if still live: a secret that already expired was no one's loss.
  evicted = evicted + redis.call('DEL', ARGV[7] .. held)
end
return evicted
`;

interface SecretCommands {
  aigwPutClientSecret(...args: [string, string, ...(string | number)[]]): Promise<number>;
}

/**
 * Redis, shared by every replica (the split deployment's ingresses); Redis expires each key.
 * Per caller as in memory: each mint, one script (PUT_SECRET_LUA), adds its digest to the
 * owner's index and, past MAX_SECRETS_PER_CALLER, deletes the owner's oldest secrets.
 */
export class RedisClientSecretStore implements ClientSecretStore {
  private readonly redis: Redis & SecretCommands;

  constructor(
    redis: Redis,
    private readonly onEvicted: () => void = () => undefined,
    private readonly now: () => number = Date.now,
    private readonly perCaller: number = MAX_SECRETS_PER_CALLER,
  ) {
    redis.defineCommand('aigwPutClientSecret', { numberOfKeys: 2, lua: PUT_SECRET_LUA });
    this.redis = redis as Redis & SecretCommands;
  }

  async put(digest: string, grant: string, ttlMs: number, owner: string): Promise<void> {
    const evicted = await this.redis.aigwPutClientSecret(
      PREFIX + digest,
      ownerKey(owner),
      digest,
      grant,
      Math.ceil(ttlMs),
      Math.floor(this.now()),
      this.perCaller,
      OWNER_INDEX_TTL_MS,
      PREFIX,
    );
    for (let count = 0; count < evicted; count++) this.onEvicted();
  }

  async get(digest: string): Promise<string | undefined> {
    return (await this.redis.get(PREFIX + digest)) ?? undefined;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
