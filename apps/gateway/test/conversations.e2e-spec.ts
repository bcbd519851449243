// OpenAI's Conversations API through the all-in-one gateway on embedded defaults (process
// memory), with the official openai client: client.conversations.* and
// client.responses.create({conversation}) against a fake upstream that keeps no state, so
// every earlier turn the backend gets came from the gateway's conversation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { metricSum } from '@aigw/testing';
import { FakeOpenAiToolUpstream, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { clientAs, notFound, otherIdentityRoute } from './stored-state-gateway';

const ANSWER = 'Hello from the fake upstream.';

type Item = OpenAI.Conversations.ConversationItem;
/** What each item says: role and first text, or its type. */
const said = (items: readonly Item[]) =>
  items.map((item) =>
    item.type === 'message'
      ? `${item.role}: ${(item.content[0] as { text: string }).text}`
      : item.type,
  );

describe('Conversations API on the all-in-one gateway', () => {
  const upstream = new FakeOpenAiUpstream('plain');
  const tools = new FakeOpenAiToolUpstream();
  let gateway: AppProcess;
  let alice: OpenAI;
  let bob: OpenAI;

  before(async () => {
    await Promise.all([upstream.start(), tools.start()]);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-conversations-e2e-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: conversations}
spec:
  backends:
  - name: plain
    provider: vllm
    baseUrl: ${upstream.baseUrl}
    model: upstream-plain-model
    modelNameOverride: gpt-plain
  - name: tools
    provider: vllm
    baseUrl: ${tools.baseUrl}
    model: upstream-tool-model
    modelNameOverride: gpt-tools
  userIdentification: {header: x-user-id}
${otherIdentityRoute(upstream.baseUrl)}`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    alice = clientAs(gateway.baseUrl, 'alice');
    bob = clientAs(gateway.baseUrl, 'bob');
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([upstream.stop(), tools.stop()]);
  });

  it('creates, retrieves, updates and deletes a conversation', async () => {
    const conversation = await alice.conversations.create({
      metadata: { topic: 'demo' },
      items: [{ role: 'user', content: 'My name is Ann.' }],
    });
    assert.match(conversation.id, /^conv_/);
    assert.equal(conversation.object, 'conversation');
    assert.deepEqual(conversation.metadata, { topic: 'demo' });
    assert.ok(Math.abs(conversation.created_at - Date.now() / 1000) < 60);

    const retrieved = await alice.conversations.retrieve(conversation.id);
    assert.deepEqual(retrieved, conversation);
    const updated = await alice.conversations.update(conversation.id, {
      metadata: { topic: 'billing' },
    });
    assert.deepEqual(updated.metadata, { topic: 'billing' });
    assert.equal(updated.created_at, conversation.created_at);

    const deleted = await alice.conversations.delete(conversation.id);
    assert.deepEqual(deleted, {
      id: conversation.id,
      object: 'conversation.deleted',
      deleted: true,
    });
    await assert.rejects(alice.conversations.retrieve(conversation.id), notFound());
  });

  it('continues a conversation with responses.create: its items first, then the turn appended', async () => {
    upstream.reset();
    const conversation = await alice.conversations.create({
      items: [{ role: 'user', content: 'My name is Ann.' }],
    });
    const first = await alice.responses.create({
      model: 'gpt-plain',
      instructions: 'Be brief.',
      input: 'What is my name?',
      conversation: conversation.id,
    });
    assert.deepEqual(first.conversation, { id: conversation.id });
    assert.deepEqual(upstream.calls[0]?.body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'My name is Ann.' },
      { role: 'user', content: 'What is my name?' },
    ]);
    assert.equal(upstream.calls[0]?.body.conversation, undefined);

    // Streamed, with {id}: appended once it completed.
    const stream = await alice.responses.create({
      model: 'gpt-plain',
      input: [{ role: 'user', content: 'And now?' }],
      conversation: { id: conversation.id },
      stream: true,
    });
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream)
      if (event.type === 'response.completed') completed = event.response;
    assert.deepEqual(completed?.conversation, { id: conversation.id });
    assert.deepEqual(
      (upstream.calls[1]?.body.messages as { content: string }[]).map((m) => m.content),
      ['My name is Ann.', 'What is my name?', ANSWER, 'And now?'],
    );

    const items = [];
    for await (const item of alice.conversations.items.list(conversation.id, {
      order: 'asc',
      limit: 2,
    })) {
      items.push(item);
    }
    assert.deepEqual(said(items), [
      'user: My name is Ann.',
      'user: What is my name?',
      `assistant: ${ANSWER}`,
      'user: And now?',
      `assistant: ${ANSWER}`,
    ]);
    assert.equal(items[2].id, first.output[0].id);
    assert.equal(new Set(items.map((item) => item.id)).size, 5);
    const newest = await alice.conversations.items.list(conversation.id, { limit: 1 });
    assert.deepEqual(said(newest.data), [`assistant: ${ANSWER}`]);
    assert.equal(newest.has_more, true);
  });

  it('runs a tool loop in a conversation, sending back only the function output', async () => {
    tools.reset();
    const weather: OpenAI.Responses.FunctionTool = {
      type: 'function',
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      strict: false,
    };
    const conversation = await alice.conversations.create();
    const first = await alice.responses.create({
      model: 'gpt-tools',
      input: 'Weather in Paris?',
      tools: [weather],
      conversation: conversation.id,
    });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call?.type === 'function_call', JSON.stringify(first.output));
    const second = await alice.responses.create({
      model: 'gpt-tools',
      tools: [weather],
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '18C and sunny' }],
      conversation: conversation.id,
    });
    assert.equal(second.output_text, 'The tool said: 18C and sunny');
    const sent = tools.calls[1]?.body.messages as { role: string; tool_calls?: { id: string }[] }[];
    assert.deepEqual(
      sent.map((message) => message.role),
      ['user', 'assistant', 'tool'],
    );
    assert.equal(sent[1].tool_calls?.[0]?.id, call.call_id);
    const items = await alice.conversations.items.list(conversation.id, { order: 'asc' });
    assert.deepEqual(
      items.data.map((item) => item.type),
      ['message', 'message', 'function_call', 'function_call_output', 'message'],
    );
  });

  it('adds, retrieves and deletes items, which the next response sees', async () => {
    upstream.reset();
    const conversation = await alice.conversations.create();
    const added = await alice.conversations.items.create(conversation.id, {
      items: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Keep this.' }] },
        { role: 'user', content: 'Drop this.' },
      ],
    });
    assert.equal(added.object, 'list');
    assert.equal(added.data.length, 2);
    const [keepId, dropId] = added.data.map((item) => (item as { id: string }).id);
    assert.equal(added.first_id, keepId);
    const kept = await alice.conversations.items.retrieve(keepId, {
      conversation_id: conversation.id,
    });
    assert.deepEqual(kept, added.data[0]);
    const after = await alice.conversations.items.delete(dropId, {
      conversation_id: conversation.id,
    });
    assert.equal(after.id, conversation.id);
    assert.equal(after.object, 'conversation');
    await assert.rejects(
      alice.conversations.items.retrieve(dropId, { conversation_id: conversation.id }),
      notFound(),
    );
    await alice.responses.create({
      model: 'gpt-plain',
      input: 'Go.',
      conversation: conversation.id,
    });
    assert.deepEqual(upstream.calls[0]?.body.messages, [
      { role: 'user', content: 'Keep this.' },
      { role: 'user', content: 'Go.' },
    ]);
  });

  it("keeps each caller's conversations apart: another caller gets a 404 everywhere", async () => {
    const conversation = await alice.conversations.create({
      items: [{ role: 'user', content: 'secret plan' }],
    });
    await assert.rejects(bob.conversations.retrieve(conversation.id), notFound());
    await assert.rejects(bob.conversations.items.list(conversation.id), notFound());
    await assert.rejects(
      bob.conversations.items.create(conversation.id, { items: [{ role: 'user', content: 'x' }] }),
      notFound(),
    );
    await assert.rejects(bob.conversations.update(conversation.id, { metadata: {} }), notFound());
    await assert.rejects(bob.conversations.delete(conversation.id), notFound());
    await assert.rejects(
      bob.responses.create({ model: 'gpt-plain', input: 'and?', conversation: conversation.id }),
      (error: unknown) => notFound('conversation')(error) && !/secret/.test(String(error)),
    );
    const items = await alice.conversations.items.list(conversation.id);
    assert.deepEqual(said(items.data), ['user: secret plan']);
  });

  it('identifies a responses caller as the Conversations API does, not as the model route does', async () => {
    const conversation = await alice.conversations.create({
      items: [{ role: 'user', content: 'secret plan' }],
    });
    const clientWith = (headers: Record<string, string>) =>
      new OpenAI({
        baseURL: `${gateway.baseUrl}/v1`,
        apiKey: 'unused',
        maxRetries: 0,
        defaultHeaders: headers,
      });
    upstream.reset();
    // gpt-other's route takes x-other-user; conversations are owned as the first route
    // (x-user-id) identifies callers, where this one is not alice.
    const posing = clientWith({ 'x-other-user': 'alice', 'x-user-id': 'mallory' });
    await assert.rejects(
      posing.responses.create({ model: 'gpt-other', input: 'and?', conversation: conversation.id }),
      (error: unknown) => notFound('conversation')(error) && !/secret/.test(String(error)),
    );
    assert.equal(upstream.calls.length, 0, 'the request never reached the backend');
    // Alice, as both routes identify her: her conversation, and the turn appended to it.
    const both = clientWith({ 'x-other-user': 'alice-elsewhere', 'x-user-id': 'alice' });
    await both.responses.create({
      model: 'gpt-other',
      input: 'and?',
      conversation: conversation.id,
    });
    const items = await alice.conversations.items.list(conversation.id, { order: 'asc' });
    assert.deepEqual(said(items.data), ['user: secret plan', 'user: and?', `assistant: ${ANSWER}`]);
  });

  it('appends nothing of a failed response, plain or streamed', async () => {
    const conversation = await alice.conversations.create();
    upstream.next({ kind: 'status', status: 500 });
    await assert.rejects(
      alice.responses.create({ model: 'gpt-plain', input: 'Boom?', conversation: conversation.id }),
      OpenAI.APIError,
    );
    upstream.next({ kind: 'break-stream', afterChunks: 2 });
    const stream = await alice.responses.create({
      model: 'gpt-plain',
      input: 'Broken?',
      conversation: conversation.id,
      stream: true,
    });
    await assert.rejects(async () => {
      for await (const event of stream) void event;
    }, OpenAI.APIError);
    assert.deepEqual((await alice.conversations.items.list(conversation.id)).data, []);
  });

  it('refuses bad input with 400s naming the parameter', async () => {
    const bad = (param: string, message?: RegExp) => (error: unknown) =>
      error instanceof OpenAI.BadRequestError &&
      error.param === param &&
      (message === undefined || message.test(error.message));
    await assert.rejects(
      alice.conversations.create({
        items: Array.from({ length: 21 }, () => ({ role: 'user' as const, content: 'x' })),
      }),
      bad('items', /at most 20/),
    );
    await assert.rejects(
      alice.conversations.create({ metadata: { ['k'.repeat(65)]: 'v' } }),
      bad('metadata'),
    );
    const conversation = await alice.conversations.create();
    await assert.rejects(
      alice.conversations.items.create(conversation.id, {
        items: [{ role: 'robot' as 'user', content: 'x' }],
      }),
      bad('items[0].role'),
    );
    await assert.rejects(
      alice.conversations.items.list(conversation.id, { after: 'msg_nope' }),
      bad('after'),
    );
    const response = await alice.responses.create({ model: 'gpt-plain', input: 'hi' });
    await assert.rejects(
      alice.responses.create({
        model: 'gpt-plain',
        input: 'x',
        conversation: conversation.id,
        previous_response_id: response.id,
      }),
      bad('conversation', /Mutually exclusive/),
    );
  });

  it('answers a wrong method with a 405 naming the right ones', async () => {
    const list = await fetch(`${gateway.baseUrl}/v1/conversations`);
    assert.equal(list.status, 405);
    assert.equal(list.headers.get('allow'), 'POST');
    const put = await fetch(`${gateway.baseUrl}/conversations/conv_1/items/msg_1`, {
      method: 'PUT',
    });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, DELETE');
  });

  it('counts conversation operations in ai_gateway_stored_responses_total', async () => {
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const count = (text: string, event: string) =>
      metricSum(text, 'ai_gateway_stored_responses_total', { event });
    const before = await scrape();
    const conversation = await alice.conversations.create();
    await alice.responses.create({
      model: 'gpt-plain',
      input: 'hi',
      conversation: conversation.id,
    });
    await bob.conversations.retrieve(conversation.id).catch(() => undefined);
    await alice.conversations.delete(conversation.id);
    const after = await scrape();
    for (const [event, added] of [
      ['conversation_created', 1],
      ['conversation_items_added', 1],
      ['conversation_miss', 1],
      ['conversation_deleted', 1],
    ] as const) {
      assert.equal(count(after, event) - count(before, event), added, event);
    }
  });
});

describe('Conversations API with AI_GATEWAY_RESPONSES_STORE=false', () => {
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-conversations-off-e2e-'));
    gateway = await startApp('gateway', {
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_RESPONSES_STORE: 'false',
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => gateway?.stop());

  const storeOff = (kept: RegExp) => (error: unknown) =>
    error instanceof OpenAI.BadRequestError &&
    error.type === 'invalid_request_error' &&
    /response store is off/.test(error.message) &&
    kept.test(error.message);

  it('refuses every conversation call with a 400 saying the response store is off', async () => {
    await assert.rejects(client.conversations.create(), storeOff(/no conversations/));
    await assert.rejects(client.conversations.retrieve('conv_1'), storeOff(/no conversations/));
    await assert.rejects(client.conversations.items.list('conv_1'), storeOff(/no conversations/));
    await assert.rejects(
      client.conversations.items.delete('msg_1', { conversation_id: 'conv_1' }),
      storeOff(/no conversations/),
    );
  });

  it('refuses stored responses alike, as POST /v1/responses refuses previous_response_id', async () => {
    await assert.rejects(client.responses.retrieve('resp_1'), storeOff(/no responses/));
    await assert.rejects(client.responses.delete('resp_1'), storeOff(/no responses/));
    await assert.rejects(client.responses.inputItems.list('resp_1'), storeOff(/no responses/));
    await assert.rejects(
      client.responses.create({ model: 'gpt-4o-mini', input: 'hi', previous_response_id: 'r' }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError && /response store is off/.test(error.message),
    );
  });

  it('still counts input tokens and refuses cancel as with the store on: neither reads it', async () => {
    const counted = await client.responses.inputTokens.count({ model: 'gpt-4o-mini', input: 'hi' });
    assert.equal(counted.object, 'response.input_tokens');
    assert.ok(counted.input_tokens > 0);
    await assert.rejects(
      client.responses.cancel('resp_1'),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError && /background/.test(error.message),
    );
  });

  it('still answers a wrong method with a 405', async () => {
    const put = await fetch(`${gateway.baseUrl}/v1/conversations`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'POST');
  });
});
