import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { metricSum } from '@aigw/testing';
import {
  FakeAnthropicUpstream,
  FakeBedrockUpstream,
  FakeOpenAiToolUpstream,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { startOnAnthropicBackend } from './anthropic-backend';

const dir = mkdtempSync(join(tmpdir(), 'aigw-anthropic-e2e-'));

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' }, unit: { type: 'string' } },
    required: ['city'],
  },
};

/** A get_weather call whose tool failed ("down"), as a Messages client sends it back. */
const FAILED_TOOL_TURNS: Anthropic.MessageParam[] = [
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }],
  },
  {
    role: 'user',
    content: [{ type: 'tool_result', tool_use_id: 'toolu_1', is_error: true, content: 'down' }],
  },
];

// The SDK's request types no longer list top_k; the Messages wire format still has it.
const topK = (k: number): object => ({ top_k: k });

function clientFor(gateway: AppProcess): Anthropic {
  return new Anthropic({
    baseURL: gateway.baseUrl,
    apiKey: 'client-key-never-forwarded',
    maxRetries: 0,
  });
}

async function postRaw(
  gateway: AppProcess,
  path: string,
  body: string,
): Promise<{ status: number; body: { type?: string; error?: { type: string; message: string } } }> {
  const response = await fetch(`${gateway.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: (await response.json()) as never };
}

describe('Anthropic Messages API on the all-in-one gateway (quickstart config)', () => {
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    gateway = await startApp('gateway', { AI_GATEWAY_DATA_DIR: join(dir, 'quickstart') });
    client = clientFor(gateway);
  });
  after(() => gateway.stop());

  it('answers messages.create through the official SDK', async () => {
    const message = await client.messages.create({
      model: 'claude-local',
      max_tokens: 200,
      system: 'You are a test.',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, 'claude-local');
    assert.match(message.id, /^msg_/);
    assert.equal(message.stop_reason, 'end_turn');
    const first = message.content[0];
    assert.equal(first?.type, 'text');
    assert.match(first?.type === 'text' ? first.text : '', /Say hello/);
    assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
  });

  it('streams through messages.stream(...).finalMessage() with usage from message_delta', async () => {
    const stream = client.messages.stream({
      model: 'claude-local',
      max_tokens: 200,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Stream please' }] }],
    });
    let deltas = 0;
    stream.on('text', () => deltas++);
    const message = await stream.finalMessage();
    assert.ok(deltas > 3, 'the text arrives in several deltas');
    assert.equal(message.model, 'claude-local');
    assert.equal(message.stop_reason, 'end_turn');
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    assert.match(text, /Stream please/);
    assert.ok(message.usage.input_tokens > 0, 'input tokens reach the client at the end');
    assert.ok(message.usage.output_tokens > 0);
  });

  it('sends the documented event sequence to messages.create({ stream: true })', async () => {
    const stream = await client.messages.create({
      model: 'claude-local-small',
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'Events please' }],
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.equal(types[0], 'message_start');
    assert.equal(types[1], 'content_block_start');
    assert.ok(types.filter((type) => type === 'content_block_delta').length > 3);
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
  });

  it("lists and retrieves the virtual models in Anthropic's shape through the SDK", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      assert.equal(model.type, 'model');
      ids.push(model.id);
    }
    // The quickstart's virtual model names, as GET /v1/models lists them to OpenAI clients.
    assert.ok(ids.includes('gpt-4o-mini'), ids.join(','));
    const one = await client.models.retrieve('gpt-4o-mini');
    assert.equal(one.id, 'gpt-4o-mini');
    assert.equal(one.display_name, 'gpt-4o-mini');
    await assert.rejects(client.models.retrieve('no-such-model'), Anthropic.NotFoundError);
  });

  it("names every models answer's id in Anthropic's request-id, a 404 included", async () => {
    const listed = await client.models.list().withResponse();
    assert.ok(listed.request_id, 'models.list has no request id');
    const one = await client.models.retrieve('gpt-4o-mini');
    assert.ok(one._request_id, 'models.retrieve has no request id');
    const missing = await client.models.retrieve('no-such-model').then(
      () => assert.fail('an unknown model was found'),
      (error: unknown) => error,
    );
    assert.ok(missing instanceof Anthropic.NotFoundError, String(missing));
    assert.equal(missing.requestID, missing.headers.get('x-request-id'));
    assert.ok(missing.requestID);
  });

  it('is counted under its own route in the request metrics', async () => {
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const requests = (text: string, route: string) =>
      metricSum(text, 'ai_gateway_requests_total', { route });
    const before = await scrape();
    await client.messages.create({
      model: 'claude-local',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'Count me' }],
    });
    const after = await scrape();
    assert.equal(requests(after, 'messages') - requests(before, 'messages'), 1);
    assert.equal(requests(after, 'chat.completions'), requests(before, 'chat.completions'));
  });

  it("names each call's request id where the SDK reads it (request-id), answers and errors alike", async () => {
    const ask = {
      model: 'claude-local',
      max_tokens: 50,
      messages: [{ role: 'user' as const, content: 'ids' }],
    };
    const answered = await client.messages.create(ask).withResponse();
    const streamed = await client.messages.create({ ...ask, stream: true }).withResponse();
    for await (const event of streamed.data) assert.ok(event.type);
    const counted = await client.messages.countTokens(ask).withResponse();
    const ids = [answered, streamed, counted].map((call) => call.request_id);
    assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0));
    assert.equal(new Set(ids).size, 3, 'one id per call');
    // The model calls' id is the one our logs and x-request-id carry.
    for (const call of [answered, streamed]) {
      assert.equal(call.request_id, call.response.headers.get('x-request-id'));
    }
    assert.equal((answered.data as { _request_id?: unknown })._request_id, answered.request_id);
    const refused = await client.messages.create({ ...ask, max_tokens: 0 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof Anthropic.BadRequestError);
    assert.ok(refused.requestID);
    assert.equal(refused.requestID, refused.headers?.get('x-request-id'));
  });

  it("answers a wrong method on its path in Anthropic's error shape", async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/messages`);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    const body = (await response.json()) as { type: string; error: { type: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
  });

  it('counts tokens', async () => {
    const counted = await client.messages.countTokens({
      model: 'claude-local',
      system: 'You are a test.',
      messages: [{ role: 'user', content: 'How many tokens is this?' }],
    });
    assert.ok(counted.input_tokens > 5);
  });

  it('answers bad input with Anthropic errors the SDK maps to its classes, and keeps serving', async () => {
    await assert.rejects(
      client.messages.create({
        model: 'claude-local',
        messages: [{ role: 'user', content: 'no max_tokens' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError &&
        /max_tokens: Field required/.test(error.message) &&
        (error.error as { error?: { type?: string } }).error?.type === 'invalid_request_error',
    );

    // A tool schema nested past 64 levels, on both routes that walk it (it once gave a 500).
    const levels = 5_000;
    const deepTools = `[{"name":"f","input_schema":${'{"type":"object","properties":{"a":'.repeat(levels)}{}${'}}'.repeat(levels)}}]`;
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const deep = await postRaw(
        gateway,
        path,
        `{"model":"claude-local","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":${deepTools}}`,
      );
      assert.equal(deep.status, 400, path);
      assert.equal(deep.body.error?.type, 'invalid_request_error', path);
      assert.match(deep.body.error?.message ?? '', /deeper than 64 levels/, path);
    }

    const malformed = await postRaw(gateway, '/v1/messages', '{"model": "m", "messages": [');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.type, 'error');
    assert.equal(malformed.body.error?.type, 'invalid_request_error');

    const huge = await postRaw(
      gateway,
      '/v1/messages',
      JSON.stringify({
        model: 'm',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x'.repeat(33 * 1024 * 1024) }],
      }),
    );
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error?.type, 'request_too_large');

    const unknownPath = await postRaw(gateway, '/v1/messages/nope', '{}');
    assert.equal(unknownPath.status, 404);
    assert.equal(unknownPath.body.error?.type, 'not_found_error');

    // The OpenAI endpoints keep their own error shape.
    const openAi = await postRaw(gateway, '/v1/chat/completions', '{"model": "m", "messages": [');
    assert.equal(openAi.status, 400);
    assert.equal(openAi.body.type, undefined);
    assert.equal(openAi.body.error?.type, 'invalid_request_error');

    const still = await client.messages.create({
      model: 'claude-local',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'still there?' }],
    });
    assert.equal(still.content[0]?.type, 'text');
  });

  it('blocks a prompt matching a block pattern with a 400 that does not echo it', async () => {
    await assert.rejects(
      client.messages.create({
        model: 'claude-local',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'my ssn: 123-45-6789' }],
      }),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError &&
        /blockPatterns\[0\]/.test(error.message) &&
        !error.message.includes('123-45-6789'),
    );
  });
});

describe('Anthropic Messages API against OpenAI-compatible upstreams', () => {
  const tools = new FakeOpenAiToolUpstream();
  const plain = new FakeOpenAiUpstream('plain');
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await Promise.all([tools.start(), plain.start()]);
    const config = join(dir, 'upstreams.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: anthropic-edge}
spec:
  backends:
  - name: tools
    provider: vllm
    baseUrl: ${tools.baseUrl}
    model: upstream-tool-model
    modelNameOverride: claude-tools
    auth:
      apiKeyRef: {name: tools-key}
  - name: plain
    provider: vllm
    baseUrl: ${plain.baseUrl}
    model: upstream-plain-model
    modelNameOverride: claude-plain
  - name: deepseek
    provider: deepseek
    baseUrl: ${tools.baseUrl}
    model: deepseek-v4-pro
    modelNameOverride: claude-deepseek
    auth:
      apiKeyRef: {name: tools-key}
  failover:
    on: [rateLimit, timeout, error]
    retryDelay: 0s
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_TOOLS_KEY_APIKEY: 'sk-tools-secret',
      AI_GATEWAY_DATA_DIR: join(dir, 'upstreams'),
    });
    client = clientFor(gateway);
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([tools.stop(), plain.stop()]);
  });

  it('completes a tool-use round trip, plain', async () => {
    tools.reset();
    const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris?' };
    const first = await client.messages.create({
      model: 'claude-tools',
      max_tokens: 300,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'auto' },
      messages: [question],
    });
    assert.equal(first.model, 'claude-tools');
    assert.equal(first.stop_reason, 'tool_use');
    const toolUse = first.content.find((block) => block.type === 'tool_use');
    assert.ok(toolUse && toolUse.type === 'tool_use');
    assert.equal(toolUse.name, 'get_weather');
    assert.deepEqual(toolUse.input, { city: 'Paris', unit: 'celsius' });
    assert.equal(first.usage.output_tokens, 17);

    const upstreamFirst = tools.calls[0];
    assert.equal(upstreamFirst?.body.model, 'upstream-tool-model');
    assert.equal(upstreamFirst?.headers.authorization, 'Bearer sk-tools-secret');
    assert.equal(upstreamFirst?.headers['x-api-key'], undefined, "the client's key stays here");
    assert.deepEqual(upstreamFirst?.body.tools, [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: WEATHER_TOOL.input_schema,
          description: WEATHER_TOOL.description,
        },
      },
    ]);

    const second = await client.messages.create({
      model: 'claude-tools',
      max_tokens: 300,
      tools: [WEATHER_TOOL],
      messages: [
        question,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '18C and sunny' }],
        },
      ],
    });
    assert.equal(second.stop_reason, 'end_turn');
    const answer = second.content[0];
    assert.equal(answer?.type === 'text' ? answer.text : '', 'The tool said: 18C and sunny');
    const sent = tools.calls[1]?.body.messages as Record<string, unknown>[];
    assert.deepEqual(sent.at(-1), {
      role: 'tool',
      tool_call_id: toolUse.id,
      content: '18C and sunny',
    });
    assert.deepEqual(
      (sent.at(-2)?.tool_calls as Record<string, unknown>[] | undefined)?.[0]?.function,
      { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
    );
  });

  it('completes a tool-use round trip, streaming, with the input rebuilt from input_json_delta', async () => {
    tools.reset();
    const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Oslo?' };
    let jsonDeltas = 0;
    const firstStream = client.messages.stream({
      model: 'claude-tools',
      max_tokens: 300,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [question],
    });
    firstStream.on('inputJson', () => jsonDeltas++);
    const first = await firstStream.finalMessage();
    assert.ok(jsonDeltas >= 2, 'the arguments arrive in pieces');
    assert.equal(first.stop_reason, 'tool_use');
    assert.deepEqual(
      first.content.map((block) => block.type),
      ['text', 'tool_use'],
    );
    const toolUse = first.content[1];
    assert.ok(toolUse?.type === 'tool_use');
    assert.deepEqual(toolUse.input, { city: 'Paris', unit: 'celsius' });
    assert.deepEqual(tools.calls[0]?.body.tool_choice, {
      type: 'function',
      function: { name: 'get_weather' },
    });
    assert.equal(first.usage.input_tokens, 31);
    assert.equal(first.usage.output_tokens, 17);

    const second = await client.messages
      .stream({
        model: 'claude-tools',
        max_tokens: 300,
        tools: [WEATHER_TOOL],
        messages: [
          question,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '-3C' }],
          },
        ],
      })
      .finalMessage();
    const text = second.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    assert.equal(text, 'The tool said: -3C');
    assert.equal(second.stop_reason, 'end_turn');
  });

  it("tells an OpenAI-format backend of a failed tool in the result's text", async () => {
    tools.reset();
    await client.messages.create({
      model: 'claude-tools',
      max_tokens: 100,
      tools: [WEATHER_TOOL],
      messages: FAILED_TOOL_TURNS,
    });
    const sent = tools.calls[0]?.body.messages as Record<string, unknown>[];
    assert.deepEqual(sent.at(-1), {
      role: 'tool',
      tool_call_id: 'toolu_1',
      content: 'Error: down',
    });
  });

  it("sends DeepSeek a tool-use turn's thinking as reasoning_content, which its thinking mode requires back", async () => {
    // DeepSeek answers 400 "The reasoning_content in the thinking mode must be passed back"
    // when a tool-call turn comes back without it; a Messages client returns it as a
    // thinking block (unsigned: DeepSeek signs none).
    tools.reset();
    await client.messages.create({
      model: 'claude-deepseek',
      max_tokens: 100,
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I need the weather tool.', signature: '' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }],
        },
      ],
    });
    assert.equal(tools.calls[0]?.body.model, 'deepseek-v4-pro');
    const sent = tools.calls[0]?.body.messages as Record<string, unknown>[];
    assert.equal(sent[1]?.reasoning_content, 'I need the weather tool.');
    assert.equal('thinking_blocks' in (sent[1] ?? {}), false);
  });

  it('ends a stream that breaks after its first byte with an error the SDK raises', async () => {
    plain.reset();
    plain.next({ kind: 'break-stream', afterChunks: 2 });
    await assert.rejects(
      client.messages
        .stream({
          model: 'claude-plain',
          max_tokens: 100,
          messages: [{ role: 'user', content: 'hi' }],
        })
        .finalMessage(),
      (error: unknown) =>
        error instanceof Anthropic.APIError &&
        (error.error as { error?: { type?: string } }).error?.type === 'api_error',
    );
    // And the next one is served normally.
    const message = await client.messages.create({
      model: 'claude-plain',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const first = message.content[0];
    assert.equal(first?.type === 'text' ? first.text : '', 'Hello from the fake upstream.');
  });

  it('leaves top_k out for an OpenAI-format backend', async () => {
    plain.reset();
    await client.messages.create({
      model: 'claude-plain',
      max_tokens: 100,
      ...topK(5),
      messages: [{ role: 'user', content: 'hi' }],
    });
    const sent = plain.calls.at(-1)!.body;
    assert.equal(sent.top_k, undefined);
    assert.equal(sent.provider_extras, undefined);
  });

  it('maps upstream failures to Anthropic statuses', async () => {
    plain.reset();
    plain.always({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    try {
      await assert.rejects(
        client.messages.create({
          model: 'claude-plain',
          max_tokens: 100,
          messages: [{ role: 'user', content: 'hi' }],
        }),
        (error: unknown) => {
          assert.ok(error instanceof Anthropic.RateLimitError, String(error));
          assert.equal(
            (error.error as { error?: { type?: string } }).error?.type,
            'rate_limit_error',
          );
          return true;
        },
      );
    } finally {
      plain.reset();
    }
  });

  it('answers an unknown model with not_found_error', async () => {
    await assert.rejects(
      client.messages.create({
        model: 'claude-does-not-exist',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (error: unknown) =>
        error instanceof Anthropic.NotFoundError &&
        (error.error as { error?: { type?: string } }).error?.type === 'not_found_error',
    );
  });

  it('refuses to count for a model it does not serve, as messages.create refuses it', async () => {
    const body = (model: string) =>
      JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    for (const model of ['claude-does-not-exist', '../../admin']) {
      const created = await postRaw(gateway, '/v1/messages', body(model));
      const counted = await postRaw(gateway, '/v1/messages/count_tokens', body(model));
      assert.equal(created.status, 404);
      assert.equal(counted.status, created.status);
      const { request_id: _created, ...refused } = created.body as Record<string, unknown>;
      const { request_id: _counted, ...counting } = counted.body as Record<string, unknown>;
      assert.deepEqual(counting, refused);
      assert.equal(counted.body.error?.type, 'not_found_error');
    }
  });
});

describe('Anthropic Messages API on an Anthropic backend: top_k reaches it', () => {
  const upstream = new FakeAnthropicUpstream();
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await upstream.start();
    gateway = await startOnAnthropicBackend(upstream, 'claude-direct');
    client = clientFor(gateway);
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
  });

  it('sends top_k as the client sent it, plain and streamed', async () => {
    upstream.reset();
    const ask = { model: 'claude-direct', max_tokens: 100, ...topK(5) } as const;
    const message = await client.messages.create({
      ...ask,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(message.type, 'message');
    const stream = client.messages.stream({
      ...ask,
      messages: [{ role: 'user', content: 'stream' }],
    });
    await stream.finalMessage();
    assert.deepEqual(
      upstream.calls.map((call) => [call.body.top_k, call.body.provider_extras]),
      [
        [5, undefined],
        [5, undefined],
      ],
    );
  });

  it('answers stop_sequence with the sequence the backend stopped at, plain and streamed', async () => {
    upstream.reset();
    upstream.stopAtSequence();
    const ask = { model: 'claude-direct', max_tokens: 100, stop_sequences: ['###', 'END'] };
    const message = await client.messages.create({
      ...ask,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.deepEqual([message.stop_reason, message.stop_sequence], ['stop_sequence', '###']);
    const streamed = await client.messages
      .stream({ ...ask, messages: [{ role: 'user', content: 'stream' }] })
      .finalMessage();
    assert.deepEqual([streamed.stop_reason, streamed.stop_sequence], ['stop_sequence', '###']);
    assert.deepEqual(
      upstream.calls.map((call) => call.body.stop_sequences),
      [ask.stop_sequences, ask.stop_sequences],
    );
  });

  it("keeps a failed tool's is_error as the tool_result's flag, its text unprefixed", async () => {
    upstream.reset();
    await client.messages.create({
      model: 'claude-direct',
      max_tokens: 100,
      tools: [WEATHER_TOOL],
      messages: FAILED_TOOL_TURNS,
    });
    const sent = upstream.calls[0]?.body.messages as { content: unknown[] }[];
    assert.deepEqual(sent.at(-1)?.content, [
      { type: 'tool_result', tool_use_id: 'toolu_1', content: 'down', is_error: true },
    ]);
  });

  it('answers model_context_window_exceeded as itself, plain and streamed', async () => {
    upstream.reset();
    upstream.stopWith('model_context_window_exceeded');
    const ask = { model: 'claude-direct', max_tokens: 100 };
    const message = await client.messages.create({
      ...ask,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(message.stop_reason, 'model_context_window_exceeded');
    const streamed = await client.messages
      .stream({ ...ask, messages: [{ role: 'user', content: 'stream' }] })
      .finalMessage();
    assert.equal(streamed.stop_reason, 'model_context_window_exceeded');
    // An OpenAI client has no such reason: length is its nearest.
    const chat = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...ask, messages: [{ role: 'user', content: 'chat' }] }),
    });
    const body = (await chat.json()) as { choices: { finish_reason: string }[] };
    assert.equal(body.choices[0]?.finish_reason, 'length');
  });

  it('sends service_tier on and answers the tier Anthropic served at', async () => {
    upstream.reset();
    upstream.reportUsage({
      input_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 3,
      service_tier: 'priority',
    });
    const message = await client.messages.create({
      model: 'claude-direct',
      max_tokens: 100,
      service_tier: 'standard_only',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(upstream.calls[0]?.body.service_tier, 'standard_only');
    assert.equal(message.usage.service_tier, 'priority');
  });

  it("streams the tier Anthropic served at in message_start's usage, where Anthropic puts it", async () => {
    upstream.reset();
    upstream.reportUsage({
      input_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 3,
      service_tier: 'priority',
    });
    const ask = {
      model: 'claude-direct',
      max_tokens: 100,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    const events = await client.messages.create({ ...ask, stream: true });
    const tiers: unknown[] = [];
    for await (const event of events) {
      if (event.type === 'message_start') tiers.push(['start', event.message.usage.service_tier]);
      if (event.type === 'message_delta') tiers.push(['delta', 'service_tier' in event.usage]);
    }
    assert.deepEqual(tiers, [
      ['start', 'priority'],
      ['delta', false],
    ]);
    // The SDK's accumulated message keeps message_start's usage fields.
    const streamed = await client.messages.stream(ask).finalMessage();
    assert.equal(streamed.usage.service_tier, 'priority');
  });

  it('sends a PDF document block on as a document, cache mark and title kept', async () => {
    upstream.reset();
    const pdf = Buffer.from('%PDF-1.4 fake').toString('base64');
    const message = await client.messages.create({
      model: 'claude-direct',
      max_tokens: 100,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'document',
              title: 'report.pdf',
              source: { type: 'base64', media_type: 'application/pdf', data: pdf },
              cache_control: { type: 'ephemeral' },
            },
            { type: 'text', text: 'Summarise it' },
          ],
        },
      ],
    });
    assert.equal(message.type, 'message');
    const sent = (upstream.calls[0]?.body.messages as { content: unknown[] }[])[0]?.content;
    assert.deepEqual(sent, [
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: pdf },
        title: 'report.pdf',
        cache_control: { type: 'ephemeral' },
      },
      { type: 'text', text: 'Summarise it' },
    ]);
  });

  it("ends a stream the backend broke off with overloaded_error in that error's own type", async () => {
    upstream.reset();
    // After message_start, the text block's start, a ping and the first word: an error
    // before the first word fails over (one backend here: a 529 before the stream).
    upstream.next({ kind: 'stream-error', afterChunks: 4 });
    const events: string[] = [];
    const failure = await (async () => {
      const stream = await client.messages.create({
        model: 'claude-direct',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      for await (const event of stream) events.push(event.type);
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(events.includes('message_start'), 'the error came after the answer began');
    assert.ok(failure instanceof Anthropic.APIError);
    // What Anthropic itself streams then, and what clients retry on (a 529 when not streamed).
    assert.equal((failure.error as { error?: { type?: string } }).error?.type, 'overloaded_error');
  });

  it('refuses a top_k that is not a whole number of at least 0 before any call', async () => {
    upstream.reset();
    await assert.rejects(
      client.messages.create({
        model: 'claude-direct',
        max_tokens: 100,
        ...topK(-1),
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /top_k/.test(error.message),
    );
    assert.equal(upstream.calls.length, 0);
  });
});

describe('Claude Opus 4.7 on an Anthropic backend: sampling settings it refuses are left out', () => {
  const upstream = new FakeAnthropicUpstream();
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    gateway = await startOnAnthropicBackend(upstream, 'claude-opus', 'claude-opus-4-7');
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
  });

  const scrape = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  const dropped = (text: string, setting: string) =>
    metricSum(text, 'ai_gateway_request_settings_dropped_total', {
      provider: 'anthropic',
      setting,
      reason: 'model',
    });

  it("answers an OpenAI client's temperature and top_p with a 200, sending neither, and counts them", async () => {
    upstream.reset();
    const openai = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
    });
    const before = await scrape();
    const completion = await openai.chat.completions.create({
      model: 'claude-opus',
      temperature: 0.2,
      top_p: 0.9,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.choices[0].finish_reason, 'stop');
    const stream = await openai.chat.completions.create({
      model: 'claude-opus',
      temperature: 0.2,
      top_p: 0.9,
      stream: true,
      messages: [{ role: 'user', content: 'stream' }],
    });
    for await (const chunk of stream) void chunk;
    assert.equal(upstream.calls.length, 2);
    for (const call of upstream.calls) {
      assert.equal(call.body.model, 'claude-opus-4-7');
      assert.ok(
        !('temperature' in call.body) && !('top_p' in call.body),
        JSON.stringify(call.body),
      );
    }
    const after = await scrape();
    assert.equal(dropped(after, 'temperature') - dropped(before, 'temperature'), 2);
    assert.equal(dropped(after, 'top_p') - dropped(before, 'top_p'), 2);
  });

  it("sends none of a Messages client's temperature, top_p and top_k", async () => {
    upstream.reset();
    // The SDK's request types no longer list them (sampling is gone from current models);
    // older clients still send them on the wire.
    const sampling: object = { temperature: 0.5, top_p: 0.8, top_k: 5 };
    const message = await clientFor(gateway).messages.create({
      model: 'claude-opus',
      max_tokens: 100,
      ...sampling,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(message.type, 'message');
    const body = upstream.calls[0].body;
    for (const setting of ['temperature', 'top_p', 'top_k', 'provider_extras']) {
      assert.ok(!(setting in body), setting);
    }
  });

  it("counts an OpenAI client's seed and penalties, which Claude has no place for, as unsupported", async () => {
    upstream.reset();
    const unsupported = (text: string, setting: string) =>
      metricSum(text, 'ai_gateway_request_settings_dropped_total', {
        provider: 'anthropic',
        setting,
        reason: 'unsupported',
      });
    const openai = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
    });
    const before = await scrape();
    const asked = {
      model: 'claude-opus',
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: 0,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    await openai.chat.completions.create(asked);
    const stream = await openai.chat.completions.create({ ...asked, stream: true });
    for await (const chunk of stream) void chunk;
    for (const call of upstream.calls) {
      for (const setting of ['seed', 'presence_penalty', 'frequency_penalty']) {
        assert.ok(!(setting in call.body), setting);
      }
    }
    const after = await scrape();
    assert.equal(unsupported(after, 'seed') - unsupported(before, 'seed'), 2);
    assert.equal(
      unsupported(after, 'presence_penalty') - unsupported(before, 'presence_penalty'),
      2,
    );
    // A penalty of 0 is no penalty: Claude answers it as asked.
    assert.equal(
      unsupported(after, 'frequency_penalty') - unsupported(before, 'frequency_penalty'),
      0,
    );
  });
});

// Claude 4.6 and later refuse a request whose last message is the assistant's (a
// prefill): Anthropic's 400, "This model does not support assistant message prefill". The
// gateway relays it: the client's own request is at fault, so each client gets a 400 in its
// API's format that names the cause, and the backend is neither failed over nor cooled.
describe('Claude Opus 4.7: an assistant prefill is refused as the client error it is', () => {
  const PREFILL =
    'This model does not support assistant message prefill. The conversation must end with a user message.';
  const primary = new FakeAnthropicUpstream();
  const standby = new FakeAnthropicUpstream();
  let gateway: AppProcess;

  before(async () => {
    await Promise.all([primary.start(), standby.start()]);
    const config = join(dir, 'prefill.yaml');
    const backend = (name: string, upstream: FakeAnthropicUpstream, priority: number) =>
      `  - {name: ${name}, provider: anthropic, baseUrl: "${upstream.baseUrl}", model: claude-opus-4-7, modelNameOverride: claude-opus, priority: ${priority}, auth: {apiKeyRef: {name: anthropic-key}}}`;
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: opus}
spec:
  backends:
${backend('primary', primary, 0)}
${backend('standby', standby, 1)}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'prefill-data'),
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([primary.stop(), standby.stop()]);
  });

  const refusePrefill = () =>
    primary.next({
      kind: 'status',
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message: PREFILL } },
    });
  /** The primary's state on the admin port: `available` unless cooled or drained. */
  const primaryState = async () => {
    const reply = await fetch(`http://127.0.0.1:${gateway.adminPort}/admin/backends`);
    const view = (await reply.json()) as { backends: { backend: string; state: string }[] };
    return view.backends.find((backend) => backend.backend === 'primary')?.state;
  };
  const lastRole = () => {
    const messages = primary.calls.at(-1)?.body.messages as { role: string }[] | undefined;
    return messages?.at(-1)?.role;
  };

  it("answers an OpenAI client's trailing assistant message with a 400 that names the prefill", async () => {
    primary.reset();
    standby.reset();
    refusePrefill();
    const openai = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'c', maxRetries: 0 });
    await assert.rejects(
      openai.chat.completions.create({
        model: 'claude-opus',
        messages: [
          { role: 'user', content: 'Give me JSON.' },
          { role: 'assistant', content: '{"answer":' },
        ],
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.type === 'invalid_request_error' &&
        error.message.includes('does not support assistant message prefill'),
    );
    // Sent as the client wrote it, once: no retry, no other backend, no cooldown.
    assert.equal(primary.calls.length, 1);
    assert.equal(lastRole(), 'assistant');
    assert.equal(standby.calls.length, 0);
    assert.equal(await primaryState(), 'available');
  });

  it('answers a Messages client the same in its own error format, and serves the next call', async () => {
    primary.reset();
    standby.reset();
    refusePrefill();
    const client = clientFor(gateway);
    await assert.rejects(
      client.messages.create({
        model: 'claude-opus',
        max_tokens: 100,
        messages: [
          { role: 'user', content: 'Give me JSON.' },
          { role: 'assistant', content: '{"answer":' },
        ],
      }),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError &&
        (error.error as { error?: { type?: string } }).error?.type === 'invalid_request_error' &&
        error.message.includes('does not support assistant message prefill'),
    );
    assert.equal(standby.calls.length, 0);
    assert.equal(await primaryState(), 'available');
    // The same backend answers the next, well-formed request.
    const message = await client.messages.create({
      model: 'claude-opus',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Give me JSON.' }],
    });
    assert.equal(message.type, 'message');
    assert.equal(primary.calls.length, 2);
    assert.equal(standby.calls.length, 0);
  });
});

describe('a Bedrock backend: PDFs reach Converse as document blocks, the served tier is answered', () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLEPDF',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEPDF',
  };
  const upstream = new FakeBedrockUpstream(credentials);
  const pdf = Buffer.from('%PDF-1.4 fake').toString('base64');
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    const config = join(dir, 'bedrock-pdf.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: bedrock-pdf}
spec:
  backends:
  - name: claude
    provider: bedrock
    baseUrl: ${upstream.baseUrl}
    model: anthropic.claude-sonnet-4-5-20250929-v1:0
    modelNameOverride: claude-bedrock
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'bedrock-pdf'),
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: '',
      AWS_REGION: 'us-east-1',
    });
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
  });

  it('sends a Messages document block and a chat file part, each named as Converse allows', async () => {
    const message = await clientFor(gateway).messages.create({
      model: 'claude-bedrock',
      max_tokens: 100,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'document',
              title: 'Q3 report_v2.pdf',
              source: { type: 'base64', media_type: 'application/pdf', data: pdf },
            },
            {
              type: 'document',
              title: 'Q3 report v2',
              source: { type: 'base64', media_type: 'application/pdf', data: pdf },
            },
            { type: 'text', text: 'Compare them' },
          ],
        },
      ],
    });
    assert.equal(message.type, 'message');
    const sent = (upstream.calls[0]?.body.messages as { content: unknown[] }[])[0]?.content;
    assert.deepEqual(sent, [
      { document: { format: 'pdf', name: 'Q3 report v2', source: { bytes: pdf } } },
      { document: { format: 'pdf', name: 'Q3 report v2 (2)', source: { bytes: pdf } } },
      { text: 'Compare them' },
    ]);

    const chat = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-bedrock',
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'file',
                file: { file_data: `data:application/pdf;base64,${pdf}`, filename: 'a/b.pdf' },
              },
              { type: 'text', text: 'Summarise' },
            ],
          },
        ],
      }),
    });
    assert.equal(chat.status, 200);
    const fromChat = (upstream.calls[1]?.body.messages as { content: unknown[] }[])[0]?.content;
    assert.deepEqual(fromChat?.[0], {
      document: { format: 'pdf', name: 'a b', source: { bytes: pdf } },
    });
  });

  it("answers the tier Converse served at, streamed in message_delta's usage (Bedrock names it last)", async () => {
    upstream.reset();
    const ask = {
      model: 'claude-bedrock',
      max_tokens: 100,
      service_tier: 'standard_only' as const,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    const message = await clientFor(gateway).messages.create(ask);
    assert.deepEqual(upstream.calls[0]?.body.serviceTier, { type: 'default' });
    assert.equal(message.usage.service_tier, 'standard');
    const events = await clientFor(gateway).messages.create({ ...ask, stream: true });
    const tiers: unknown[] = [];
    for await (const event of events) {
      if (event.type === 'message_start') tiers.push(['start', event.message.usage.service_tier]);
      if (event.type === 'message_delta') {
        tiers.push(['delta', (event.usage as { service_tier?: string }).service_tier]);
      }
    }
    assert.deepEqual(tiers, [
      ['start', undefined],
      ['delta', 'standard'],
    ]);
  });
});
