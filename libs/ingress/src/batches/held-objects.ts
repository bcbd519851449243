import type Redis from 'ioredis';
import { callerOwnerKey, type CallerContext, type JsonObject } from '@aigw/contracts/data-plane';
import { BoundedLru, type BoundedLruLimits } from '../responses/bounded-lru';
import type { BatchEstimate } from './batch-estimate';
import type { HeldKind } from './gateway-ids';

/**
 * What a held record is: an OpenAI file or batch, a Gemini file, or a Gemini resumable
 * upload under way (kept until it is finalized).
 */
export type StoredKind = HeldKind | 'gemini_file' | 'gemini_upload';

/** A file or batch one backend holds, as the gateway knows it: whose it is and where. */
export interface HeldRecord {
  /** The gateway's id (see gateway-ids). */
  readonly id: string;
  readonly kind: StoredKind;
  /**
   * The owner key of the caller that made it (callerOwnerKey): what a look, list or delete
   * compares the asker's to and the owner index is kept under. Where users are identified
   * more than one way it carries the identification (`jwt:corp:sub:alice`); else, and in
   * records stored before it did, it is the user id.
   */
  readonly owner: string;
  /**
   * The caller's user id, when it is not `owner`: the id a batch's bill names (its usage
   * event's userId, analytics). Absent, `owner` is the user id (recordUserId).
   */
  readonly userId?: string;
  /** The model the client named; its route identifies callers of the object. */
  readonly model: string;
  /** The model the backend runs for it. */
  readonly upstreamModel: string;
  readonly route: string;
  readonly backend: string;
  readonly provider: string;
  readonly providerId: string;
  /** A Gemini file's URI at its backend (what its fileData parts are sent as). */
  readonly providerUri?: string;
  readonly createdAt: number;
  /** The object as the client last saw it (gateway ids, its model names), for lists. */
  readonly object: JsonObject;
  /**
   * A batch's: the tier its owner had on its route when it was created, which budgets
   * check at creation and charge its usage to, as a single call's.
   */
  readonly tier?: string;
  /** A batch's output or error file: the batch's gateway id (billing on download). */
  readonly batchId?: string;
  /**
   * A batch billed: kept with the record, which every look keeps for another TTL, where
   * the billing claim lapses a TTL after it was taken.
   */
  readonly billed?: boolean;
  /**
   * A batch whose output file the backend no longer had when billing read it: never
   * billed, and no look tries again.
   */
  readonly outputGone?: boolean;
  /**
   * A model's input file that is a PDF, no larger than a call sends as content: its pages,
   * counted at upload, which the hold of a call naming it by id prices.
   */
  readonly pdfPages?: number;
  /**
   * A Gemini file's input tokens as its backend counted them for `model` (at first use),
   * which the hold of a call naming it by `fileData.fileUri` takes (gemini-file-tokens).
   */
  readonly geminiTokens?: { readonly model: string; readonly tokens: number };
  /** A batch input file's worst case, summed over its lines at upload (a batch's hold). */
  readonly estimate?: BatchEstimate;
  /** A batch's hold on its owner's budgets, settled by its usage event or released. */
  readonly reservationId?: string;
}

/** Who a held record is kept for: its owner key, and its user id where that differs. */
export type HeldOwner = Pick<HeldRecord, 'owner' | 'userId'>;

/** The owner of what `caller` makes: its owner key, and its user id where that differs. */
export function heldOwnerOf(caller: CallerContext): HeldOwner {
  const owner = callerOwnerKey(caller);
  return owner === caller.userKey ? { owner } : { owner, userId: caller.userKey };
}

/** The user id a record's bill names: never the owner key where that is qualified. */
export function recordUserId(record: HeldOwner): string {
  return record.userId ?? record.owner;
}

/**
 * Where held records live: this process's memory (the all-in-one gateway's default) or
 * Redis (REDIS_URL), beside stored responses. Keyed by gateway id, with each owner's ids
 * listed newest first.
 */
export interface HeldObjectStore {
  readonly kind: 'memory' | 'redis';
  put(record: HeldRecord, ttlMs: number): Promise<void>;
  get(id: string): Promise<HeldRecord | undefined>;
  delete(record: HeldRecord): Promise<void>;
  /** The owner's records of a kind, newest first, at most `max`. */
  list(owner: string, kind: StoredKind, max: number): Promise<HeldRecord[]>;
  /** True for the first claim of `key` within `ttlMs` only (settling a batch once). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Gives a claim back (the work it guarded failed). */
  release(key: string): Promise<void>;
  /**
   * Holds `key` claimed for `ttlMs` from now, in one step whoever held it (a lease made
   * lasting): no other claim can slip in between, as one could between a release and a claim.
   */
  holdClaim(key: string, ttlMs: number): Promise<void>;
  /** Indexes a batch not yet billed, for the sweeper (kept `ttlMs`, as owner records). */
  addPending(id: string, ttlMs: number): Promise<void>;
  /** At most `max` pending batch ids, the least recently checked first. */
  pending(max: number): Promise<string[]>;
  /** Puts a pending batch at the back of the queue (it was just checked). */
  touchPending(id: string): Promise<void>;
  removePending(id: string): Promise<void>;
  close(): Promise<void>;
}

/** Oldest ids past this many per owner and kind are no longer listed. */
export const MAX_LISTED = 1_000;
/** The pending index in Redis keeps at most this many batches (the least recently checked go). */
export const MAX_PENDING = 100_000;

interface MemoryEntry {
  bytes: number;
  expiresAt: number;
  record: HeldRecord;
}

/** Held records in this process, bounded like stored responses (LRU by count and bytes). */
export class MemoryHeldObjectStore implements HeldObjectStore {
  readonly kind = 'memory';
  private readonly records: BoundedLru<MemoryEntry>;
  private readonly owners = new Map<string, string[]>();
  private readonly claims = new Map<string, number>();
  /** Pending batch ids (Map order: least recently checked first) and when each expires. */
  private readonly pendingIds = new Map<string, number>();

  constructor(
    private readonly limits: BoundedLruLimits,
    onEvicted: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.records = new BoundedLru<MemoryEntry>(limits, onEvicted, now);
  }

  async put(record: HeldRecord, ttlMs: number): Promise<void> {
    const bytes = Buffer.byteLength(JSON.stringify(record));
    const fresh = !this.records.remove(record.id);
    this.records.add(record.id, { bytes, expiresAt: this.now() + ttlMs, record });
    if (!fresh) return;
    const key = `${record.kind}\n${record.owner}`;
    const ids = this.owners.get(key) ?? [];
    ids.push(record.id);
    if (ids.length > MAX_LISTED) ids.shift();
    this.owners.set(key, ids);
  }

  async get(id: string): Promise<HeldRecord | undefined> {
    return this.records.live(id)?.record;
  }

  async delete(record: HeldRecord): Promise<void> {
    this.records.remove(record.id);
    const ids = this.owners.get(`${record.kind}\n${record.owner}`);
    const at = ids?.indexOf(record.id) ?? -1;
    if (at >= 0) ids!.splice(at, 1);
  }

  async list(owner: string, kind: StoredKind, max: number): Promise<HeldRecord[]> {
    const key = `${kind}\n${owner}`;
    const ids = this.owners.get(key) ?? [];
    // Evicted or expired ids leave the index as they are met. Each is read once: one
    // expiring between two reads would be found, then not.
    const live: HeldRecord[] = [];
    for (const id of ids) {
      const entry = this.records.live(id);
      if (entry) live.push(entry.record);
    }
    if (live.length === 0) this.owners.delete(key);
    else
      this.owners.set(
        key,
        live.map((record) => record.id),
      );
    return live.slice(-max).reverse();
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const until = this.claims.get(key);
    if (until !== undefined && until > this.now()) return false;
    await this.holdClaim(key, ttlMs);
    return true;
  }

  async release(key: string): Promise<void> {
    this.claims.delete(key);
  }

  async holdClaim(key: string, ttlMs: number): Promise<void> {
    this.claims.delete(key);
    this.claims.set(key, this.now() + ttlMs);
    // Oldest first (Map order): a bounded record of settled batches.
    for (const [oldest] of this.claims) {
      if (this.claims.size <= this.limits.maxEntries) break;
      this.claims.delete(oldest);
    }
  }

  async addPending(id: string, ttlMs: number): Promise<void> {
    if (this.pendingIds.has(id)) return;
    this.pendingIds.set(id, this.now() + ttlMs);
    // Bounded like the records themselves: the least recently checked go first.
    for (const [oldest] of this.pendingIds) {
      if (this.pendingIds.size <= this.limits.maxEntries) break;
      this.pendingIds.delete(oldest);
    }
  }

  async pending(max: number): Promise<string[]> {
    const now = this.now();
    const ids: string[] = [];
    for (const [id, expiresAt] of this.pendingIds) {
      if (ids.length >= max) break;
      if (expiresAt <= now) this.pendingIds.delete(id);
      else ids.push(id);
    }
    return ids;
  }

  async touchPending(id: string): Promise<void> {
    const expiresAt = this.pendingIds.get(id);
    if (expiresAt === undefined) return;
    this.pendingIds.delete(id);
    this.pendingIds.set(id, expiresAt);
  }

  async removePending(id: string): Promise<void> {
    this.pendingIds.delete(id);
  }

  async close(): Promise<void> {
    this.records.clear();
    this.owners.clear();
    this.claims.clear();
    this.pendingIds.clear();
  }
}

const PREFIX = 'aigw:held:v1:';

/** Sets a key's TTL (ms) unless it already has a longer one (a key just made has none: -1). */
const EXTEND_TTL_LUA = `
local ttl = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
`;

/**
 * Held records in Redis, shared by every replica: one key per record with its TTL, a
 * sorted set per owner and kind (by creation time) for lists, a key per claim, and one
 * sorted set of batches not yet billed (by when each was last checked) for the sweeper.
 */
export class RedisHeldObjectStore implements HeldObjectStore {
  readonly kind = 'redis';

  constructor(
    private readonly redis: Redis,
    private readonly closeClient = false,
  ) {}

  async put(record: HeldRecord, ttlMs: number): Promise<void> {
    const ttl = Math.ceil(ttlMs);
    const index = ownerKey(record.owner, record.kind);
    await this.redis
      .multi()
      .set(PREFIX + record.id, JSON.stringify(record), 'PX', ttl)
      .zadd(index, record.createdAt, record.id)
      // Bounded as in memory: an owner who keeps writing keeps the index alive, and ids
      // past the newest MAX_LISTED are never listed (nor met, and dropped, by a list).
      .zremrangebyrank(index, 0, -(MAX_LISTED + 1))
      // Only lengthened: a record kept shorter (a file its backend deletes soon) must not
      // take the owner's longer-lived records out of their list with it.
      .eval(EXTEND_TTL_LUA, 1, index, ttl)
      .exec();
  }

  async get(id: string): Promise<HeldRecord | undefined> {
    const text = await this.redis.get(PREFIX + id);
    return text === null ? undefined : (JSON.parse(text) as HeldRecord);
  }

  async delete(record: HeldRecord): Promise<void> {
    await this.redis
      .multi()
      .del(PREFIX + record.id)
      .zrem(ownerKey(record.owner, record.kind), record.id)
      .exec();
  }

  async list(owner: string, kind: StoredKind, max: number): Promise<HeldRecord[]> {
    const index = ownerKey(owner, kind);
    const ids = await this.redis.zrevrange(index, 0, Math.min(max, MAX_LISTED) - 1);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    const gone = ids.filter((_, at) => records[at] === undefined);
    if (gone.length > 0) await this.redis.zrem(index, ...gone);
    return records.filter((record): record is HeldRecord => record !== undefined);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const set = await this.redis.set(`${PREFIX}claim:${key}`, '1', 'PX', Math.ceil(ttlMs), 'NX');
    return set === 'OK';
  }

  async release(key: string): Promise<void> {
    await this.redis.del(`${PREFIX}claim:${key}`);
  }

  async holdClaim(key: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${PREFIX}claim:${key}`, '1', 'PX', Math.ceil(ttlMs));
  }

  async addPending(id: string, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .zadd(PENDING, 'NX', Date.now(), id)
      .pexpire(PENDING, Math.ceil(ttlMs))
      // Bounded: past MAX_PENDING, the least recently checked leave the index.
      .zremrangebyrank(PENDING, 0, -(MAX_PENDING + 1))
      .exec();
  }

  async pending(max: number): Promise<string[]> {
    return max > 0 ? await this.redis.zrange(PENDING, 0, String(max - 1)) : [];
  }

  async touchPending(id: string): Promise<void> {
    await this.redis.zadd(PENDING, 'XX', Date.now(), id);
  }

  async removePending(id: string): Promise<void> {
    await this.redis.zrem(PENDING, id);
  }

  async close(): Promise<void> {
    if (this.closeClient) this.redis.disconnect();
  }
}

const PENDING = `${PREFIX}pending`;

function ownerKey(owner: string, kind: StoredKind): string {
  return `${PREFIX}owner:${kind}:${owner}`;
}
