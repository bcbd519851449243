// OpenAI's Responses API (what Codex CLI and the Agents SDK speak) through the all-in-one
// gateway, with the official openai client, against OpenAI-compatible fake upstreams:
// every request reaches the backend as a chat completion, and every answer comes back as
// a Response or the Responses event stream.
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
  FakeOpenAiToolUpstream,
  FakeOpenAiUpstream,
  RawSseUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string' } },
    required: ['city'],
  },
  strict: false,
};

/** WEATHER_TOOL as the backend gets it: chat's nested function tool. */
const WEATHER_CHAT_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: WEATHER_TOOL.description,
    parameters: WEATHER_TOOL.parameters,
    strict: false,
  },
};

/** Codex CLI's free-form patch tool for GPT-5 models. */
const APPLY_PATCH_TOOL: OpenAI.Responses.CustomTool = {
  type: 'custom',
  name: 'apply_patch',
  description: 'Apply a patch to the workspace',
  format: { type: 'grammar', syntax: 'lark', definition: 'start: /(.|\\n)+/' },
};

type Json = Record<string, unknown>;

/**
 * What Ollama streams for two parallel get_weather calls (Oslo, Rome): every call at index 0,
 * each first fragment with its own id.
 */
function indexZeroStream(): (Json | string)[] {
  const chunk = (delta: Json, finish_reason: string | null = null) => ({
    id: 'chatcmpl-ollama',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'upstream-raw-model',
    choices: [{ index: 0, delta, finish_reason }],
  });
  const call = (id: string, city: string) => ({
    index: 0,
    id,
    type: 'function',
    function: { name: 'get_weather', arguments: JSON.stringify({ city }) },
  });
  return [
    chunk({ role: 'assistant', tool_calls: [call('call_oslo', 'Oslo')] }),
    chunk({ tool_calls: [call('call_rome', 'Rome')] }),
    chunk({}, 'tool_calls'),
    '[DONE]',
  ];
}

describe('Responses API on the all-in-one gateway, against OpenAI-compatible upstreams', () => {
  const tools = new FakeOpenAiToolUpstream();
  const plain = new FakeOpenAiUpstream('plain');
  /** Streams exactly the chunks a test queues, for answers the other fakes never give. */
  const raw = new RawSseUpstream();
  /** An Anthropic backend: it takes function tools only. */
  const claude = new FakeAnthropicUpstream();
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([tools.start(), plain.start(), raw.start(), claude.start()]);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-responses-e2e-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: responses-edge}
spec:
  backends:
  - name: tools
    provider: vllm
    baseUrl: ${tools.baseUrl}
    model: upstream-tool-model
    modelNameOverride: gpt-tools
  - name: plain
    provider: vllm
    baseUrl: ${plain.baseUrl}
    model: upstream-plain-model
    modelNameOverride: gpt-plain
  - name: raw
    provider: vllm
    baseUrl: ${raw.baseUrl}
    model: upstream-raw-model
    modelNameOverride: gpt-raw
  - name: claude
    provider: anthropic
    baseUrl: ${claude.baseUrl}
    model: claude-sonnet-4-5
    modelNameOverride: claude-tools
    auth: {apiKeyRef: {name: anthropic-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
    client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'client-key-never-forwarded',
      maxRetries: 0,
    });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([tools.stop(), plain.stop(), raw.stop(), claude.stop()]);
  });

  it('answers responses.create with a Response whose output_text the SDK reads', async () => {
    plain.reset();
    const response = await client.responses.create({
      model: 'gpt-plain',
      instructions: 'Be brief.',
      input: 'Say hello',
      max_output_tokens: 50,
      temperature: 0.2,
    });
    assert.equal(response.object, 'response');
    assert.match(response.id, /^resp_/);
    assert.equal(response.status, 'completed');
    assert.equal(response.model, 'gpt-plain');
    assert.equal(response.output_text, 'Hello from the fake upstream.');
    assert.equal(response.instructions, 'Be brief.');
    assert.equal(response.max_output_tokens, 50);
    assert.deepEqual(response.usage, {
      input_tokens: 12,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 6,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 18,
    });
    // The backend got a chat completion.
    const sent = plain.calls[0];
    assert.equal(sent?.path, '/v1/chat/completions');
    assert.equal(sent?.body.model, 'upstream-plain-model');
    assert.deepEqual(sent?.body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello' },
    ]);
    assert.equal(sent?.body.max_tokens, 50);
    assert.equal(sent?.body.temperature, 0.2);
  });

  it("passes the settings chat takes too (Codex's prompt_cache_key, tier, verbosity) to the backend", async () => {
    plain.reset();
    await client.responses.create({
      model: 'gpt-plain',
      input: 'Say hello',
      prompt_cache_key: 'codex-session-1',
      safety_identifier: 'hashed-user',
      service_tier: 'flex',
      text: { verbosity: 'low' },
    });
    const sent = plain.calls[0]?.body;
    assert.equal(sent?.prompt_cache_key, 'codex-session-1');
    assert.equal(sent?.safety_identifier, 'hashed-user');
    assert.equal(sent?.service_tier, 'flex');
    assert.equal(sent?.verbosity, 'low');
  });

  it('names the tier the backend served it at, in the Response and in response.completed', async () => {
    claude.reset();
    claude.reportUsage({
      input_tokens: 20,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 9,
      service_tier: 'priority',
    });
    const answer = await client.responses.create({
      model: 'claude-tools',
      input: 'Say hello',
      service_tier: 'default',
    });
    assert.equal(answer.service_tier, 'priority');
    const stream = client.responses.stream({ model: 'claude-tools', input: 'Say hello' });
    const streamed = await stream.finalResponse();
    assert.equal(streamed.service_tier, 'priority');
    // The requested tier reached Anthropic in its own terms (default is standard_only).
    assert.equal(claude.calls[0]?.body.service_tier, 'standard_only');
  });

  it('completes a function-calling round trip: the call, then its output in the next turn', async () => {
    tools.reset();
    const question: OpenAI.Responses.ResponseInputItem = {
      role: 'user',
      content: 'Weather in Paris?',
    };
    const first = await client.responses.create({
      model: 'gpt-tools',
      input: [question],
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
    });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call?.type === 'function_call', JSON.stringify(first.output));
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris', unit: 'celsius' });
    assert.equal(first.output_text, 'Let me look that up.');
    assert.deepEqual(tools.calls[0]?.body.tools, [WEATHER_CHAT_TOOL]);
    assert.equal(tools.calls[0]?.body.tool_choice, 'auto');

    // As an agent loop does: the whole output goes back, with the function's output.
    const second = await client.responses.create({
      model: 'gpt-tools',
      tools: [WEATHER_TOOL],
      input: [
        question,
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: call.call_id, output: '18C and sunny' },
      ],
    });
    assert.equal(second.output_text, 'The tool said: 18C and sunny');
    assert.deepEqual(tools.calls[1]?.body.messages, [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Let me look that up.',
        tool_calls: [
          {
            id: call.call_id,
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: call.call_id, content: '18C and sunny' },
    ]);
  });

  it('streams through responses.stream(...): text and argument deltas, then the final Response', async () => {
    tools.reset();
    const stream = client.responses.stream({
      model: 'gpt-tools',
      input: 'Weather in Oslo?',
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'function', name: 'get_weather' },
    });
    let text = '';
    let argumentDeltas = 0;
    stream.on('response.output_text.delta', (event) => (text += event.delta));
    stream.on('response.function_call_arguments.delta', () => argumentDeltas++);
    const final = await stream.finalResponse();
    assert.equal(text, 'Let me look that up.');
    assert.ok(argumentDeltas >= 2, 'the arguments arrive in pieces');
    assert.equal(final.status, 'completed');
    assert.equal(final.output_text, 'Let me look that up.');
    assert.deepEqual(
      final.output.map((item) => item.type),
      ['message', 'function_call'],
    );
    const call = final.output[1];
    assert.ok(call?.type === 'function_call');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris', unit: 'celsius' });
    assert.equal(final.usage?.input_tokens, 31);
    assert.equal(final.usage?.output_tokens, 17);
    assert.deepEqual(tools.calls[0]?.body.tool_choice, {
      type: 'function',
      function: { name: 'get_weather' },
    });
    assert.equal(tools.calls[0]?.body.stream, true);
  });

  it('streams through create({ stream: true }): numbered events from response.created to response.completed', async () => {
    const stream = await client.responses.create({
      model: 'gpt-plain',
      input: 'Stream please',
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(
      events.map((event) => event.sequence_number),
      events.map((_, index) => index),
    );
    assert.deepEqual(
      events.slice(0, 4).map((event) => event.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
      ],
    );
    const deltas = events.filter((event) => event.type === 'response.output_text.delta');
    assert.ok(deltas.length > 3, 'the text arrives in several deltas');
    assert.equal(deltas.map((event) => event.delta).join(''), 'Hello from the fake upstream.');
    const last = events.at(-1);
    assert.ok(last?.type === 'response.completed');
    assert.equal(last.response.model, 'gpt-plain');
    assert.equal(last.response.usage?.total_tokens, 18);
  });

  it('ends a stream that breaks after its first byte with an error the SDK raises', async () => {
    plain.next({ kind: 'break-stream', afterChunks: 2 });
    const stream = await client.responses.create({
      model: 'gpt-plain',
      input: 'hi',
      stream: true,
    });
    const types: string[] = [];
    await assert.rejects(async () => {
      for await (const event of stream) types.push(event.type);
    }, OpenAI.APIError);
    assert.ok(types.includes('response.output_text.delta'), types.join(','));
    assert.ok(!types.includes('response.completed'));
  });

  it("streams a model's refusal as a refusal part the SDK accumulates, not an empty answer", async () => {
    const chunk = (delta: Json, finish_reason: string | null = null) => ({
      id: 'chatcmpl-refusal',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'upstream-raw-model',
      choices: [{ index: 0, delta, finish_reason }],
    });
    raw.next([
      chunk({ role: 'assistant', content: null, refusal: "I'm sorry, " }),
      chunk({ refusal: "I can't help with that." }),
      chunk({}, 'stop'),
      {
        id: 'chatcmpl-refusal',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'upstream-raw-model',
        choices: [],
        usage: { prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 },
      },
      '[DONE]',
    ]);
    const stream = client.responses.stream({ model: 'gpt-raw', input: 'Something forbidden' });
    let refused = '';
    stream.on('response.refusal.delta', (event) => (refused += event.delta));
    const final = await stream.finalResponse();
    assert.equal(refused, "I'm sorry, I can't help with that.");
    assert.equal(final.status, 'completed');
    const message = final.output[0];
    assert.ok(message?.type === 'message', JSON.stringify(final.output));
    assert.deepEqual(
      message.content.map((part) => [part.type, part.type === 'refusal' && part.refusal]),
      [['refusal', "I'm sorry, I can't help with that."]],
    );
    assert.equal(final.output_text, '');
  });

  it('streams parallel calls a backend sends all at index 0 (Ollama) as separate function_call items', async () => {
    raw.next(indexZeroStream());
    const final = await client.responses
      .stream({ model: 'gpt-raw', input: 'Weather in Oslo and Rome?', tools: [WEATHER_TOOL] })
      .finalResponse();
    assert.deepEqual(
      final.output.map((item) => item.type === 'function_call' && [item.call_id, item.arguments]),
      [
        ['call_oslo', '{"city":"Oslo"}'],
        ['call_rome', '{"city":"Rome"}'],
      ],
    );
  });

  // The same backend through the other edges: the provider's stream numbers the calls apart
  // (DistinctToolIndexes), so a chat client's accumulator and the Messages edge see two calls.
  it('gives chat and Messages clients the parallel calls an index-0 backend streams as two calls', async () => {
    const tool = {
      type: 'function' as const,
      function: { name: 'get_weather', parameters: { type: 'object' } },
    };
    raw.next(indexZeroStream());
    const chat = await client.chat.completions
      .stream({
        model: 'gpt-raw',
        messages: [{ role: 'user', content: 'Oslo, Rome?' }],
        tools: [tool],
      })
      .finalChatCompletion();
    assert.deepEqual(
      chat.choices[0]?.message.tool_calls?.map((each) =>
        each.type === 'function' ? [each.id, each.function.arguments] : [],
      ),
      [
        ['call_oslo', '{"city":"Oslo"}'],
        ['call_rome', '{"city":"Rome"}'],
      ],
    );

    raw.next(indexZeroStream());
    const anthropic = new Anthropic({
      baseURL: gateway.baseUrl,
      apiKey: 'client-key-never-forwarded',
      maxRetries: 0,
    });
    const message = await anthropic.messages
      .stream({
        model: 'gpt-raw',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Oslo, Rome?' }],
        tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      })
      .finalMessage();
    assert.deepEqual(
      message.content.map((block) => block.type === 'tool_use' && [block.id, block.input]),
      [
        ['call_oslo', { city: 'Oslo' }],
        ['call_rome', { city: 'Rome' }],
      ],
    );
  });

  it('takes a function output holding an image (Codex view_image): text in the tool message, the image after it', async () => {
    plain.reset();
    const image =
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const response = await client.responses.create({
      model: 'gpt-plain',
      input: [
        { role: 'user', content: 'What is on screen?' },
        { type: 'function_call', call_id: 'call_view', name: 'view_image', arguments: '{}' },
        {
          type: 'function_call_output',
          call_id: 'call_view',
          output: [
            { type: 'input_text', text: 'screenshot.png' },
            { type: 'input_image', image_url: image, detail: 'auto' },
          ],
        },
      ],
    });
    assert.equal(response.status, 'completed');
    assert.deepEqual(plain.calls[0]?.body.messages, [
      { role: 'user', content: 'What is on screen?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_view', type: 'function', function: { name: 'view_image', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_view', content: 'screenshot.png' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: image, detail: 'auto' } }] },
    ]);
  });

  it("completes a custom tool round trip (Codex's apply_patch): the call's input, then its output", async () => {
    tools.reset();
    const question: OpenAI.Responses.ResponseInputItem = { role: 'user', content: 'Add hello.txt' };
    const first = await client.responses.create({
      model: 'gpt-tools',
      input: [question],
      tools: [APPLY_PATCH_TOOL, WEATHER_TOOL],
      // Codex narrows the tools so, keeping the list whole.
      tool_choice: {
        type: 'allowed_tools',
        mode: 'required',
        tools: [{ type: 'custom', name: 'apply_patch' }],
      },
    });
    const call = first.output.find((item) => item.type === 'custom_tool_call');
    assert.ok(call?.type === 'custom_tool_call', JSON.stringify(first.output));
    assert.equal(call.name, 'apply_patch');
    assert.equal(call.input, tools.customInput);
    assert.match(call.id ?? '', /^ctc_/);
    const sent = tools.calls[0]?.body;
    assert.deepEqual(sent?.tools, [
      {
        type: 'custom',
        custom: {
          name: 'apply_patch',
          description: APPLY_PATCH_TOOL.description,
          format: { type: 'grammar', grammar: { definition: 'start: /(.|\\n)+/', syntax: 'lark' } },
        },
      },
      WEATHER_CHAT_TOOL,
    ]);
    assert.deepEqual(sent?.tool_choice, {
      type: 'allowed_tools',
      allowed_tools: {
        mode: 'required',
        tools: [{ type: 'custom', custom: { name: 'apply_patch' } }],
      },
    });

    const second = await client.responses.create({
      model: 'gpt-tools',
      tools: [APPLY_PATCH_TOOL, WEATHER_TOOL],
      input: [
        question,
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Done!' },
      ],
    });
    assert.equal(second.output_text, 'The tool said: Done!');
    assert.deepEqual(tools.calls[1]?.body.messages, [
      { role: 'user', content: 'Add hello.txt' },
      {
        role: 'assistant',
        content: 'Let me look that up.',
        tool_calls: [
          {
            id: call.call_id,
            type: 'custom',
            custom: { name: 'apply_patch', input: tools.customInput },
          },
        ],
      },
      { role: 'tool', tool_call_id: call.call_id, content: 'Done!' },
    ]);
  });

  it("streams a custom tool's input as custom_tool_call_input deltas the SDK accumulates", async () => {
    tools.reset();
    const stream = client.responses.stream({
      model: 'gpt-tools',
      input: 'Add hello.txt',
      tools: [WEATHER_TOOL, APPLY_PATCH_TOOL],
      tool_choice: { type: 'custom', name: 'apply_patch' },
    });
    let input = '';
    let done = '';
    stream.on('response.custom_tool_call_input.delta', (event) => (input += event.delta));
    stream.on('response.custom_tool_call_input.done', (event) => (done = event.input));
    const final = await stream.finalResponse();
    assert.equal(input, tools.customInput);
    assert.equal(done, tools.customInput);
    const call = final.output.find((item) => item.type === 'custom_tool_call');
    assert.ok(call?.type === 'custom_tool_call', JSON.stringify(final.output));
    assert.equal(call.input, tools.customInput);
    assert.deepEqual(tools.calls[0]?.body.tool_choice, {
      type: 'custom',
      custom: { name: 'apply_patch' },
    });
  });

  it('refuses custom tools for a backend that takes function tools only (400 naming it), calling nothing', async () => {
    claude.reset();
    await assert.rejects(
      client.responses.create({
        model: 'claude-tools',
        input: 'Add hello.txt',
        tools: [WEATHER_TOOL, APPLY_PATCH_TOOL],
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.param === 'tools[1]' &&
        /custom tool: this backend takes function tools only/.test(error.message),
    );
    assert.equal(claude.calls.length, 0);
  });

  it("sends an input_file part as chat's file part", async () => {
    plain.reset();
    const pdf = 'data:application/pdf;base64,JVBERi0xLjQK';
    const response = await client.responses.create({
      model: 'gpt-plain',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Summarize' },
            { type: 'input_file', filename: 'report.pdf', file_data: pdf },
          ],
        },
      ],
    });
    assert.equal(response.status, 'completed');
    assert.deepEqual(plain.calls[0]?.body.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Summarize' },
          { type: 'file', file: { file_data: pdf, filename: 'report.pdf' } },
        ],
      },
    ]);
  });

  it('refuses an unknown conversation (404), or a built-in tool (400), naming the parameter', async () => {
    await assert.rejects(
      client.responses.create({
        model: 'gpt-plain',
        input: 'And then?',
        conversation: 'conv_123',
      }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError &&
        error.param === 'conversation' &&
        /Conversation with id 'conv_123' not found/.test(error.message),
    );
    await assert.rejects(
      client.responses.create({
        model: 'gpt-plain',
        input: 'Search the web',
        tools: [{ type: 'web_search' }],
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError && error.param === 'tools[0].type',
    );
    const wrongMethod = await fetch(`${gateway.baseUrl}/v1/responses`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    const body = (await wrongMethod.json()) as { error: Json };
    assert.equal(body.error.code, 'method_not_allowed');
  });

  it("counts a request's input tokens (client.responses.inputTokens.count) without calling a backend", async () => {
    const calls = plain.calls.length;
    const short = await client.responses.inputTokens.count({ model: 'gpt-plain', input: 'Hi' });
    assert.equal(short.object, 'response.input_tokens');
    assert.ok(short.input_tokens > 0, JSON.stringify(short));
    const long = await client.responses.inputTokens.count({
      model: 'gpt-plain',
      instructions: 'Answer in French.',
      input: 'Tell me about the weather in Paris and in Lyon, and what to wear tomorrow.',
      tools: [WEATHER_TOOL],
    });
    assert.ok(long.input_tokens > short.input_tokens + 10, JSON.stringify(long));
    assert.equal(plain.calls.length, calls, 'counting calls no backend');
    // A model no route serves: the 404 a create gets.
    const post = (path: string, body: Json) =>
      fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: Json } }));
    const unknown = { model: 'gpt-nope', input: 'Hi' };
    const created = await post('/v1/responses', unknown);
    const counted = await post('/v1/responses/input_tokens', unknown);
    assert.equal(created.status, 404);
    assert.equal(counted.status, 404);
    assert.equal(counted.body.error.code, created.body.error.code);
    // Earlier turns it would have to look up are refused, naming the field.
    const chained = await post('/v1/responses/input_tokens', {
      model: 'gpt-plain',
      input: 'And then?',
      previous_response_id: 'resp_123',
    });
    assert.equal(chained.status, 400);
    assert.equal(chained.body.error.param, 'previous_response_id');
  });

  it('answers cancel with a 400 (no response runs in the background) and compact with a 404 saying it is not served', async () => {
    const response = await client.responses.create({ model: 'gpt-plain', input: 'Hi' });
    for (const id of [response.id, 'resp_unknown']) {
      await assert.rejects(
        client.responses.cancel(id),
        (error: unknown) =>
          error instanceof OpenAI.BadRequestError &&
          error.type === 'invalid_request_error' &&
          /only responses created with 'background': true can be cancelled/i.test(error.message),
      );
    }
    await assert.rejects(
      client.responses.compact({ model: 'gpt-plain', input: 'Hi' }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError &&
        /does not serve response compaction/.test(error.message),
    );
    // Without the /v1 prefix too.
    const unprefixed = await fetch(`${gateway.baseUrl}/responses/${response.id}/cancel`, {
      method: 'POST',
    });
    assert.equal(unprefixed.status, 400);
  });

  it('is served without the /v1 prefix and counted under its own route in the metrics', async () => {
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const requests = (text: string, route: string) =>
      metricSum(text, 'ai_gateway_requests_total', { route });
    const unprefixed = new OpenAI({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const before = await scrape();
    const response = await unprefixed.responses.create({ model: 'gpt-plain', input: 'Count me' });
    assert.equal(response.output_text, 'Hello from the fake upstream.');
    const after = await scrape();
    assert.equal(requests(after, 'responses') - requests(before, 'responses'), 1);
    assert.equal(requests(after, 'chat.completions'), requests(before, 'chat.completions'));
  });
});
