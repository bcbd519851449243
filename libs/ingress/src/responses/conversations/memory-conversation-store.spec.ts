import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EvictionReason } from '../state/response-store';
import type { StoredConversation } from './conversation';
import { MemoryConversationStore } from './memory-conversation-store';

const HOUR = 3_600_000;

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
});
