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
  FakeGeminiUpstream,
  gatewayChatRequest,
  itMapsUpstreamFailures,
  streamedFinishReason,
  streamedText,
  streamedToolCalls,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { GeminiAdapter } from './gemini.adapter';

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

describe('GeminiAdapter against a fake Gemini API', () => {
  const upstream = new FakeGeminiUpstream();
  const adapter = new GeminiAdapter();
  let target: UpstreamTarget;
  const invoke = (request: GatewayRequest) =>
    adapter.invoke({ request, target, signal: new AbortController().signal });

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'google-gemini', model: 'gemini-2.5-flash', baseUrl: upstream.baseUrl },
      { headerName: 'x-goog-api-key', value: 'AIzaSecretKey123456' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('translates an OpenAI conversation into a generateContent request', async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'system', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather?' },
              { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4A==' } },
            ],
          },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":18}' },
          { role: 'user', content: 'And tomorrow?' },
        ],
        tools: [WEATHER_TOOL],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        temperature: 0.5,
        top_p: 0.8,
        max_tokens: 100,
        stop: ['END'],
      }),
    );
    const call = upstream.calls[0];
    assert.equal(call.path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(call.headers['x-goog-api-key'], 'AIzaSecretKey123456');
    assert.deepEqual(call.body, {
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Weather?' },
            { inlineData: { mimeType: 'image/jpeg', data: '/9j/4A==' } },
          ],
        },
        {
          role: 'model',
          parts: [
            { text: 'Checking.' },
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { celsius: 18 } } },
            { text: 'And tomorrow?' },
          ],
        },
      ],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      tools: [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Weather in a city',
              parametersJsonSchema: WEATHER_TOOL.function.parameters,
            },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      generationConfig: {
        temperature: 0.5,
        topP: 0.8,
        maxOutputTokens: 100,
        stopSequences: ['END'],
      },
    });
  });

  it('answers a chat.completion without thought text, with usageMetadata as usage', async () => {
    const answer = await invoke(gatewayChatRequest());
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, { role: 'assistant', content: 'Hello from Gemini.' });
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(answer.body.id, 'resp-gemini-1');
    assert.equal(answer.body.model, 'gemini-2.5-flash');
    // candidates 5 + thoughts 2 are output; the prompt count includes the 10 cached.
    assert.deepEqual(answer.usage, {
      inputTokens: 30,
      outputTokens: 7,
      cachedInputTokens: 10,
      source: 'reported',
    });
  });

  it('answers functionCall parts as tool_calls', async () => {
    const answer = await invoke(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    const message = choice.message as { content: unknown; tool_calls: JsonObject[] };
    assert.equal(message.content, null);
    assert.deepEqual(message.tool_calls[0].function, {
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
    });
    assert.match(message.tool_calls[0].id as string, /^call_/);
  });

  it('streams text over alt=sse with the final usageMetadata', async () => {
    const request = gatewayChatRequest({ stream: true, stream_options: { include_usage: true } });
    const answer = (await invoke(request)) as StreamAnswer;
    const chunks = await collectStream(answer);
    assert.equal(upstream.calls[0].path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    assert.deepEqual(upstream.calls[0].query, { alt: 'sse' });
    assert.equal(streamedText(chunks), 'Hello from Gemini.');
    assert.equal(streamedFinishReason(chunks), 'stop');
    assert.equal((chunks.at(-1)!.usage as JsonObject).completion_tokens, 7);
    assert.equal((await answer.usage).outputTokens, 7);
    assert.equal((await answer.usage).source, 'reported');
  });

  it('streams a function call as tool_call deltas', async () => {
    const request = gatewayChatRequest({ stream: true, tools: [WEATHER_TOOL] });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    assert.equal(streamedText(chunks), 'Checking.');
    const calls = streamedToolCalls(chunks);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].name, 'get_weather');
    assert.equal(calls[0].arguments, '{"city":"Paris"}');
    assert.equal(streamedFinishReason(chunks), 'tool_calls');
  });

  it('embeds through batchEmbedContents with an estimated usage', async () => {
    const request = gatewayChatRequest({ input: ['one', 'two'] }, { operation: 'embeddings' });
    const answer = await invoke(request);
    const call = upstream.calls[0];
    assert.equal(call.path, '/v1beta/models/gemini-2.5-flash:batchEmbedContents');
    assert.deepEqual(call.body, {
      requests: [
        { model: 'models/gemini-2.5-flash', content: { parts: [{ text: 'one' }] } },
        { model: 'models/gemini-2.5-flash', content: { parts: [{ text: 'two' }] } },
      ],
    });
    if (answer.kind !== 'json') return assert.fail('expected json');
    const data = answer.body.data as JsonObject[];
    assert.deepEqual(data[1], { object: 'embedding', index: 1, embedding: [0.5, 1, -0.5] });
    assert.equal(answer.usage.source, 'estimated');
    assert.equal(answer.usage.inputTokens, 2);
  });

  it('rejects image links and malformed tools before calling', async () => {
    const link = gatewayChatRequest({
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
      ],
    });
    await assert.rejects(
      invoke(link),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.InvalidRequest,
    );
    await assert.rejects(
      invoke(
        gatewayChatRequest({ tools: [{ type: 'function', function: { name: 'bad name!' } }] }),
      ),
      (error: unknown) =>
        error instanceof DataPlaneError && error.param === 'tools[0].function.name',
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
