import type Redis from 'ioredis';
import { defineLuaScript, luaReply } from '@aigw/infra';
import type { CacheEvicted, ResponseCacheStore } from './domain/response-cache-store';
import { redisSilence } from './redis-silence';

// Entries and a namespace's bookkeeping share one hash tag, so a cluster keeps them in
// one slot and the script may touch them together.
const PREFIX = 'aigw:rc:v1:';
const entryKey = (namespace: string, key: string) => `${PREFIX}{${namespace}}:e:${key}`;
const metaKeys = (namespace: string) =>
  [
    `${PREFIX}{${namespace}}:expiry`, // zset: entry -> expiry time (ms)
    `${PREFIX}{${namespace}}:sizes`, // hash: entry -> bytes
    `${PREFIX}{${namespace}}:bytes`, // counter: bytes held by the live entries
  ] as const;

/**
 * Stores an entry within the namespace's byte budget, atomically: forgets entries that
 * expired, replaces the key's old value, evicts the entries closest to expiry until the
 * new one fits, then writes it with its TTL. Returns how many live entries it evicted, or
 * -1 (nothing written) when it exceeds the budget.
 * "Now" is Redis' own clock (`TIME`), the one its TTLs run on: a replica whose clock runs
 * ahead would forget entries that still live, under-stating use. (`TIME` before writes
 * needs script effects replication: the default since Redis 5, the only mode since 7.)
 */
const STORE = defineLuaScript<
  [entry: string, expiry: string, sizes: string, bytes: string],
  [member: string, value: string, ttlMs: number, maxBytes: number, entryPrefix: string],
  number
>({
  name: 'response-cache-store',
  keyCount: 4,
  decode: luaReply.integer,
  source: `
local member, value = ARGV[1], ARGV[2]
local ttl, max, prefix = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local size = string.len(value)
if max > 0 and size > max then return -1 end
local used = tonumber(redis.call('GET', KEYS[4]) or '0')
local function forget(m, drop)
  local s = tonumber(redis.call('HGET', KEYS[3], m) or '0')
  redis.call('ZREM', KEYS[2], m)
  redis.call('HDEL', KEYS[3], m)
  if drop then redis.call('DEL', prefix .. m) end
  used = used - s
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 500)) do
  forget(m, false)
end
if redis.call('HEXISTS', KEYS[3], member) == 1 then forget(member, false) end
local evicted = 0
if max > 0 then
  while used + size > max and evicted < 10000 do
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
    if #oldest == 0 then used = 0 break end
    forget(oldest[1], true)
    evicted = evicted + 1
  end
end
if used < 0 then used = 0 end
redis.call('SET', KEYS[1], value, 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, member)
redis.call('HSET', KEYS[3], member, size)
redis.call('SET', KEYS[4], used + size)
for i = 2, 4 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl + 1000) end
end
return evicted
`,
});

/**
 * The cache in Redis, shared by every replica. `maxSize` is the gateway's own
 * accounting, not Redis' `maxmemory`: per namespace (route), the serialized size of the
 * live entries is kept in a counter beside an expiry index, and a write evicts the entries
 * closest to expiry until it fits. Redis' own per-key overhead is not counted, and an
 * entry Redis drops by itself (its TTL, or a `maxmemory` policy) is subtracted at the next
 * write's sweep, which reads Redis' clock (whatever the replicas' clocks say): the counter
 * can only over-state use, so the budget is never exceeded.
 */
export class RedisResponseCacheStore implements ResponseCacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly closeClient = true,
    private readonly evicted: CacheEvicted = () => undefined,
  ) {}

  /** A lookup fails at once while Redis is silent (RedisSilence): a miss, not a wait. */
  async get(namespace: string, key: string): Promise<string | undefined> {
    const entry = entryKey(namespace, key);
    return (await redisSilence(this.redis).run(() => this.redis.get(entry))) ?? undefined;
  }

  async set(
    namespace: string,
    key: string,
    value: string,
    ttlMs: number,
    maxBytes?: number,
  ): Promise<boolean> {
    // A maxSize of 0 holds nothing (the script reads 0 as no budget at all).
    if (ttlMs <= 0 || maxBytes === 0) return false;
    if (maxBytes === undefined) {
      // No budget to keep: no bookkeeping either, Redis' TTL does the rest.
      await this.redis.set(entryKey(namespace, key), value, 'PX', Math.ceil(ttlMs));
      return true;
    }
    const [expiry, sizes, bytes] = metaKeys(namespace);
    const evicted = await STORE.run(
      this.redis,
      [entryKey(namespace, key), expiry, sizes, bytes],
      [key, value, Math.ceil(ttlMs), maxBytes, entryKey(namespace, '')],
    );
    if (evicted > 0) this.evicted('max_size', evicted);
    return evicted >= 0;
  }

  /** Bytes the namespace's counter holds, for tests and diagnostics. */
  async bytesIn(namespace: string): Promise<number> {
    return Number((await this.redis.get(metaKeys(namespace)[2])) ?? 0);
  }

  async close(): Promise<void> {
    if (this.closeClient) this.redis.disconnect();
  }
}
