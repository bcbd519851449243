import type Redis from 'ioredis';
import type { JsonObject } from '@aigw/contracts/data-plane';
import type { ConversationHeader, StoredConversation } from './conversation';
import type { AppendResult, ConversationStore } from './conversation-store';

// The id in braces is the cluster hash tag: a conversation's two keys share a slot, so
// one script or transaction can touch both. The header key is a hash: the header's JSON
// and the bytes the whole conversation holds (header and items), which the scripts keep
// in step with the list. v2: v1 kept the header as a plain string.
const headerKey = (id: string) => `aigw:conv:v2:{${id}}`;
const itemsKey = (id: string) => `aigw:conv:v2:{${id}}:items`;

/**
 * Appends only to a conversation that still exists and stays within the cap as a whole
 * (0 missing, 1 appended, 2 too large), and gives both keys the TTL again.
 * ARGV: TTL ms, the cap, the bytes added, the items.
 */
const APPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local held = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
if held + tonumber(ARGV[3]) > tonumber(ARGV[2]) then return 2 end
redis.call('RPUSH', KEYS[2], unpack(ARGV, 4))
redis.call('HINCRBY', KEYS[1], 'bytes', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`;

/** Replaces the header of a conversation that still exists, counting the change. ARGV: TTL ms, header. */
const SET_HEADER = `
local old = redis.call('HGET', KEYS[1], 'header')
if not old then return 0 end
redis.call('HSET', KEYS[1], 'header', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'bytes', #ARGV[2] - #old)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`;

/** Removes one item by its exact text and gives its bytes back (# is bytes in Lua). ARGV: item. */
const DELETE_ITEM = `
local removed = redis.call('LREM', KEYS[2], 1, ARGV[1])
if removed > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'bytes', -#ARGV[1])
end
return removed
`;

/**
 * Conversations in Redis, shared by every ingress replica: the header (owner, time,
 * metadata) in one key, the items in a list beside it, both with the TTL, which every
 * write renews. Redis' own memory policy bounds the rest; a conversation larger than
 * `maxConversationBytes` takes no more items.
 */
export class RedisConversationStore implements ConversationStore {
  readonly kind = 'redis';

  constructor(
    private readonly redis: Redis,
    private readonly maxConversationBytes: number,
    private readonly closeClient = true,
  ) {}

  async create(conversation: StoredConversation, ttlMs: number): Promise<boolean> {
    const { header, items } = conversation;
    const texts = items.map((item) => JSON.stringify(item));
    const headerText = JSON.stringify(header);
    const bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    if (ttlMs <= 0 || bytes + Buffer.byteLength(headerText) > this.maxConversationBytes) {
      return false;
    }
    const ttl = Math.ceil(ttlMs);
    const multi = this.redis
      .multi()
      .del(headerKey(header.id))
      .hset(
        headerKey(header.id),
        'header',
        headerText,
        'bytes',
        bytes + Buffer.byteLength(headerText),
      )
      .pexpire(headerKey(header.id), ttl);
    if (texts.length > 0)
      multi.rpush(itemsKey(header.id), ...texts).pexpire(itemsKey(header.id), ttl);
    await exec(multi);
    return true;
  }

  async header(id: string): Promise<ConversationHeader | undefined> {
    const text = await this.redis.hget(headerKey(id), 'header');
    return text === null ? undefined : (JSON.parse(text) as ConversationHeader);
  }

  async read(id: string): Promise<StoredConversation | undefined> {
    const [header, items] = (await exec(
      this.redis.multi().hget(headerKey(id), 'header').lrange(itemsKey(id), 0, -1),
    )) as [string | null, string[]];
    if (header === null) return undefined;
    return {
      header: JSON.parse(header) as ConversationHeader,
      items: items.map((text) => JSON.parse(text) as JsonObject),
    };
  }

  async append(id: string, items: readonly JsonObject[], ttlMs: number): Promise<AppendResult> {
    if (items.length === 0)
      return (await this.redis.exists(headerKey(id))) ? 'appended' : 'missing';
    const texts = items.map((item) => JSON.stringify(item));
    const added = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    const done = await this.redis.eval(
      APPEND,
      2,
      headerKey(id),
      itemsKey(id),
      String(Math.ceil(ttlMs)),
      String(this.maxConversationBytes),
      String(added),
      ...texts,
    );
    return done === 1 ? 'appended' : done === 2 ? 'too_large' : 'missing';
  }

  async setMetadata(
    id: string,
    metadata: Readonly<Record<string, string>>,
    ttlMs: number,
  ): Promise<boolean> {
    const header = await this.header(id);
    if (!header) return false;
    // The script sets it only if still there: a conversation deleted meanwhile stays deleted.
    const set = await this.redis.eval(
      SET_HEADER,
      2,
      headerKey(id),
      itemsKey(id),
      String(Math.ceil(ttlMs)),
      JSON.stringify({ ...header, metadata }),
    );
    return set === 1;
  }

  async deleteItem(id: string, itemId: string): Promise<boolean> {
    const texts = await this.redis.lrange(itemsKey(id), 0, -1);
    const text = texts.find((entry) => (JSON.parse(entry) as JsonObject).id === itemId);
    // By its exact text: item ids are unique in a conversation, so this one alone.
    if (text === undefined) return false;
    return (
      ((await this.redis.eval(DELETE_ITEM, 2, headerKey(id), itemsKey(id), text)) as number) > 0
    );
  }

  async delete(id: string): Promise<boolean> {
    const [deleted] = (await exec(this.redis.multi().del(headerKey(id)).del(itemsKey(id)))) as [
      number,
    ];
    return deleted > 0;
  }

  async close(): Promise<void> {
    if (this.closeClient) this.redis.disconnect();
  }
}

/** A transaction's results, or its first error. */
async function exec(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
  const results = (await multi.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
