import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { RecordingResponse } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type ThinkingBlock,
} from '@aigw/contracts/data-plane';
import { translateResponsesRequest } from './domain/responses-request';
import type { ResponseObject } from './domain/responses-response';
import { decodeReasoning } from './domain/encrypted-reasoning';
import { responsesDialect } from './responses-dialect';
import { inputItemsPage } from './stored-responses-routes';
import type { EdgeDialect } from '../http/edge-exchange';
import { MemoryResponseStore } from './state/memory-response-store';
import { ResponseState, type ResponseStateEvent } from './state/response-state';
import type { ResponseStore } from './state/response-store';
import { conversationItems } from './conversations/conversation';
import { ConversationState } from './conversations/conversation-state';
import { MemoryConversationStore } from './conversations/memory-conversation-store';

const SIGNED: ThinkingBlock = { type: 'thinking', thinking: 'Think.', signature: 'c2lnbmF0dXJl' };

function answerOf(content: string, message: JsonObject = {}): JsonAnswer {
  return {
    kind: 'json',
    status: 200,
    body: {
      id: 'chatcmpl-1',
      choices: [
        { index: 0, message: { role: 'assistant', content, ...message }, finish_reason: 'stop' },
      ],
    },
    usage: { inputTokens: 3, outputTokens: 2, cachedInputTokens: 0, source: 'reported' },
    servedBy: { backend: 'b', provider: 'openai', model: 'upstream' },
  };
}

/** A store that is down: every write fails (Redis away). */
const DOWN: ResponseStore = {
  kind: 'redis',
  put: async () => {
    throw new Error('connection lost');
  },
  get: async () => [],
  touch: async () => undefined,
  delete: async () => false,
  close: async () => undefined,
};

/** A caller's headers for CALLERS: their key, and their key on named models' routes. */
function callerHeaders(userKey: string, onModels: Record<string, string> = {}) {
  return {
    'x-user': userKey,
    ...Object.fromEntries(Object.entries(onModels).map(([m, key]) => [`x-user-on-${m}`, key])),
  };
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * The pipeline's identification, as the route serving each model would do it, and as
 * the Conversations API's route would (named 'conversations' here).
 */
const CALLERS = {
  ownerKeyFor: (model: string, headers: Headers) =>
    (headers[`x-user-on-${model}`] ?? headers['x-user']) as string | undefined,
  ownerKeysWithoutModel: async (headers: Headers) => {
    const owner = CALLERS.ownerKeyFor('conversations', headers);
    return owner === undefined ? [] : [owner];
  },
};

function setUp(store?: ResponseStore) {
  const memory = new MemoryResponseStore({ maxEntries: 100, maxBytes: 1_000_000 });
  const events: ResponseStateEvent[] = [];
  const errors: string[] = [];
  const state = new ResponseState({
    store: store ?? memory,
    ttlMs: 60_000,
    onEvent: (event) => events.push(event),
    onError: (what) => errors.push(what),
  });
  const dialect = responsesDialect({ state, callers: CALLERS });
  /**
   * What the edge does before routing: translate, identify (given), complete from state.
   * `onModels` is who the caller is on other models' routes (else `userKey`).
   */
  const prepare = async (
    body: JsonObject,
    userKey: string,
    onModels: Record<string, string> = {},
  ): Promise<GatewayRequest> => {
    const chat = dialect.canonicalBody!(body) as JsonObject;
    const request = {
      requestId: `req-${Math.random()}`,
      requestedModel: body.model,
      body: chat,
      caller: { userKey },
    } as GatewayRequest;
    return dialect.withState
      ? dialect.withState(request, body, callerHeaders(userKey, onModels))
      : request;
  };
  const create = async (body: JsonObject, userKey: string, answer = answerOf('Hi.')) => {
    const request = await prepare(body, userKey);
    const response = (await dialect.answerBody(answer, request, body)) as ResponseObject;
    return { request, response };
  };
  return { store: memory, state, dialect, prepare, create, events, errors };
}

/** The Response of a stream's response.completed event, from what the client was sent. */
function completedOf(text: string): ResponseObject {
  return [...text.matchAll(/^data: (.*)$/gm)]
    .map((match) => JSON.parse(match[1]) as JsonObject)
    .find((event) => event.type === 'response.completed')!.response as ResponseObject;
}

async function streamed(dialect: EdgeDialect, request: GatewayRequest, body: JsonObject) {
  const out = new RecordingResponse();
  const relay = dialect.openStream(out as unknown as ServerResponse, {}, request, body);
  await relay.event({ choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }] });
  await relay.end(
    Promise.resolve({ inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, source: 'reported' }),
  );
  return out.text;
}

describe('Responses API dialect with stored responses', () => {
  it('stores an answer by default under its caller, saying store: true, with a fresh id', async () => {
    const { state, create } = setUp();
    const { response } = await create({ model: 'm', input: 'hi' }, 'alice');
    assert.equal(response.store, true);
    assert.equal(response.previous_response_id, null);
    assert.match(response.id, /^resp_[0-9a-f]{48}$/);
    const stored = await state.find('alice', response.id);
    assert.deepEqual(stored.response, response);
    assert.equal(stored.model, 'm');
    assert.deepEqual(stored.input, [
      {
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: 'hi' }],
        id: `msg_${response.id.slice(5)}_in0`,
      },
    ]);
    const again = await create({ model: 'm', input: 'hi' }, 'alice');
    assert.notEqual(again.response.id, response.id);
  });

  it("gives each stored response's items ids of their own under a reused x-request-id, so input_items pages end", async () => {
    const { dialect, prepare, state } = setUp();
    const tool = [{ type: 'function', name: 'look', parameters: { type: 'object' } }];
    // A client sending one x-request-id for a whole session: every turn has the same request id.
    const turn = async (body: JsonObject, answer: JsonAnswer) => {
      const request = { ...(await prepare(body, 'alice')), requestId: 'session-42' };
      return (await dialect.answerBody(answer, request, body)) as ResponseObject;
    };
    const unnamedCall = {
      tool_calls: [{ type: 'function', function: { name: 'look', arguments: '{}' } }],
    };
    const first = await turn({ model: 'm', input: 'one', tools: tool }, answerOf('A', unnamedCall));
    const second = await turn(
      { model: 'm', input: 'two', tools: tool, previous_response_id: first.id },
      answerOf('B', unnamedCall),
    );
    const third = await turn(
      { model: 'm', input: 'three', previous_response_id: second.id },
      answerOf('C'),
    );
    const outputIds = [...first.output, ...second.output].map((item) => item.id);
    assert.equal(new Set(outputIds).size, outputIds.length, outputIds.join());
    const callIds = [...first.output, ...second.output].flatMap((item) =>
      item.type === 'function_call' ? [item.call_id] : [],
    );
    assert.equal(new Set(callIds).size, 2, callIds.join());

    // The SDK's auto-pagination: `after` is the last page's last id, until has_more is false.
    const record = await state.find('alice', third.id);
    const all = await state.inputItems(record, () => 'alice', false);
    const listed: unknown[] = [];
    let after: string | undefined;
    for (let page = 0; page <= all.length; page += 1) {
      const got = inputItemsPage(all, { limit: '1', ...(after && { after }) });
      listed.push(...(got.data as JsonObject[]).map((item) => item.id));
      if (got.has_more !== true) break;
      after = got.last_id as string;
    }
    assert.equal(listed.length, all.length, `paged ${listed.join()}`);

    // Unstored ones too: a stateless client sends them all back in its next input.
    const unstored = { model: 'm', input: 'one', tools: tool, store: false };
    const a = await turn(unstored, answerOf('A', unnamedCall));
    const b = await turn(unstored, answerOf('B', unnamedCall));
    assert.notEqual(a.id, b.id);
    const ids = [...a.output, ...b.output].map((item) => item.id);
    assert.equal(new Set(ids).size, ids.length, ids.join());
  });

  it('stores nothing for store: false, and says so', async () => {
    const { store, create } = setUp();
    const { response } = await create({ model: 'm', input: 'hi', store: false }, 'alice');
    assert.equal(response.store, false);
    assert.deepEqual(store.size(), { entries: 0, bytes: 0 });
  });

  it('refuses as OpenAI does an input that sends an item of the chain again (or one item twice)', async () => {
    const { create, prepare, state } = setUp();
    const first = await create({ model: 'm', input: 'My name is Ann.' }, 'alice');
    const [answered] = first.response.output;
    // The mistake of a client moving to previous_response_id: it still sends the history.
    const resent = { model: 'm', previous_response_id: first.response.id };
    const duplicate = (id: string) => (error: unknown) =>
      error instanceof DataPlaneError &&
      error.httpStatus === 400 &&
      error.param === 'input' &&
      error.message.includes(`Duplicate item found with id ${id}.`);
    await assert.rejects(
      prepare({ ...resent, input: [answered, { role: 'user', content: 'And?' }] }, 'alice'),
      duplicate(answered.id),
    );
    const twice = { type: 'message', id: 'msg_mine', role: 'user', content: 'Hi.' };
    await assert.rejects(
      prepare({ model: 'm', input: [twice, twice] }, 'alice'),
      duplicate('msg_mine'),
    );
    // Its own new items are fine, and the chain is sent once.
    const next = await prepare({ ...resent, input: [twice] }, 'alice');
    assert.equal((next.body.messages as unknown[]).length, 3);
    assert.equal((await state.find('alice', first.response.id)).id, first.response.id);
  });

  it('continues a chain whose earlier turns hold one item id twice (as stored before ids were random)', async () => {
    const { create, prepare, state, store } = setUp();
    const first = await create({ model: 'm', input: 'one' }, 'alice');
    const second = await create(
      { model: 'm', input: 'two', previous_response_id: first.response.id },
      'alice',
    );
    // Before 40bd1ab3, every turn under one x-request-id named its message msg_<request>_0.
    const kept = await state.find('alice', second.response.id);
    const [message] = kept.response.output;
    const sameId = { ...message, id: first.response.output[0].id };
    await store.put({ ...kept, response: { ...kept.response, output: [sameId] } }, 60_000);
    const next = await prepare(
      { model: 'm', input: 'three', previous_response_id: second.response.id },
      'alice',
    );
    assert.equal((next.body.messages as unknown[]).length, 5);
    // What the client sends again is still refused.
    await assert.rejects(
      prepare({ model: 'm', input: [sameId], previous_response_id: second.response.id }, 'alice'),
      (error: unknown) =>
        error instanceof DataPlaneError && error.httpStatus === 400 && error.param === 'input',
    );
  });

  it("prepends the chain's turns, oldest first, and only this request's instructions", async () => {
    const { create } = setUp();
    const first = await create(
      { model: 'm', instructions: 'Old rules.', input: 'My name is Ann.' },
      'alice',
      answerOf('Hello Ann.'),
    );
    const second = await create(
      { model: 'm', input: 'And my city is Oslo.', previous_response_id: first.response.id },
      'alice',
      answerOf('Noted.'),
    );
    assert.equal(second.response.previous_response_id, first.response.id);
    const third = await create(
      {
        model: 'm',
        instructions: 'New rules.',
        input: [{ role: 'user', content: 'What do you know?' }],
        previous_response_id: second.response.id,
      },
      'alice',
    );
    assert.deepEqual(third.request.body.messages, [
      { role: 'system', content: 'New rules.' },
      { role: 'user', content: 'My name is Ann.' },
      { role: 'assistant', content: 'Hello Ann.' },
      { role: 'user', content: 'And my city is Oslo.' },
      { role: 'assistant', content: 'Noted.' },
      { role: 'user', content: 'What do you know?' },
    ]);
    assert.equal(third.request.body.previous_response_id, undefined);
  });

  it("refuses another caller's previous_response_id as OpenAI does (400 previous_response_not_found), before anything is routed", async () => {
    const { create, prepare } = setUp();
    const { response } = await create({ model: 'm', input: 'secret plan' }, 'alice');
    await assert.rejects(
      prepare({ model: 'm', input: 'and?', previous_response_id: response.id }, 'bob'),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.toOpenAiBody().error.code === 'previous_response_not_found' &&
        error.param === 'previous_response_id' &&
        !/secret/.test(error.message),
    );
  });

  it("identifies a continuing caller as the stored response's route does, not the request's", async () => {
    const { create, prepare } = setUp();
    // Alice's chain, made on the route serving 'jwt-model' (her verified token).
    const { response } = await create({ model: 'jwt-model', input: 'secret plan' }, 'alice');
    const next = { model: 'hdr-model', input: 'and?', previous_response_id: response.id };
    // Another caller claims to be alice where a header says who one is: the JWT route
    // does not identify him as alice, so her chain is not his.
    await assert.rejects(
      prepare(next, 'alice', { 'jwt-model': 'anonymous' }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.toOpenAiBody().error.code === 'previous_response_not_found' &&
        error.param === 'previous_response_id' &&
        !/secret/.test(error.message),
    );
    // Alice herself, whom both routes identify, continues it on the other model.
    const continued = await prepare(next, 'alice', { 'jwt-model': 'alice' });
    assert.match(JSON.stringify(continued.body), /secret plan/);
  });

  it('keeps the reasoning blocks for the next turn though the client did not ask to see them', async () => {
    const { create, state } = setUp();
    const first = await create(
      { model: 'm', input: 'Weather?' },
      'alice',
      answerOf('Sunny.', { reasoning_content: 'Think.', thinking_blocks: [SIGNED] }),
    );
    const shown = first.response.output[0];
    assert.equal(shown.type, 'reasoning');
    assert.equal((shown as { encrypted_content?: string }).encrypted_content, undefined);
    const kept = (await state.find('alice', first.response.id)).response.output[0] as {
      encrypted_content?: string;
    };
    assert.deepEqual(decodeReasoning(kept.encrypted_content!), [SIGNED]);
    const next = await create(
      { model: 'm', input: 'Tomorrow?', previous_response_id: first.response.id },
      'alice',
    );
    const assistant = (next.request.body.messages as JsonObject[])[1];
    assert.deepEqual(assistant.thinking_blocks, [SIGNED]);
  });

  it('stores a stream once it finished, before response.completed goes out', async () => {
    const { dialect, prepare, state } = setUp();
    const body = { model: 'm', input: 'hi', stream: true };
    const request = await prepare(body, 'alice');
    const out = new RecordingResponse();
    let textWhenStored = '';
    const save = state.save.bind(state);
    state.save = async (record) => {
      textWhenStored = out.text;
      return save(record);
    };
    const relay = dialect.openStream(out as unknown as ServerResponse, {}, request, body);
    await relay.event({ choices: [{ index: 0, delta: { content: 'Hel' } }] });
    await relay.event({ choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'stop' }] });
    await relay.end(
      Promise.resolve({
        inputTokens: 1,
        outputTokens: 2,
        cachedInputTokens: 0,
        source: 'reported',
      }),
    );
    assert.doesNotMatch(textWhenStored, /response\.completed/);
    const completed = [...out.text.matchAll(/^data: (.*)$/gm)]
      .map((match) => JSON.parse(match[1]) as JsonObject)
      .find((event) => event.type === 'response.completed')!.response as ResponseObject;
    assert.equal(completed.store, true);
    const stored = await state.find('alice', completed.id);
    assert.deepEqual(stored.response, completed);
    assert.equal(stored.response.usage?.output_tokens, 2);
  });

  it('says store: false when the store failed or refused the answer, which it reports', async () => {
    const down = setUp(DOWN);
    const { response } = await down.create({ model: 'm', input: 'hi' }, 'alice');
    assert.equal(response.store, false, 'a later previous_response_id would get a 404');
    assert.match(response.id, /^resp_/);
    assert.deepEqual(down.events, ['store_failed']);
    assert.deepEqual(down.errors, ['storing a response']);

    const tiny = setUp(new MemoryResponseStore({ maxEntries: 100, maxBytes: 10 }));
    const refused = await tiny.create({ model: 'm', input: 'hi' }, 'alice');
    assert.equal(refused.response.store, false);
    assert.deepEqual(tiny.events, ['too_large']);
  });

  it("says store: false in a stream's response.completed when the store failed", async () => {
    const { dialect, prepare, events } = setUp(DOWN);
    const body = { model: 'm', input: 'hi', stream: true };
    const text = await streamed(dialect, await prepare(body, 'alice'), body);
    const created = [...text.matchAll(/^data: (.*)$/gm)]
      .map((match) => JSON.parse(match[1]) as JsonObject)
      .find((event) => event.type === 'response.created')!.response as ResponseObject;
    assert.equal(created.store, true, 'as asked, before the answer was there to store');
    const completed = completedOf(text);
    assert.equal(completed.store, false);
    assert.equal(completed.status, 'completed');
    assert.equal(completed.usage?.output_tokens, 2);
    assert.deepEqual(events, ['store_failed']);

    // A store that works leaves the event as it was.
    const working = setUp();
    const kept = completedOf(
      await streamed(working.dialect, await working.prepare(body, 'bob'), body),
    );
    assert.equal(kept.store, true);
  });

  it('stores nothing of a stream that broke', async () => {
    const { dialect, prepare, store } = setUp();
    const body = { model: 'm', input: 'hi', stream: true };
    const relay = dialect.openStream(
      new RecordingResponse() as unknown as ServerResponse,
      {},
      await prepare(body, 'alice'),
      body,
    );
    await relay.event({ choices: [{ index: 0, delta: { content: 'Hel' } }] });
    relay.fail(new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'cut'));
    assert.equal(store.size().entries, 0);
  });

  it('refuses a conversation with a 400 when its state keeps none', async () => {
    const { prepare } = setUp();
    await assert.rejects(
      prepare({ model: 'm', input: 'hi', conversation: 'conv_1' }, 'alice'),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'conversation',
    );
  });

  it('without a store, stays stateless', () => {
    const dialect = responsesDialect();
    assert.equal(dialect.withState, undefined);
    assert.throws(
      () => dialect.canonicalBody!({ model: 'm', input: 'hi', previous_response_id: 'resp_1' }),
      /stateless/,
    );
    assert.ok(translateResponsesRequest({ model: 'm', input: 'hi' }));
  });
});

describe('Responses API dialect with a conversation', () => {
  function withConversations() {
    const conversations = new ConversationState({
      store: new MemoryConversationStore({ maxEntries: 100, maxBytes: 1_000_000 }),
      ttlMs: 60_000,
      maxBytes: 1_000_000,
    });
    const state = new ResponseState({
      store: new MemoryResponseStore({ maxEntries: 100, maxBytes: 1_000_000 }),
      ttlMs: 60_000,
      conversations,
    });
    const dialect = responsesDialect({ state, callers: CALLERS });
    const prepare = async (
      body: JsonObject,
      userKey: string,
      onModels: Record<string, string> = {},
    ): Promise<GatewayRequest> => {
      const request = {
        requestId: `req-${Math.random()}`,
        requestedModel: body.model,
        body: dialect.canonicalBody!(body) as JsonObject,
        caller: { userKey },
      } as GatewayRequest;
      return dialect.withState!(request, body, callerHeaders(userKey, onModels));
    };
    const create = async (body: JsonObject, userKey: string, answer = answerOf('Hi.')) => {
      const request = await prepare(body, userKey);
      return {
        request,
        response: (await dialect.answerBody(answer, request, body)) as ResponseObject,
      };
    };
    return { conversations, dialect, prepare, create };
  }
  const contents = (items: readonly JsonObject[]) =>
    items.map((item) => [item.type, item.role, (item.content as { text: string }[])[0].text]);

  it("sends the conversation's items before the input, then appends the turn", async () => {
    const { conversations, create } = withConversations();
    const header = await conversations.create(
      'alice',
      {},
      conversationItems([{ role: 'user', content: 'My name is Ann.' }], false),
    );
    const first = await create(
      { model: 'm', instructions: 'Be brief.', input: 'Hello?', conversation: header.id },
      'alice',
      answerOf('Hello Ann.'),
    );
    assert.deepEqual(first.request.body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'My name is Ann.' },
      { role: 'user', content: 'Hello?' },
    ]);
    assert.equal(first.request.body.conversation, undefined);
    assert.deepEqual(first.response.conversation, { id: header.id });
    assert.equal(first.response.status, 'completed');
    const second = await create(
      { model: 'm', input: [{ role: 'user', content: 'Again?' }], conversation: { id: header.id } },
      'alice',
      answerOf('Sure.'),
    );
    assert.deepEqual((second.request.body.messages as JsonObject[]).slice(-2), [
      { role: 'assistant', content: 'Hello Ann.' },
      { role: 'user', content: 'Again?' },
    ]);
    const { items } = await conversations.read('alice', header.id);
    assert.deepEqual(contents(items), [
      ['message', 'user', 'My name is Ann.'],
      ['message', 'user', 'Hello?'],
      ['message', 'assistant', 'Hello Ann.'],
      ['message', 'user', 'Again?'],
      ['message', 'assistant', 'Sure.'],
    ]);
    assert.equal(items[2].id, first.response.output[0].id);
  });

  it("continues a tool loop: the function call kept in the conversation meets the client's output", async () => {
    const { conversations, create } = withConversations();
    const header = await conversations.create('alice', {}, []);
    const call = answerOf('', {
      content: null,
      tool_calls: [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'weather', arguments: '{"city":"Oslo"}' },
        },
      ],
    });
    (call.body as { choices: JsonObject[] }).choices[0].finish_reason = 'tool_calls';
    const first = await create(
      { model: 'm', input: 'Weather in Oslo?', conversation: header.id },
      'alice',
      call,
    );
    assert.equal(first.response.output[0].type, 'function_call');
    const second = await create(
      {
        model: 'm',
        input: [{ type: 'function_call_output', call_id: 'call_1', output: 'Sunny' }],
        conversation: header.id,
      },
      'alice',
      answerOf('It is sunny.'),
    );
    assert.deepEqual(second.request.body.messages, [
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
    ]);
    const { items } = await conversations.read('alice', header.id);
    assert.deepEqual(
      items.map((item) => item.type),
      ['message', 'function_call', 'function_call_output', 'message'],
    );
  });

  it('appends nothing of an incomplete response, and appends with store: false', async () => {
    const { conversations, create } = withConversations();
    const header = await conversations.create('alice', {}, []);
    const cut = answerOf('Half an ans');
    (cut.body as { choices: JsonObject[] }).choices[0].finish_reason = 'length';
    const incomplete = await create(
      { model: 'm', input: 'Long?', conversation: header.id },
      'alice',
      cut,
    );
    assert.equal(incomplete.response.status, 'incomplete');
    assert.deepEqual((await conversations.read('alice', header.id)).items, []);
    const unstored = await create(
      { model: 'm', input: 'Short?', store: false, conversation: header.id },
      'alice',
    );
    assert.equal(unstored.response.store, false);
    assert.deepEqual(contents((await conversations.read('alice', header.id)).items), [
      ['message', 'user', 'Short?'],
      ['message', 'assistant', 'Hi.'],
    ]);
  });

  it('appends a stream once it completed, before response.completed goes out', async () => {
    const { conversations, dialect, prepare } = withConversations();
    const header = await conversations.create('alice', {}, []);
    const body = { model: 'm', input: 'hi', stream: true, conversation: header.id };
    const text = await streamed(dialect, await prepare(body, 'alice'), body);
    assert.deepEqual(completedOf(text).conversation, { id: header.id });
    assert.deepEqual(contents((await conversations.read('alice', header.id)).items), [
      ['message', 'user', 'hi'],
      ['message', 'assistant', 'Hi'],
    ]);
  });

  it('identifies a caller as the Conversations API does, not as the request route does', async () => {
    const { conversations, dialect, prepare } = withConversations();
    const header = await conversations.create(
      'alice',
      {},
      conversationItems([{ role: 'user', content: 'secret' }], false),
    );
    const body = { model: 'm', input: 'and?', conversation: header.id };
    // This route says alice (a header), the conversations' route does not: not hers.
    await assert.rejects(
      prepare(body, 'alice', { conversations: 'anonymous' }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 404 &&
        error.param === 'conversation' &&
        !/secret/.test(error.message),
    );
    // Identified as her own conversation's owner there, under another key on this route:
    // it is read, and the turn appended, as hers.
    const request = await prepare(body, 'alice-on-m', { conversations: 'alice' });
    assert.match(JSON.stringify(request.body), /secret/);
    await dialect.answerBody(answerOf('Hi.'), request, body);
    assert.deepEqual(contents((await conversations.read('alice', header.id)).items), [
      ['message', 'user', 'secret'],
      ['message', 'user', 'and?'],
      ['message', 'assistant', 'Hi.'],
    ]);
  });

  it("refuses another caller's conversation with a 404, and a conversation with previous_response_id", async () => {
    const { conversations, prepare, dialect } = withConversations();
    const header = await conversations.create(
      'alice',
      {},
      conversationItems([{ role: 'user', content: 'secret' }], false),
    );
    await assert.rejects(
      prepare({ model: 'm', input: 'and?', conversation: header.id }, 'bob'),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 404 &&
        error.param === 'conversation' &&
        !/secret/.test(error.message),
    );
    assert.throws(
      () =>
        dialect.canonicalBody!({
          model: 'm',
          input: 'x',
          conversation: header.id,
          previous_response_id: 'resp_1',
        }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'conversation' &&
        /Mutually exclusive/.test(error.message),
    );
    assert.throws(
      () => responsesDialect().canonicalBody!({ model: 'm', input: 'x', conversation: header.id }),
      /response store is off/,
    );
  });
});
