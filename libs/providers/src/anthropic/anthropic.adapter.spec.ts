import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type StreamAnswer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  collectStream,
  FakeAnthropicUpstream,
  gatewayChatRequest,
  itMapsUpstreamFailures,
  streamedFinishReason,
  streamedText,
  streamedToolCalls,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { AnthropicAdapter } from './anthropic.adapter';

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('AnthropicAdapter against a fake Messages API', () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  let target: UpstreamTarget;
  const invoke = (request: GatewayRequest) =>
    adapter.invoke({ request, target, signal: new AbortController().signal });

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
      { headerName: 'x-api-key', value: 'sk-ant-secret' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('translates a full OpenAI conversation into a Messages API request', async () => {
    const png = 'iVBORw0KGgo=';
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather here?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
              {
                id: 'call_2',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '18C' },
          { role: 'tool', tool_call_id: 'call_2', content: '9C' },
          { role: 'user', content: 'Thanks' },
        ],
        tools: [WEATHER_TOOL],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        parallel_tool_calls: false,
        stop: 'END',
        temperature: 0.3,
        top_p: 0.9,
        user: 'alice',
      }),
    );
    const call = upstream.calls[0];
    assert.equal(call.path, '/v1/messages');
    assert.equal(call.headers['x-api-key'], 'sk-ant-secret');
    assert.equal(call.headers['anthropic-version'], '2023-06-01');
    assert.equal(call.headers.authorization, undefined);
    assert.deepEqual(call.body, {
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'Be brief.\n\nUse metric units.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather here?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Oslo' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
            { type: 'tool_result', tool_use_id: 'call_2', content: '9C' },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
      tools: [
        {
          name: 'get_weather',
          description: 'Weather in a city',
          input_schema: WEATHER_TOOL.function.parameters,
        },
      ],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      temperature: 0.3,
      top_p: 0.9,
      metadata: { user_id: 'alice' },
    });
  });

  it('maps tool_choice none and required, and passes max_tokens through', async () => {
    await invoke(
      gatewayChatRequest({ tools: [WEATHER_TOOL], tool_choice: 'none', max_tokens: 50 }),
    );
    await invoke(gatewayChatRequest({ tools: [WEATHER_TOOL], tool_choice: 'required' }));
    assert.deepEqual(upstream.calls[0].body.tool_choice, { type: 'none' });
    assert.equal(upstream.calls[0].body.max_tokens, 50);
    assert.deepEqual(upstream.calls[1].body.tool_choice, { type: 'any' });
  });

  it('answers an OpenAI chat.completion with usage including cache tokens', async () => {
    const answer = await invoke(gatewayChatRequest());
    assert.equal(answer.kind, 'json');
    if (answer.kind !== 'json') return;
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, { role: 'assistant', content: 'Hello from Claude.' });
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(answer.body.object, 'chat.completion');
    assert.equal(answer.body.model, 'claude-sonnet-4-5-20250929');
    // input_tokens 20 + cache writes 5 + cache reads 100; the reads are the cached part.
    assert.deepEqual(answer.usage, {
      inputTokens: 125,
      outputTokens: 9,
      cachedInputTokens: 100,
      source: 'reported',
    });
    assert.deepEqual(answer.body.usage, {
      prompt_tokens: 125,
      completion_tokens: 9,
      total_tokens: 134,
      prompt_tokens_details: { cached_tokens: 100 },
    });
  });

  it('answers tool_use blocks as tool_calls', async () => {
    const answer = await invoke(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.deepEqual(choice.message, {
      role: 'assistant',
      content: 'Let me check.',
      tool_calls: [
        {
          id: 'toolu_01A',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        },
      ],
    });
  });

  it('streams text as OpenAI chunks with usage from message_start and message_delta', async () => {
    const request = gatewayChatRequest({ stream: true, stream_options: { include_usage: true } });
    const answer = (await invoke(request)) as StreamAnswer;
    const chunks = await collectStream(answer);
    assert.equal(upstream.calls[0].body.stream, true);
    assert.equal(streamedText(chunks), 'Hello from Claude.');
    assert.equal(streamedFinishReason(chunks), 'stop');
    assert.equal(chunks[0].id, 'msg_01fake');
    assert.equal(chunks[0].object, 'chat.completion.chunk');
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.equal((chunks.at(-1)!.usage as JsonObject).prompt_tokens, 125);
    assert.deepEqual(await answer.usage, {
      inputTokens: 125,
      outputTokens: 9,
      cachedInputTokens: 100,
      source: 'reported',
    });
  });

  it('streams tool_use blocks as tool_call deltas', async () => {
    const request = gatewayChatRequest({ stream: true, tools: [WEATHER_TOOL] });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    assert.equal(streamedText(chunks), 'Let me check.');
    assert.deepEqual(streamedToolCalls(chunks), [
      { id: 'toolu_01A', name: 'get_weather', arguments: '{"city": "Paris"}' },
    ]);
    assert.equal(streamedFinishReason(chunks), 'tool_calls');
    assert.ok(chunks.every((chunk) => chunk.usage === undefined));
  });

  it('rejects embeddings and a malformed tool schema before calling', async () => {
    await assert.rejects(
      invoke(gatewayChatRequest({ input: 'x' }, { operation: 'embeddings' })),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.httpStatus === 400 &&
        /does not support embeddings/.test(error.message),
    );
    const badTool = {
      type: 'function',
      function: { name: 'f', parameters: { type: 'string' } },
    };
    await assert.rejects(
      invoke(gatewayChatRequest({ tools: [badTool] })),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'tools[0].function.parameters',
    );
    assert.equal(upstream.calls.length, 0);
  });

  it('reports a 200 that is not a message as a bad response', async () => {
    upstream.next({ kind: 'json', body: { hello: 'world' } });
    await assert.rejects(
      invoke(gatewayChatRequest()),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamBadResponse,
    );
  });

  itMapsUpstreamFailures({
    upstream: () => upstream,
    invoke,
    plain: () => gatewayChatRequest(),
    streaming: () => gatewayChatRequest({ stream: true }),
  });
});
