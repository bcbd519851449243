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
  FakeCohereUpstream,
  gatewayChatRequest,
  itMapsUpstreamFailures,
  streamedFinishReason,
  streamedText,
  streamedToolCalls,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { CohereAdapter } from './cohere.adapter';

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};
const OTHER_TOOL = { type: 'function', function: { name: 'get_time' } };

describe('CohereAdapter against a fake Cohere v2 API', () => {
  const upstream = new FakeCohereUpstream();
  const adapter = new CohereAdapter();
  let target: UpstreamTarget;
  const invoke = (request: GatewayRequest) =>
    adapter.invoke({ request, target, signal: new AbortController().signal });

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'cohere', model: 'command-a-03-2025', baseUrl: upstream.baseUrl },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'co-secret' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('translates an OpenAI conversation into a v2 chat request', async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'get_weather_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'get_weather_1', content: '18C' },
        ],
        tools: [WEATHER_TOOL, OTHER_TOOL],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        max_tokens: 64,
        temperature: 0.2,
        top_p: 0.7,
        stop: 'END',
      }),
    );
    const call = upstream.calls[0];
    assert.equal(call.path, '/v2/chat');
    assert.equal(call.headers.authorization, 'Bearer co-secret');
    assert.deepEqual(call.body, {
      model: 'command-a-03-2025',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          tool_calls: [
            {
              id: 'get_weather_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'get_weather_1', content: '18C' },
      ],
      stream: false,
      tools: [WEATHER_TOOL],
      tool_choice: 'REQUIRED',
      max_tokens: 64,
      stop_sequences: ['END'],
      temperature: 0.2,
      p: 0.7,
    });
  });

  it('answers a chat.completion with billed units as usage', async () => {
    const answer = await invoke(gatewayChatRequest());
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, { role: 'assistant', content: 'Hello from Cohere.' });
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(answer.body.id, 'chat-cohere-1');
    assert.deepEqual(answer.usage, {
      inputTokens: 12,
      outputTokens: 4,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it('answers tool calls with finish_reason tool_calls', async () => {
    const answer = await invoke(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.deepEqual((choice.message as JsonObject).tool_calls, [
      {
        id: 'get_weather_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ]);
  });

  it('streams content-delta events as OpenAI chunks with usage from message-end', async () => {
    const request = gatewayChatRequest({ stream: true, stream_options: { include_usage: true } });
    const answer = (await invoke(request)) as StreamAnswer;
    const chunks = await collectStream(answer);
    assert.equal(upstream.calls[0].body.stream, true);
    assert.equal(streamedText(chunks), 'Hello from Cohere.');
    assert.equal(streamedFinishReason(chunks), 'stop');
    assert.equal(chunks[0].id, 'chat-cohere-1');
    assert.equal((chunks.at(-1)!.usage as JsonObject).prompt_tokens, 12);
    assert.equal((await answer.usage).source, 'reported');
  });

  it('streams tool-call events as tool_call deltas', async () => {
    const request = gatewayChatRequest({ stream: true, tools: [WEATHER_TOOL] });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    assert.deepEqual(streamedToolCalls(chunks), [
      { id: 'get_weather_1', name: 'get_weather', arguments: '{"city": "Paris"}' },
    ]);
    assert.equal(streamedFinishReason(chunks), 'tool_calls');
  });

  it('embeds through /v2/embed with billed usage', async () => {
    const request = gatewayChatRequest({ input: ['a', 'b'] }, { operation: 'embeddings' });
    const answer = await invoke(request);
    assert.equal(upstream.calls[0].path, '/v2/embed');
    assert.deepEqual(upstream.calls[0].body, {
      model: 'command-a-03-2025',
      texts: ['a', 'b'],
      input_type: 'search_document',
      embedding_types: ['float'],
    });
    if (answer.kind !== 'json') return assert.fail('expected json');
    assert.deepEqual((answer.body.data as JsonObject[])[1], {
      object: 'embedding',
      index: 1,
      embedding: [1, 0.25],
    });
    assert.equal(answer.usage.inputTokens, 3);
    assert.equal(answer.usage.source, 'reported');
  });

  it('rejects a tool without a usable schema before calling', async () => {
    const bad = { type: 'function', function: { name: 'f', parameters: 'not a schema' } };
    await assert.rejects(
      invoke(gatewayChatRequest({ tools: [bad] })),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'tools[0].function.parameters',
    );
    assert.equal(upstream.calls.length, 0);
  });

  itMapsUpstreamFailures({
    upstream: () => upstream,
    invoke,
    plain: () => gatewayChatRequest(),
    streaming: () => gatewayChatRequest({ stream: true }),
  });
});
