import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { createRedisClient } from '@aigw/infra';
import { startRedis, timelyRun, type RealService } from '@aigw/testing';
import type { StoredConversation } from './conversation';
import { ConversationState } from './conversation-state';
import { RedisConversationStore } from './redis-conversation-store';

const message = (id: string, text: string) => ({
  type: 'message',
  id,
  role: 'user',
  content: text,
});

describe('conversations in real Redis', () => {
  let redis: RealService;
  let client: Redis;
  let store: RedisConversationStore;
  const id = () => `conv_${randomUUID().replace(/-/g, '')}`;
  const conversation = (convId: string, owner = 'alice'): StoredConversation => ({
    header: { id: convId, owner, created_at: 1, metadata: { a: '1' } },
    items: [message('m1', 'one')],
  });

  before(async () => {
    redis = await startRedis();
    client = createRedisClient(redis.url);
    store = new RedisConversationStore(client, 10_000);
  });
  after(async () => {
    await store.close();
    await redis.stop();
  });

  it('keeps items in order, replaces metadata, deletes one item and the whole', async () => {
    const conv = id();
    assert.equal(await store.create(conversation(conv), 60_000), true);
    assert.equal(
      await store.append(conv, [message('m2', 'two'), message('m3', 'three')], 60_000),
      'appended',
    );
    assert.deepEqual(
      (await store.read(conv))?.items.map((item) => item.id),
      ['m1', 'm2', 'm3'],
    );
    assert.equal(await store.setMetadata(conv, { b: '2' }, 60_000), true);
    assert.deepEqual((await store.header(conv))?.metadata, { b: '2' });
    assert.equal(await store.deleteItem(conv, 'm2'), true);
    assert.equal(await store.deleteItem(conv, 'm2'), false);
    assert.deepEqual(
      (await store.read(conv))?.items.map((item) => item.id),
      ['m1', 'm3'],
    );
    assert.equal(await store.delete(conv), true);
    assert.equal(await store.read(conv), undefined);
    assert.equal(await client.exists(`aigw:conv:v2:{${conv}}:items`), 0);
    // Gone: nothing appended, no metadata set, and no stray item list left behind.
    assert.equal(await store.append(conv, [message('m4', 'late')], 60_000), 'missing');
    assert.equal(await store.setMetadata(conv, {}, 60_000), false);
    assert.equal(await client.exists(`aigw:conv:v2:{${conv}}`, `aigw:conv:v2:{${conv}}:items`), 0);
  });

  it('expires with its TTL, renewed by each write, and refuses more than its size cap', async () => {
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // The reads come 400 ms after the creation, past its 300 ms TTL. They count only when
    // the append landed within the creation's TTL and they within the append's: a paused
    // run is tried again.
    const { conv, header, itemsTtl } = await timelyRun('writes within the TTL', async () => {
      const conv = id();
      const created = performance.now();
      await store.create(conversation(conv), 300);
      await pause(200);
      const appending = performance.now();
      await store.append(conv, [message('m2', 'two')], 300);
      const appended = performance.now();
      await pause(200);
      const header = await store.header(conv);
      const itemsTtl = await client.pttl(`aigw:conv:v2:{${conv}}:items`);
      const inTime = appended - created < 300 && performance.now() - appending < 300;
      return inTime ? { conv, header, itemsTtl } : undefined;
    });
    assert.ok(header, 'the append renewed it');
    assert.ok(itemsTtl > 0);
    await pause(250);
    assert.equal(await store.read(conv), undefined);
    assert.equal(await client.exists(`aigw:conv:v2:{${conv}}:items`), 0);

    const big = id();
    assert.equal(await store.create(conversation(big), 60_000), true);
    assert.equal(
      await store.append(big, [message('huge', 'x'.repeat(10_000))], 60_000),
      'too_large',
    );
    const huge: StoredConversation = {
      ...conversation(id()),
      items: [message('h', 'x'.repeat(10_000))],
    };
    assert.equal(await store.create(huge, 60_000), false);
  });

  it('refuses the turn that would take the whole conversation past its cap, atomically', async () => {
    const conv = id();
    assert.equal(await store.create(conversation(conv), 60_000), true);
    assert.equal(await store.append(conv, [message('a', 'x'.repeat(6_000))], 60_000), 'appended');
    // Each turn alone is under the 10 000 bytes; together they are not.
    assert.equal(await store.append(conv, [message('b', 'x'.repeat(6_000))], 60_000), 'too_large');
    const racing = await Promise.all(
      ['c', 'd', 'e'].map((item) => store.append(conv, [message(item, 'x'.repeat(1_500))], 60_000)),
    );
    assert.deepEqual(racing.filter((result) => result === 'appended').length, 2);
    assert.equal(await store.setMetadata(conv, { long: 'y'.repeat(400) }, 60_000), true);
    assert.equal(await store.append(conv, [message('f', 'x'.repeat(500))], 60_000), 'too_large');
    // Deleting an item gives its bytes back.
    assert.equal(await store.deleteItem(conv, 'a'), true);
    assert.equal(await store.append(conv, [message('g', 'x'.repeat(5_000))], 60_000), 'appended');
    const { header, items } = (await store.read(conv))!;
    const total = [header, ...items].reduce(
      (sum: number, part) => sum + Buffer.byteLength(JSON.stringify(part)),
      0,
    );
    assert.ok(total <= 10_000, `${total} bytes held`);
  });

  it('keeps callers apart and continues a conversation across processes sharing the Redis', async () => {
    const writer = new ConversationState({ store, ttlMs: 60_000, maxBytes: 10_000 });
    const other = new RedisConversationStore(createRedisClient(redis.url), 10_000);
    const reader = new ConversationState({ store: other, ttlMs: 60_000, maxBytes: 10_000 });
    try {
      const header = await writer.create('alice', {}, [message('m1', 'hello')]);
      assert.equal(await reader.appendTurn('alice', header.id, [message('m1', 'again')]), true);
      const items = await writer.forResponse('alice', header.id, 0);
      assert.deepEqual(
        items.map((item) => item.content),
        ['hello', 'again'],
      );
      assert.notEqual(items[1].id, 'm1', 'an id already held gets a new one');
      await assert.rejects(reader.read('bob', header.id), /not found/);
      await assert.rejects(reader.delete('bob', header.id), /not found/);
      assert.ok(await writer.header('alice', header.id));
    } finally {
      await other.close();
    }
  });
});
