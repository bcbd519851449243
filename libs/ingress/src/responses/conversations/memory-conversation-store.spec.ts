import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { EvictionReason } from '../state/response-store';
import type { StoredConversation } from './conversation';
import { MemoryConversationStore } from './memory-conversation-store';

const HOUR = 3_600_000;

setFlagsFromString('--expose-gc'); // for the heap measures below

function conversation(id: string, text = 'hello'): StoredConversation {
  return {
    header: { id, owner: 'alice', created_at: 1, metadata: {} },
    items: [{ type: 'message', id: `msg_${id}`, role: 'user', content: text }],
  };
}

function storeWith(limits: { maxEntries?: number; maxBytes?: number } = {}) {
  let now = 1_000;
  const evicted: EvictionReason[] = [];
  const store = new MemoryConversationStore(
    { maxEntries: limits.maxEntries ?? 100, maxBytes: limits.maxBytes ?? 1_000_000 },
    (reason) => evicted.push(reason),
    () => now,
  );
  return { store, evicted, advance: (ms: number) => (now += ms) };
}

describe('in-process conversation store', () => {
  it('gives back a copy of what it holds, and appends in order', async () => {
    const { store } = storeWith();
    const kept = conversation('conv_a');
    assert.equal(await store.create(kept, HOUR), true);
    assert.equal(
      await store.append(
        'conv_a',
        [{ type: 'message', id: 'm2', role: 'user', content: 'two' }],
        HOUR,
      ),
      'appended',
    );
    const read = await store.read('conv_a');
    assert.deepEqual(
      read?.items.map((item) => item.id),
      ['msg_conv_a', 'm2'],
    );
    const first = read?.items[0];
    assert.ok(first);
    first.content = 'changed';
    assert.equal((await store.read('conv_a'))?.items[0].content, 'hello');
    assert.equal(await store.append('conv_nope', [], HOUR), 'missing');
  });

  it('forgets a conversation its TTL after the last write', async () => {
    const { store, evicted, advance } = storeWith();
    await store.create(conversation('conv_a'), HOUR);
    advance(HOUR - 1);
    await store.append('conv_a', [{ type: 'message', id: 'm2', role: 'user', content: 'x' }], HOUR);
    advance(HOUR - 1);
    assert.ok(await store.header('conv_a'), 'the append renewed it');
    advance(1);
    assert.equal(await store.read('conv_a'), undefined);
    assert.deepEqual(evicted, ['expired']);
    assert.deepEqual(store.size(), { entries: 0, bytes: 0 });
  });

  it('keeps within max entries and bytes, least recently used first, and refuses one too large', async () => {
    const { store, evicted } = storeWith({ maxEntries: 2 });
    await store.create(conversation('conv_a'), HOUR);
    await store.create(conversation('conv_b'), HOUR);
    await store.header('conv_a');
    await store.create(conversation('conv_c'), HOUR);
    assert.equal(await store.header('conv_b'), undefined);
    assert.ok((await store.header('conv_a')) && (await store.header('conv_c')));
    assert.deepEqual(evicted, ['capacity']);

    const one = storeWith().store;
    await one.create(conversation('conv_x'), HOUR);
    const size = one.size().bytes;
    const small = storeWith({ maxBytes: size * 2 + 10 });
    await small.store.create(conversation('conv_a'), HOUR);
    await small.store.create(conversation('conv_b'), HOUR);
    // Growing b past the budget evicts a, never b itself.
    assert.equal(
      await small.store.append(
        'conv_b',
        [{ type: 'message', id: 'm', role: 'user', content: 'y'.repeat(5) }],
        HOUR,
      ),
      'appended',
    );
    assert.equal(await small.store.header('conv_a'), undefined);
    assert.ok(small.store.size().bytes <= size * 2 + 10);
    assert.equal(
      await small.store.append(
        'conv_b',
        [{ type: 'message', id: 'big', role: 'user', content: 'z'.repeat(size * 3) }],
        HOUR,
      ),
      'too_large',
    );
    assert.equal(
      await small.store.create(conversation('conv_big', 'z'.repeat(size * 3)), HOUR),
      false,
    );
  });

  it('refuses the turn that would take one conversation past its own cap, as the Redis store does', async () => {
    const store = new MemoryConversationStore(
      { maxEntries: 100, maxBytes: 1_000_000, maxConversationBytes: 10_000 },
      () => undefined,
    );
    const turn = (id: string, size: number) => [
      { type: 'message', id, role: 'user', content: 'x'.repeat(size) },
    ];
    assert.equal(await store.create(conversation('conv_a'), HOUR), true);
    assert.equal(await store.append('conv_a', turn('a', 6_000), HOUR), 'appended');
    // Each turn alone is under the 10 000 bytes; together they are not.
    assert.equal(await store.append('conv_a', turn('b', 6_000), HOUR), 'too_large');
    assert.equal(await store.create(conversation('conv_b', 'x'.repeat(10_000)), HOUR), false);
    assert.ok(store.size().bytes <= 10_000);
  });

  it('replaces metadata, deletes one item and whole conversations', async () => {
    const { store } = storeWith();
    await store.create(conversation('conv_a'), HOUR);
    await store.append('conv_a', [{ type: 'message', id: 'm2', role: 'user', content: 'x' }], HOUR);
    assert.equal(await store.setMetadata('conv_a', { k: 'v' }, HOUR), true);
    assert.deepEqual((await store.header('conv_a'))?.metadata, { k: 'v' });
    assert.equal(await store.deleteItem('conv_a', 'msg_conv_a'), true);
    assert.equal(await store.deleteItem('conv_a', 'msg_conv_a'), false);
    assert.deepEqual(
      (await store.read('conv_a'))?.items.map((item) => item.id),
      ['m2'],
    );
    assert.equal(await store.delete('conv_a'), true);
    assert.equal(await store.delete('conv_a'), false);
    assert.equal(await store.setMetadata('conv_a', {}, HOUR), false);
    assert.deepEqual(store.size(), { entries: 0, bytes: 0 });
  });

  /** How much the heap grew holding conversations of `items` items `text(i)` within `bound`. */
  async function heapGrowth(bound: number, count: number, items: number, text: () => string) {
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const store = new MemoryConversationStore({ maxEntries: 1_000_000, maxBytes: bound });
    const hex = () => randomBytes(24).toString('hex');
    for (let i = 0; i < count; i++) {
      const id = `conv_${hex()}`;
      await store.create(conversation(id), HOUR);
      // Parsed, as a request's items are: no string shared between items.
      const turn = Array.from({ length: items }, () => ({
        type: 'message',
        id: `msg_${hex()}`,
        role: 'user',
        content: JSON.parse(JSON.stringify(text())) as string,
      }));
      await store.append(id, turn, HOUR);
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    await store.close();
    return grown;
  }

  it('counts items with a character past U+00FF at the two bytes a character V8 holds them in', async () => {
    // One em dash in each 2000-character item: counted in UTF-8, a 16 MiB bound held 33 MiB.
    const bound = 16 * 1024 * 1024;
    const grown = await heapGrowth(bound, 5_000, 2, () => `${'x'.repeat(2_000)}\u2014`);
    assert.ok(
      grown < 1.15 * bound,
      `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB for a 16 MiB bound`,
    );
  });

  it('counts each conversation’s and item’s bookkeeping, not their JSON alone', async () => {
    // Short items (a 20-character message, ~110 bytes of JSON): counted by their JSON alone,
    // an 8 MiB bound held 13.6 MiB here, now 9.3 (8.0 in a plain process: node:test adds).
    const bound = 8 * 1024 * 1024;
    const grown = await heapGrowth(bound, 8_000, 10, () => 'y'.repeat(20));
    assert.ok(
      grown < 1.3 * bound,
      `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB for an 8 MiB bound`,
    );
  });
});
