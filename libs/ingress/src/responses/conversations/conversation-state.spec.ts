import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { inputItemsPage } from '../stored-responses-routes';
import { conversationItems } from './conversation';
import { ConversationState, type ConversationEvent } from './conversation-state';
import type { ConversationStore } from './conversation-store';
import { MemoryConversationStore } from './memory-conversation-store';

function stateWith(maxBytes = 1_000_000) {
  const store = new MemoryConversationStore({ maxEntries: 100, maxBytes: 10_000_000 });
  const events: ConversationEvent[] = [];
  const state = new ConversationState({
    store,
    ttlMs: 60_000,
    maxBytes,
    onEvent: (event) => events.push(event),
  });
  return { store, state, events };
}

const said = (text: string, role = 'user'): JsonObject => ({ role, content: text });
const texts = (items: readonly JsonObject[]) =>
  items.map((item) => ((item.content as JsonObject[])[0] as { text: string }).text);

function notFound(param?: string) {
  return (error: unknown) =>
    error instanceof DataPlaneError &&
    error.httpStatus === 404 &&
    error.param === param &&
    /Conversation with id 'conv_\w+' not found/.test(error.message);
}

describe('conversations, as each caller sees them', () => {
  it("finds which of a caller's owner keys holds a conversation, else a 404 counted once", async () => {
    const { state, events } = stateWith();
    const { id } = await state.create('jwt:corp:sub:alice', {}, []);
    const keys = ['header:x-user-id:alice', 'jwt:corp:sub:alice'];
    assert.equal(await state.ownerAmong(keys, id), 'jwt:corp:sub:alice');
    // A header's keys alone never reach a JWT user's conversation.
    await assert.rejects(state.ownerAmong(['header:x-user-id:alice', 'anonymous'], id), notFound());
    await assert.rejects(
      state.ownerAmong(keys, 'conv_missing', 'conversation'),
      notFound('conversation'),
    );
    assert.deepEqual(events, ['conversation_created', 'conversation_miss', 'conversation_miss']);
    // One key: the call made with it checks the owner, so nothing is read or counted here.
    assert.equal(await state.ownerAmong(['bob'], id), 'bob');
    assert.equal(events.length, 3);
  });

  it('keeps items in the order added, each a typed, completed item with a unique id', async () => {
    const { state, events } = stateWith();
    const header = await state.create(
      'alice',
      { topic: 'demo' },
      conversationItems([said('one'), said('two', 'assistant')], false),
    );
    assert.match(header.id, /^conv_[0-9a-f]{48}$/);
    assert.equal(header.owner, 'alice');
    assert.deepEqual(header.metadata, { topic: 'demo' });
    const added = await state.add('alice', header.id, conversationItems([said('three')], true));
    const { items } = await state.read('alice', header.id);
    assert.deepEqual(texts(items), ['one', 'two', 'three']);
    assert.deepEqual(items[2], added[0]);
    assert.equal(new Set(items.map((item) => item.id)).size, 3);
    for (const item of items) {
      assert.equal(item.type, 'message');
      assert.equal(item.status, 'completed');
      assert.match(item.id as string, /^msg_[0-9a-f]+_in\d$/);
    }
    assert.equal((items[1].content as JsonObject[])[0].type, 'output_text');
    assert.deepEqual(events, [
      'conversation_created',
      'conversation_hit',
      'conversation_items_added',
      'conversation_hit',
    ]);
  });

  it('pages items with limit, order and after as the SDK walks them', async () => {
    const { state } = stateWith();
    const words = ['a', 'b', 'c', 'd', 'e'];
    const header = await state.create(
      'alice',
      {},
      conversationItems(
        words.map((w) => said(w)),
        false,
      ),
    );
    const { items } = await state.read('alice', header.id);
    const first = inputItemsPage(items, { limit: '2' }, 'conversation');
    assert.deepEqual(texts(first.data as JsonObject[]), ['e', 'd']);
    assert.equal(first.has_more, true);
    const second = inputItemsPage(
      items,
      { limit: '2', after: first.last_id as string },
      'conversation',
    );
    assert.deepEqual(texts(second.data as JsonObject[]), ['c', 'b']);
    const asc = inputItemsPage(
      items,
      { order: 'asc', after: items[3].id as string },
      'conversation',
    );
    assert.deepEqual(texts(asc.data as JsonObject[]), ['e']);
    assert.equal(asc.has_more, false);
    assert.throws(
      () => inputItemsPage(items, { after: 'msg_nope' }, 'conversation'),
      /no item 'msg_nope' in this conversation/,
    );
  });

  it("is a 404 for another caller's conversation, exactly as for one never created", async () => {
    const { state } = stateWith();
    const header = await state.create('alice', {}, conversationItems([said('secret')], false));
    await assert.rejects(state.header('bob', header.id), notFound());
    await assert.rejects(state.header('bob', 'conv_nope'), notFound());
    await assert.rejects(state.forResponse('bob', header.id, 0), notFound('conversation'));
    await assert.rejects(
      state.add('bob', header.id, conversationItems([said('x')], true)),
      notFound(),
    );
    await assert.rejects(state.setMetadata('bob', header.id, { a: 'b' }), notFound());
    await assert.rejects(state.deleteItem('bob', header.id, 'whatever'), notFound());
    await assert.rejects(state.delete('bob', header.id), notFound());
    assert.equal(await state.appendTurn('bob', header.id, [said('x')]), false);
    // Alice's is untouched.
    const { items, header: kept } = await state.read('alice', header.id);
    assert.deepEqual(texts(items), ['secret']);
    assert.deepEqual(kept.metadata, {});
  });

  it('updates metadata, deletes an item, then the conversation', async () => {
    const { state } = stateWith();
    const header = await state.create(
      'alice',
      { a: '1' },
      conversationItems([said('x'), said('y')], false),
    );
    const updated = await state.setMetadata('alice', header.id, { b: '2' });
    assert.deepEqual(updated.metadata, { b: '2' });
    assert.deepEqual((await state.header('alice', header.id)).metadata, { b: '2' });
    const { items } = await state.read('alice', header.id);
    await state.deleteItem('alice', header.id, items[0].id as string);
    assert.deepEqual(texts((await state.read('alice', header.id)).items), ['y']);
    await assert.rejects(
      state.deleteItem('alice', header.id, items[0].id as string),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 404,
    );
    await assert.rejects(
      state.item('alice', header.id, 'msg_nope'),
      /not found in this conversation/,
    );
    await state.delete('alice', header.id);
    await assert.rejects(state.header('alice', header.id), notFound());
  });

  it('appends a turn with ids made unique, and refuses what would pass the size cap', async () => {
    const { state, events } = stateWith(400);
    const header = await state.create('alice', {}, [
      { type: 'message', id: 'dup', role: 'user', content: 'a' },
    ]);
    assert.equal(
      await state.appendTurn('alice', header.id, [
        { type: 'message', id: 'dup', role: 'user', content: 'b' },
      ]),
      true,
    );
    const { items } = await state.read('alice', header.id);
    assert.equal(items[0].id, 'dup');
    assert.notEqual(items[1].id, 'dup');
    await assert.rejects(
      state.forResponse('alice', header.id, 400),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'conversation' &&
        /more than the 400 bytes/.test(error.message),
    );
    await assert.rejects(
      state.add('alice', header.id, conversationItems([said('x'.repeat(400))], true)),
      (error: unknown) => error instanceof DataPlaneError && error.param === 'items',
    );
    assert.ok(events.includes('conversation_too_large'));
    // A deleted conversation takes no turn.
    await state.delete('alice', header.id);
    assert.equal(await state.appendTurn('alice', header.id, [said('late')]), false);
    assert.equal(events.at(-1), 'conversation_append_failed');
  });

  it('answers a 503 to retry, not a 500, when the store cannot be reached (Redis away)', async () => {
    const fail = async (): Promise<never> => {
      throw new Error('Command timed out');
    };
    const away: ConversationStore = {
      kind: 'redis',
      create: fail,
      header: fail,
      read: fail,
      append: fail,
      setMetadata: fail,
      deleteItem: fail,
      delete: fail,
      close: async () => undefined,
    };
    const events: ConversationEvent[] = [];
    const errors: string[] = [];
    const state = new ConversationState({
      store: away,
      ttlMs: 60_000,
      maxBytes: 1_000_000,
      onEvent: (event) => events.push(event),
      onError: (what) => errors.push(what),
    });
    const unavailable = (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 503);
      const body = error.toOpenAiBody().error;
      assert.equal(body.type, 'service_unavailable');
      assert.equal(body.code, 'conversation_store_unavailable');
      assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 0);
      return true;
    };
    const id = 'conv_' + '0'.repeat(48);
    await assert.rejects(state.create('alice', {}, []), unavailable);
    await assert.rejects(state.header('alice', id), unavailable);
    await assert.rejects(state.forResponse('alice', id, 10), unavailable);
    await assert.rejects(state.delete('alice', id), unavailable);
    assert.deepEqual(events, Array(4).fill('conversation_store_unavailable'));
    assert.equal(errors.length, 4);
    // A completed turn's append stays reported, never thrown: the answer is on its way.
    assert.equal(await state.appendTurn('alice', id, [said('late')]), false);
    assert.equal(events.at(-1), 'conversation_append_failed');
  });
});
