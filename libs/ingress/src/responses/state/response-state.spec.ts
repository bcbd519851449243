import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { MemoryResponseStore } from './memory-response-store';
import { ResponseState, type ResponseStateEvent } from './response-state';
import type { ResponseStore } from './response-store';
import { storedRecord } from './test-records';

function stateWith(options: { maxChainDepth?: number; maxChainBytes?: number } = {}) {
  const events: ResponseStateEvent[] = [];
  const store = new MemoryResponseStore({ maxEntries: 1_000, maxBytes: 10_000_000 });
  const state = new ResponseState({
    store,
    ttlMs: 60_000,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { state, store, events };
}

function notFound(param: string | undefined, id = /resp_/) {
  return (error: unknown) =>
    error instanceof DataPlaneError &&
    error.httpStatus === 404 &&
    error.param === param &&
    error.toOpenAiBody().error.type === 'invalid_request_error' &&
    id.test(error.message);
}

/**
 * OpenAI's answer to a `previous_response_id` it cannot continue: a 400 (not a 404) with
 * the code clients test for before sending the whole conversation again.
 */
function previousNotFound(id = /resp_/) {
  return (error: unknown) =>
    error instanceof DataPlaneError &&
    error.httpStatus === 400 &&
    error.param === 'previous_response_id' &&
    error.toOpenAiBody().error.type === 'invalid_request_error' &&
    error.toOpenAiBody().error.code === 'previous_response_not_found' &&
    id.test(error.message);
}

/** A chain a → b → c stored by `owner`. */
async function chainOf(state: ResponseState, owner: string): Promise<void> {
  await state.save(storedRecord('resp_a', owner));
  await state.save(storedRecord('resp_b', owner), ['resp_a']);
  await state.save(storedRecord('resp_c', owner), ['resp_a', 'resp_b']);
}

describe('stored responses, as each caller sees them', () => {
  it("brings a conversation back oldest first: each turn's input, then its output", async () => {
    const { state } = stateWith();
    await chainOf(state, 'alice');
    const { items, ids } = await state.history(() => 'alice', 'resp_c');
    assert.deepEqual(ids, ['resp_a', 'resp_b', 'resp_c']);
    assert.deepEqual(
      items.map((item) => item.id),
      ['in_resp_a', 'msg_resp_a', 'in_resp_b', 'msg_resp_b', 'in_resp_c', 'msg_resp_c'],
    );
  });

  it("lists a chained response's input items as its whole context, leaving out what is gone", async () => {
    const { state, store } = stateWith();
    await chainOf(state, 'alice');
    const last = await state.find('alice', 'resp_c');
    const listed = async () =>
      (await state.inputItems(last, () => 'alice', false)).map((item) => item.id);
    assert.deepEqual(await listed(), [
      'in_resp_a',
      'msg_resp_a',
      'in_resp_b',
      'msg_resp_b',
      'in_resp_c',
    ]);
    await store.delete('resp_b');
    assert.deepEqual(await listed(), ['in_resp_a', 'msg_resp_a', 'in_resp_c']);
    // An earlier turn another caller owns is not this caller's to see.
    await state.save(storedRecord('resp_x', 'bob'));
    await state.save(storedRecord('resp_y', 'alice'), ['resp_x']);
    const y = await state.find('alice', 'resp_y');
    const ids = (await state.inputItems(y, () => 'alice', false)).map((item) => item.id);
    assert.deepEqual(ids, ['in_resp_y']);
  });

  it("shows earlier turns' reasoning blocks only when asked", async () => {
    const { state } = stateWith();
    const thinking = storedRecord('resp_t', 'alice');
    const reasoning = { type: 'reasoning', id: 'rs_t', summary: [], encrypted_content: 'blocks' };
    await state.save({
      ...thinking,
      response: { ...thinking.response, output: [reasoning, ...thinking.response.output] },
    } as typeof thinking);
    await state.save(storedRecord('resp_u', 'alice'), ['resp_t']);
    const u = await state.find('alice', 'resp_u');
    const shown = await state.inputItems(u, () => 'alice', false);
    assert.equal(shown[1]?.id, 'rs_t');
    assert.equal('encrypted_content' in shown[1], false);
    const asked = await state.inputItems(u, () => 'alice', true);
    assert.equal(asked[1]?.encrypted_content, 'blocks');
  });

  it("is not found for another caller's response, exactly as one never stored, as OpenAI answers each", async () => {
    const { state, events } = stateWith();
    await chainOf(state, 'alice');
    await assert.rejects(
      state.history(() => 'bob', 'resp_c'),
      previousNotFound(),
    );
    await assert.rejects(
      state.history(() => 'bob', 'resp_nope'),
      previousNotFound(),
    );
    await assert.rejects(state.find('bob', 'resp_a'), notFound(undefined));
    const error = await state.history(() => 'bob', 'resp_c').catch((e: DataPlaneError) => e);
    assert.equal(
      (error as DataPlaneError).toOpenAiBody().error.code,
      'previous_response_not_found',
    );
    assert.doesNotMatch((error as DataPlaneError).message, /alice|question|answer/);
    // The owner still has it.
    assert.equal((await state.find('alice', 'resp_c')).owner, 'alice');
    assert.deepEqual(
      events.filter((e) => e !== 'stored'),
      ['miss', 'miss', 'miss', 'miss', 'hit'],
    );
  });

  it('answers a lookup naming no model only to the owner its route identifies', async () => {
    const { state } = stateWith();
    await state.save(storedRecord('resp_a', 'alice'));
    assert.equal((await state.lookup('resp_a', async () => 'alice')).id, 'resp_a');
    await assert.rejects(
      state.lookup('resp_a', () => 'bob'),
      notFound(undefined),
    );
    await assert.rejects(
      state.lookup('resp_a', () => undefined),
      notFound(undefined),
    );
    await assert.rejects(
      state.lookup('resp_b', () => 'alice'),
      notFound(undefined),
    );
  });

  it("continues a chain only for the caller each record's own model identifies as its owner", async () => {
    const { state } = stateWith();
    // Made on a JWT route ('jwt-model'), then continued on a header route ('hdr-model').
    await state.save({ ...storedRecord('resp_a', 'alice'), model: 'jwt-model' });
    await state.save({ ...storedRecord('resp_b', 'alice'), model: 'hdr-model' }, ['resp_a']);
    const asked: string[] = [];
    /** Alice on the header route; on the JWT route, whoever `onJwt` says. */
    const caller = (onJwt: () => string) => (record: { model: string }) => {
      asked.push(record.model);
      return record.model === 'jwt-model' ? onJwt() : 'alice';
    };
    // A matching header is not enough: the JWT route does not say alice.
    await assert.rejects(
      state.history(
        caller(() => 'anonymous'),
        'resp_a',
      ),
      previousNotFound(),
    );
    await assert.rejects(
      state.history(
        caller(() => 'anonymous'),
        'resp_b',
      ),
      previousNotFound(/earlier response .*'resp_a'/),
    );
    // Not identified there at all (no token): not the caller's either.
    await assert.rejects(
      state.history(
        caller(() => {
          throw new Error('401');
        }),
        'resp_b',
      ),
      previousNotFound(/earlier response .*'resp_a'/),
    );
    asked.length = 0;
    const { ids } = await state.history(
      caller(() => 'alice'),
      'resp_b',
    );
    assert.deepEqual(ids, ['resp_a', 'resp_b']);
    assert.deepEqual(asked.sort(), ['hdr-model', 'jwt-model']);
  });

  it('refuses to continue a chain one of whose earlier turns is gone', async () => {
    const { state, store } = stateWith();
    await chainOf(state, 'alice');
    await store.delete('resp_a');
    await assert.rejects(
      state.history(() => 'alice', 'resp_c'),
      previousNotFound(/earlier response .*'resp_a'.* expired or was deleted/),
    );
  });

  it('refuses a chain deeper or larger than its caps with a 400', async () => {
    const deep = stateWith({ maxChainDepth: 3 });
    await chainOf(deep.state, 'alice');
    assert.ok(await deep.state.history(() => 'alice', 'resp_b'));
    await assert.rejects(
      deep.state.history(() => 'alice', 'resp_c'),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'previous_response_id' &&
        /holds 3 responses; this gateway chains at most 2/.test(error.message),
    );
    const large = stateWith({ maxChainBytes: 500 });
    await large.state.save(storedRecord('resp_big', 'alice', { padding: 600 }));
    await assert.rejects(
      large.state.history(() => 'alice', 'resp_big'),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        /larger than the 500 bytes/.test(error.message),
    );
  });

  it('deletes a record, which then reads as never stored', async () => {
    const { state, events } = stateWith();
    assert.equal(await state.save(storedRecord('resp_a', 'alice')), true);
    await state.remove(await state.find('alice', 'resp_a'));
    await assert.rejects(state.find('alice', 'resp_a'), notFound(undefined));
    assert.ok(events.includes('deleted'));
  });

  it('reports a store that failed or refused rather than failing the answer', async () => {
    const events: ResponseStateEvent[] = [];
    const errors: string[] = [];
    const broken: ResponseStore = {
      kind: 'redis',
      put: async (record) => {
        if (record.id === 'resp_big') return false;
        throw new Error('connection lost');
      },
      get: async () => [],
      touch: async () => undefined,
      delete: async () => false,
      close: async () => undefined,
    };
    const state = new ResponseState({
      store: broken,
      ttlMs: 1_000,
      onEvent: (event) => events.push(event),
      onError: (what) => errors.push(what),
    });
    assert.equal(await state.save(storedRecord('resp_a', 'alice')), false);
    assert.equal(await state.save(storedRecord('resp_big', 'alice')), false);
    assert.deepEqual(events, ['store_failed', 'too_large']);
    assert.deepEqual(errors, ['storing a response']);
  });

  it('answers a 503 to retry, not a 500, when the store cannot be read or written (Redis away)', async () => {
    const events: ResponseStateEvent[] = [];
    const errors: string[] = [];
    const away: ResponseStore = {
      kind: 'redis',
      put: async () => true,
      get: async () => {
        throw new Error('Command timed out');
      },
      touch: async () => undefined,
      delete: async () => {
        throw new Error('Command timed out');
      },
      close: async () => undefined,
    };
    const state = new ResponseState({
      store: away,
      ttlMs: 1_000,
      onEvent: (event) => events.push(event),
      onError: (what) => errors.push(what),
    });
    const unavailable = (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 503);
      const body = error.toOpenAiBody().error;
      assert.equal(body.type, 'service_unavailable');
      assert.equal(body.code, 'response_store_unavailable');
      assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 0);
      assert.doesNotMatch(error.message, /timed out/, "the store's own error stays in the log");
      return true;
    };
    await assert.rejects(state.find('alice', 'resp_a'), unavailable);
    await assert.rejects(
      state.lookup('resp_a', () => 'alice'),
      unavailable,
    );
    await assert.rejects(
      state.history(() => 'alice', 'resp_a'),
      unavailable,
    );
    await assert.rejects(state.remove(storedRecord('resp_a', 'alice')), unavailable);
    assert.deepEqual(events, Array(4).fill('store_unavailable'));
    assert.deepEqual(errors, [
      'reading a stored response',
      'reading a stored response',
      'reading a stored response',
      'deleting a stored response',
    ]);
  });
});
