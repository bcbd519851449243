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
  streamedReasoning,
  streamedText,
  streamedToolCalls,
  upstreamTarget,
  isDataPlaneError,
  assertSaneUsage,
  RawSseUpstream,
  FAKE_GEMINI_SIGNATURE,
} from '@aigw/testing/fake-provider';
import { dollarsAt, type ModelPricing } from '@aigw/config';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';
import {
  answeredToolFunction,
  LONG_TOOL_ALIAS,
  LONG_TOOL_NAME,
  longToolNameChat,
} from '../testing/long-tool-name-chat';
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

/**
 * Asks `invoke` for `n` candidates of a chat answer and checks Gemini was asked for `n`
 * (candidateCount): the JSON answer, and its choices as [index, content, finish_reason].
 */
async function askForCandidates(
  invoke: (request: GatewayRequest) => ReturnType<GeminiAdapter['invoke']>,
  upstream: FakeGeminiUpstream,
  n: number,
) {
  const answer = await invoke(gatewayChatRequest({ n }));
  if (answer.kind !== 'json') return assert.fail('expected json');
  assert.equal((upstream.calls[0].body.generationConfig as JsonObject).candidateCount, n);
  const choices = (answer.body.choices as JsonObject[]).map((choice) => [
    choice.index,
    (choice.message as JsonObject).content,
    choice.finish_reason,
  ]);
  return { answer, choices };
}

describe('GeminiAdapter against a fake Gemini API', () => {
  const { upstream, invoke } = fakeGeminiBackend();

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
              {
                type: 'file',
                file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' },
              },
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
        seed: 42,
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
            { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
          ],
        },
        {
          role: 'model',
          parts: [
            { text: 'Checking.' },
            // The client's call carried no signature back: Google's documented bypass.
            {
              functionCall: { name: 'get_weather', args: { city: 'Paris' } },
              thoughtSignature: 'skip_thought_signature_validator',
            },
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
        seed: 42,
      },
    });
  });

  it('asks for JSON output, held to the schema as plain JSON Schema, for a response_format', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    await invoke(
      gatewayChatRequest({
        response_format: { type: 'json_schema', json_schema: { name: 'weather', schema } },
        temperature: 0,
      }),
    );
    await invoke(gatewayChatRequest({ response_format: { type: 'json_object' } }));
    await invoke(gatewayChatRequest({ response_format: { type: 'text' } }));
    const [jsonSchema, jsonObject, text] = upstream.calls;
    assert.deepEqual(jsonSchema.body.generationConfig, {
      temperature: 0,
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
    });
    assert.deepEqual(jsonObject.body.generationConfig, { responseMimeType: 'application/json' });
    assert.equal(text.body.generationConfig, undefined);
  });

  it('sends non-zero penalties in generationConfig and no field for a penalty of 0', async () => {
    await invoke(gatewayChatRequest({ presence_penalty: 0.6, frequency_penalty: -1.5 }));
    await invoke(gatewayChatRequest({ presence_penalty: 0, frequency_penalty: 0 }));
    await invoke(gatewayChatRequest({ presence_penalty: 0, frequency_penalty: 1, top_p: 0.9 }));
    const [both, zeros, one] = upstream.calls;
    assert.deepEqual(both.body.generationConfig, { presencePenalty: 0.6, frequencyPenalty: -1.5 });
    assert.equal(zeros.body.generationConfig, undefined);
    assert.deepEqual(one.body.generationConfig, { topP: 0.9, frequencyPenalty: 1 });
  });

  it("sends a Gemini client's topK and safetySettings (provider_extras) as they came", async () => {
    const safetySettings = [
      { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_ONLY_HIGH' },
    ];
    await invoke(
      gatewayChatRequest({
        top_p: 0.9,
        provider_extras: { top_k: 40, safety_settings: safetySettings },
      }),
    );
    await invoke(gatewayChatRequest({ top_k: 7 }));
    const [extras, plain] = upstream.calls;
    assert.deepEqual(extras.body.generationConfig, { topP: 0.9, topK: 40 });
    assert.deepEqual(extras.body.safetySettings, safetySettings);
    assert.equal(extras.body.provider_extras, undefined);
    // A top-level top_k is no Gemini field the gateway knows of: left out, as before.
    assert.equal(plain.body.generationConfig, undefined);
    assert.equal(plain.body.safetySettings, undefined);
  });

  it('refuses an out-of-range penalty before calling Gemini', async () => {
    await assert.rejects(
      invoke(gatewayChatRequest({ frequency_penalty: 3 })),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'frequency_penalty',
    );
    assert.equal(upstream.calls.length, 0);
  });

  it("asks for thinking with Google's budget for each effort, or the client's own, and the thought summaries", async () => {
    const asks: [JsonObject, number][] = [
      [{ reasoning_effort: 'minimal' }, 1024],
      [{ reasoning_effort: 'low' }, 1024],
      [{ reasoning_effort: 'medium' }, 8192],
      [{ reasoning_effort: 'high' }, 24576],
      [{ thinking: { type: 'enabled', budget_tokens: 3000 }, reasoning_effort: 'high' }, 3000],
    ];
    for (const [ask] of asks) await invoke(gatewayChatRequest(ask));
    asks.forEach(([ask, budget], index) =>
      assert.deepEqual(
        upstream.calls[index].body.generationConfig,
        { thinkingConfig: { thinkingBudget: budget, includeThoughts: true } },
        JSON.stringify(ask),
      ),
    );
  });

  it("asks for Gemini's dynamic thinking when a client leaves the amount to the model", async () => {
    await invoke(gatewayChatRequest({ thinking: { type: 'adaptive' } }));
    await invoke(
      gatewayChatRequest({ thinking: { type: 'adaptive' }, reasoning_effort: 'medium' }),
    );
    assert.deepEqual(upstream.calls[0].body.generationConfig, {
      thinkingConfig: { thinkingBudget: -1, includeThoughts: true },
    });
    assert.deepEqual(upstream.calls[1].body.generationConfig, {
      thinkingConfig: { thinkingBudget: 8192, includeThoughts: true },
    });
  });

  it('asks for a thinking budget of 0 when the client wants no reasoning', async () => {
    await invoke(gatewayChatRequest({ reasoning_effort: 'none' }));
    await invoke(gatewayChatRequest({ thinking: { type: 'disabled' }, reasoning_effort: 'high' }));
    for (const call of upstream.calls) {
      assert.deepEqual(call.body.generationConfig, { thinkingConfig: { thinkingBudget: 0 } });
    }
  });

  it('sends the thinking budget with the rest of generationConfig, and the reasoning carried back in the history not at all', async () => {
    await invoke(
      gatewayChatRequest({
        reasoning_effort: 'medium',
        temperature: 0.2,
        max_tokens: 9000,
        messages: [
          { role: 'user', content: 'What is 2+2?' },
          {
            role: 'assistant',
            content: '4',
            reasoning_content: 'Two and two make four.',
            thinking_blocks: [{ type: 'thinking', thinking: 'Two and two...', signature: 'c2ln' }],
          },
          { role: 'user', content: 'And 3+3?' },
        ],
      }),
    );
    assert.deepEqual(upstream.calls[0].body, {
      contents: [
        { role: 'user', parts: [{ text: 'What is 2+2?' }] },
        { role: 'model', parts: [{ text: '4' }] },
        { role: 'user', parts: [{ text: 'And 3+3?' }] },
      ],
      generationConfig: {
        temperature: 0.2,
        maxOutputTokens: 9000,
        thinkingConfig: { thinkingBudget: 8192, includeThoughts: true },
      },
    });
  });

  it('answers a chat.completion with the thought summary as reasoning_content, and usageMetadata as usage', async () => {
    const answer = await invoke(gatewayChatRequest());
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    // Text alone: Gemini signs nothing that could come back as thinking_blocks.
    assert.deepEqual(choice.message, {
      role: 'assistant',
      content: 'Hello from Gemini.',
      reasoning_content: 'Thinking about it',
    });
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

  describe('a tool name past 64 characters (a Claude Code MCP tool)', () => {
    const LONG = LONG_TOOL_NAME;
    const ALIAS = LONG_TOOL_ALIAS;
    // The tool is named in tool_choice and in an earlier turn's call and result; the fake
    // calls the first function declared, so it answers with the alias.
    const request = (stream: boolean) => gatewayChatRequest(longToolNameChat(stream, WEATHER_TOOL));

    function assertAliasSent(): void {
      const sent = upstream.calls[0].body;
      assert.doesNotMatch(JSON.stringify(sent), new RegExp(LONG));
      const [declared] = sent.tools as { functionDeclarations: JsonObject[] }[];
      assert.deepEqual(
        declared.functionDeclarations.map((each) => each.name),
        [ALIAS, 'get_weather'],
      );
      assert.deepEqual(sent.toolConfig, {
        functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [ALIAS] },
      });
      const parts = (sent.contents as { parts: JsonObject[] }[]).flatMap((each) => each.parts);
      const called = parts.find((part) => part.functionCall)?.functionCall as JsonObject;
      const answered = parts.find((part) => part.functionResponse)?.functionResponse as JsonObject;
      assert.equal(called.name, ALIAS);
      assert.equal(answered.name, ALIAS);
    }

    it("sends its alias (tools, tool_choice, history) and answers the client's name", async () => {
      const answer = await invoke(request(false));
      assert.deepEqual(answeredToolFunction(answer), { name: LONG, arguments: '{"city":"Paris"}' });
      assertAliasSent();
    });

    it("streams the client's name back", async () => {
      const chunks = await collectStream((await invoke(request(true))) as StreamAnswer);
      const calls = streamedToolCalls(chunks);
      assert.deepEqual(
        calls.map((call) => [call.name, call.arguments]),
        [[LONG, '{"city":"Paris"}']],
      );
      assert.equal(streamedFinishReason(chunks), 'tool_calls');
      assertAliasSent();
    });
  });

  it('answers n candidates as the choices of their index, in index order, whatever order they came in', async () => {
    // The fake sends candidate 2, then 1, then 0 without an index (protobuf leaves a 0 out).
    const { answer, choices } = await askForCandidates(invoke, upstream, 3);
    assert.deepEqual(choices, [
      [0, 'Candidate 0 from Gemini.', 'stop'],
      [1, 'Candidate 1 from Gemini.', 'length'],
      [2, 'Candidate 2 from Gemini.', 'stop'],
    ]);
    assert.equal(answer.usage.outputTokens, 7);
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

  it("sends an embedding's taskType and title (provider_extras), shared or per input, on each request", async () => {
    const ask = (extras: JsonObject) =>
      invoke(
        gatewayChatRequest(
          { input: ['one', 'two'], provider_extras: extras },
          { operation: 'embeddings' },
        ),
      );
    await ask({ task_type: ['RETRIEVAL_DOCUMENT', null], title: ['First', null] });
    await ask({ task_type: 'SEMANTIC_SIMILARITY' });
    await ask({ title: 'Both' });
    const [perInput, typeOnly, shared] = upstream.calls.map((call) => call.body.requests);
    const model = 'models/gemini-2.5-flash';
    assert.deepEqual(perInput, [
      {
        model,
        content: { parts: [{ text: 'one' }] },
        taskType: 'RETRIEVAL_DOCUMENT',
        title: 'First',
      },
      { model, content: { parts: [{ text: 'two' }] } },
    ]);
    assert.deepEqual(
      (typeOnly as JsonObject[]).map((request) => request.taskType),
      ['SEMANTIC_SIMILARITY', 'SEMANTIC_SIMILARITY'],
    );
    assert.deepEqual(
      (shared as JsonObject[]).map((request) => request.title),
      ['Both', 'Both'],
    );
    await assert.rejects(
      ask({ title: ['only one'] }),
      (error: unknown) => error instanceof DataPlaneError && error.param === 'title',
    );
    assert.equal(upstream.calls.length, 3);
  });

  it('sends vectors as base64 float32 when the client asks, as the openai SDKs do by default', async () => {
    const request = gatewayChatRequest(
      { input: ['one', 'two'], encoding_format: 'base64' },
      { operation: 'embeddings' },
    );
    const answer = await invoke(request);
    if (answer.kind !== 'json') return assert.fail('expected json');
    const encoded = (answer.body.data as JsonObject[])[1].embedding;
    assert.equal(typeof encoded, 'string');
    const bytes = Buffer.from(encoded as string, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    assert.deepEqual(decoded, [0.5, 1, -0.5]);
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

const USAGE_METADATA = { promptTokenCount: 30, candidatesTokenCount: 5, totalTokenCount: 35 };

/** An image model's answer: one 1024px image (1290 tokens) and a line of text. */
const IMAGE_USAGE_METADATA = {
  promptTokenCount: 12,
  candidatesTokenCount: 1300,
  totalTokenCount: 1312,
  candidatesTokensDetails: [
    { modality: 'TEXT', tokenCount: 10 },
    { modality: 'IMAGE', tokenCount: 1290 },
  ],
};

/** A prompt of spoken audio and a line of text (gemini-2.5-flash). */
const AUDIO_USAGE_METADATA = {
  promptTokenCount: 1010,
  candidatesTokenCount: 20,
  totalTokenCount: 1030,
  promptTokensDetails: [
    { modality: 'TEXT', tokenCount: 10 },
    { modality: 'AUDIO', tokenCount: 1000 },
  ],
};

/** gemini-2.5-flash's list price: text $0.30, audio $1.00 in, $2.50 out per 1M tokens. */
const FLASH_AUDIO_PRICE: ModelPricing = {
  inputPer1k: 0.0003,
  audioInputPer1k: 0.001,
  outputPer1k: 0.0025,
};

/** gemini-2.5-flash-image as genai-prices lists it, per 1000 tokens. */
const FLASH_IMAGE_PRICE: ModelPricing = {
  inputPer1k: 0.0003,
  outputPer1k: 0.0025,
  imageOutputPer1k: 0.03,
};

/** A complete GenerateContentResponse (or a stream's last event) with these parts. */
function answerOf(parts: unknown[], extra: JsonObject = {}): JsonObject {
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
    usageMetadata: USAGE_METADATA,
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp-odd-1',
    ...extra,
  };
}

/** Each choice of a stream: its role chunks, text and finish reasons, by index. */
function choicesOf(chunks: readonly JsonObject[]) {
  const byIndex = new Map<
    number,
    { index: number; roles: number; text: string; finishes: unknown[] }
  >();
  for (const chunk of chunks) {
    for (const choice of chunk.choices as JsonObject[]) {
      const index = choice.index as number;
      const seen = byIndex.get(index) ?? { index, roles: 0, text: '', finishes: [] };
      byIndex.set(index, seen);
      const delta = choice.delta as JsonObject;
      if (delta.role === 'assistant') seen.roles += 1;
      if (typeof delta.content === 'string') seen.text += delta.content;
      if (choice.finish_reason !== null) seen.finishes.push(choice.finish_reason);
    }
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** A partial GenerateContentResponse as streamGenerateContent sends it. */
function streamEvent(parts: unknown[], extra: JsonObject = {}): JsonObject {
  return { candidates: [{ content: { role: 'model', parts }, index: 0 }], ...extra };
}

describe('GeminiAdapter against a Gemini API that answers oddly', () => {
  const upstream = new FakeGeminiUpstream();
  const raw = new RawSseUpstream({ basePath: '/v1beta' });
  const adapter = new GeminiAdapter();
  let target: UpstreamTarget;
  let rawTarget: UpstreamTarget;
  const invoke = (request: GatewayRequest, to = target) =>
    adapter.invoke({ request, target: to, signal: new AbortController().signal });

  before(async () => {
    await upstream.start();
    await raw.start();
    const key = { headerName: 'x-goog-api-key', value: 'AIzaSecretKey123456' };
    target = upstreamTarget(
      { provider: 'google-gemini', model: 'gemini-2.5-flash', baseUrl: upstream.baseUrl },
      key,
    );
    rawTarget = upstreamTarget(
      { provider: 'google-gemini', model: 'gemini-2.5-flash', baseUrl: raw.baseUrl },
      key,
    );
  });
  after(async () => {
    await upstream.stop();
    await raw.stop();
  });
  beforeEach(() => upstream.reset());

  async function answerTo(body: JsonObject): Promise<JsonObject> {
    upstream.next({ kind: 'json', body });
    const answer = await invoke(gatewayChatRequest());
    if (answer.kind !== 'json') return assert.fail('expected json');
    return (answer.body.choices as JsonObject[])[0];
  }

  async function rejectsAsBadResponse(body: JsonObject, message?: RegExp): Promise<void> {
    upstream.next({ kind: 'json', body });
    await assert.rejects(
      invoke(gatewayChatRequest()),
      isDataPlaneError(DataPlaneErrorCode.UpstreamBadResponse, message),
      JSON.stringify(body),
    );
  }

  /** Streams `events` from the raw backend; the chunks, the error if any, and the usage. */
  async function streamOf(events: unknown[], options: { drop?: boolean; n?: number } = {}) {
    raw.next(events, { drop: options.drop });
    const request = gatewayChatRequest({
      stream: true,
      stream_options: { include_usage: true },
      ...(options.n === undefined ? {} : { n: options.n }),
    });
    const answer = (await invoke(request, rawTarget)) as StreamAnswer;
    const chunks: JsonObject[] = [];
    let error: unknown;
    try {
      for await (const chunk of answer.events) chunks.push(chunk);
    } catch (caught) {
      error = caught;
    }
    return { chunks, error, usage: await answer.usage };
  }

  it("answers an error object before any candidate with its code's meaning, and one after as a cut stream", async () => {
    const before: [unknown, DataPlaneErrorCode, number][] = [
      [{ code: 429, status: 'RESOURCE_EXHAUSTED' }, DataPlaneErrorCode.UpstreamRateLimited, 429],
      [{ code: 503, status: 'UNAVAILABLE' }, DataPlaneErrorCode.UpstreamError, 503],
      [{ code: 400, status: 'INVALID_ARGUMENT' }, DataPlaneErrorCode.UpstreamRejected, 400],
      [{ code: 'x' }, DataPlaneErrorCode.UpstreamError, 500],
      ['broken', DataPlaneErrorCode.UpstreamError, 500],
    ];
    for (const [error, code, status] of before) {
      const { chunks, error: thrown, usage } = await streamOf([{ error }]);
      assert.equal(chunks.length, 0);
      assert.ok(
        thrown instanceof DataPlaneError &&
          thrown.code === code &&
          thrown.upstreamStatus === status &&
          /before its answer started$/.test(thrown.message),
        `${JSON.stringify(error)}: ${String(thrown)}`,
      );
      assert.equal(usage.source, 'estimated');
    }
    const text = { candidates: [{ content: { role: 'model', parts: [{ text: 'Hi' }] } }] };
    const after = await streamOf([text, { error: { code: 429, status: 'RESOURCE_EXHAUSTED' } }]);
    assert.ok(
      after.error instanceof DataPlaneError &&
        after.error.code === DataPlaneErrorCode.StreamInterrupted,
      String(after.error),
    );
  });

  it('skips parts that are null or of kinds it does not relay, and reads the text around them', async () => {
    const choice = await answerTo(
      answerOf([
        null,
        'stray',
        // Images without data, with a mime type that would bend the data URL, or a draft.
        { inlineData: { mimeType: 'image/png' } },
        { inlineData: { mimeType: 'image/png;x=,', data: 'iVBO' } },
        { inlineData: { mimeType: 'image/png', data: 'iVBO' }, thought: true },
        { text: 'Hi' },
      ]),
    );
    assert.deepEqual(choice.message, { role: 'assistant', content: 'Hi' });
    assert.equal(choice.finish_reason, 'stop');
  });

  it("relays an image model's inlineData parts as message.images data URLs, the text unchanged", async () => {
    const choice = await answerTo(
      answerOf([
        { text: 'A cat:' },
        { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
        { text: ' and a dog.' },
        { inlineData: { mimeType: 'image/jpeg', data: '/9j/4A==' } },
      ]),
    );
    assert.deepEqual(choice.message, {
      role: 'assistant',
      content: 'A cat: and a dog.',
      images: [
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4A==' } },
      ],
    });
  });

  it('asks for n candidates (candidateCount) in a JSON answer, each a choice in order', async () => {
    const second = {
      content: { role: 'model', parts: [{ text: 'Two' }] },
      finishReason: 'MAX_TOKENS',
      index: 1,
    };
    upstream.next({
      kind: 'json',
      body: answerOf([{ text: 'One' }], {
        candidates: [
          { content: { role: 'model', parts: [{ text: 'One' }] }, finishReason: 'STOP', index: 0 },
          second,
        ],
      }),
    });
    const { choices } = await askForCandidates(invoke, upstream, 2);
    assert.deepEqual(choices, [
      [0, 'One', 'stop'],
      [1, 'Two', 'length'],
    ]);
    await rejectsAsBadResponse(
      answerOf([{ text: 'One' }], { candidates: [{ ...second, index: 0 }, 'junk'] }),
      /a candidate that is not an object/,
    );
  });

  it("reads each JSON candidate's index (absent: 0), keeps a gap, and refuses an index twice or beyond n", async () => {
    const text = (words: string, extra: JsonObject = {}) => ({
      content: { role: 'model', parts: [{ text: words }] },
      finishReason: 'STOP',
      ...extra,
    });
    const choicesFor = async (candidates: unknown[], n: number) => {
      upstream.next({ kind: 'json', body: answerOf([], { candidates }) });
      const answer = await invoke(gatewayChatRequest({ n }));
      if (answer.kind !== 'json') return assert.fail('expected json');
      return (answer.body.choices as JsonObject[]).map((choice) => [
        choice.index,
        (choice.message as JsonObject).content,
      ]);
    };
    // Candidate 2 and candidate 0 (no index) of three: each under its own index, in order.
    assert.deepEqual(await choicesFor([text('C', { index: 2 }), text('A')], 3), [
      [0, 'A'],
      [2, 'C'],
    ]);
    // Only candidate 1 of two: its own index, not 0.
    assert.deepEqual(await choicesFor([text('B', { index: 1 })], 2), [[1, 'B']]);
    const refused = async (candidates: unknown[], n: number, message: RegExp) => {
      upstream.next({ kind: 'json', body: answerOf([], { candidates }) });
      await assert.rejects(
        invoke(gatewayChatRequest({ n })),
        isDataPlaneError(DataPlaneErrorCode.UpstreamBadResponse, message),
        JSON.stringify(candidates),
      );
    };
    await refused([text('A', { index: 0 }), text('B')], 2, /candidate index 0 twice in one answer/);
    await refused([text('A'), text('C', { index: 2 })], 2, /candidate index 2 outside the 2/);
    await refused([text('A', { index: '1' })], 2, /candidate index "1" outside the 2/);
    // Without n, a second candidate is not one the request asked for.
    await refused([text('A'), text('B', { index: 1 })], 1, /candidate index 1 outside the 1/);
  });

  it('streams n candidates (candidateCount) as the choices of their index, each finished, usage once', async () => {
    const answer = (await invoke(
      gatewayChatRequest({ n: 2, stream: true, stream_options: { include_usage: true } }),
    )) as StreamAnswer;
    const chunks = await collectStream(answer);
    assert.equal((upstream.calls[0].body.generationConfig as JsonObject).candidateCount, 2);
    assert.deepEqual(choicesOf(chunks), [
      { index: 0, roles: 1, text: 'Candidate 0 from Gemini.', finishes: ['stop'] },
      { index: 1, roles: 1, text: 'Candidate 1 from Gemini.', finishes: ['length'] },
    ]);
    // Interleaved as Gemini sent them: choice 1 speaks before choice 0 is done.
    const indexes = chunks.flatMap((chunk) =>
      (chunk.choices as JsonObject[]).map((choice) => choice.index),
    );
    assert.ok(indexes.indexOf(1) < indexes.lastIndexOf(0), JSON.stringify(indexes));
    const usage = chunks.filter((chunk) => chunk.usage);
    assert.equal(usage.length, 1);
    assert.deepEqual(usage[0].choices, []);
    assert.equal(chunks.at(-1), usage[0]);
    const reported = await answer.usage;
    assert.equal(reported.source, 'reported');
    assert.equal(reported.outputTokens, 7);
  });

  it('streams candidates by their index (a zero one without it, as protobuf leaves it out) and ends only once all finished', async () => {
    const candidate = (text: string, extra: JsonObject = {}) => ({
      candidates: [{ content: { role: 'model', parts: [{ text }] }, ...extra }],
    });
    const both = await streamOf(
      [
        candidate('One'),
        candidate('Two', { index: 1 }),
        candidate(' done.', { finishReason: 'STOP' }),
        {
          ...candidate(' cut', { index: 1, finishReason: 'SAFETY' }),
          usageMetadata: USAGE_METADATA,
        },
      ],
      { n: 2 },
    );
    assert.equal(both.error, undefined);
    assert.deepEqual(choicesOf(both.chunks), [
      { index: 0, roles: 1, text: 'One done.', finishes: ['stop'] },
      { index: 1, roles: 1, text: 'Two cut', finishes: ['content_filter'] },
    ]);
    // One candidate of two finished: the answer is not whole.
    const half = await streamOf(
      [candidate('One', { finishReason: 'STOP' }), candidate('Two', { index: 1 })],
      { n: 2 },
    );
    assert.ok(
      isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /before it finished/)(half.error),
      String(half.error),
    );
    // A candidate the request did not ask for is a malformed stream.
    const beyond = await streamOf([candidate('Three', { index: 2, finishReason: 'STOP' })], {
      n: 2,
    });
    assert.ok(
      isDataPlaneError(
        DataPlaneErrorCode.StreamInterrupted,
        /candidate index 2 outside the 2/,
      )(beyond.error),
      String(beyond.error),
    );
  });

  it('takes a candidate without an index as candidate 0 wherever it stands in the event, and refuses an index twice in one event', async () => {
    const text = (words: string, extra: JsonObject = {}) => ({
      content: { role: 'model', parts: [{ text: words }] },
      ...extra,
    });
    // Candidate 1 first, candidate 0 (no index) second: both finish in this one event.
    const together = await streamOf(
      [
        {
          candidates: [
            text('B', { index: 1, finishReason: 'STOP' }),
            text('A', { finishReason: 'STOP' }),
          ],
          usageMetadata: USAGE_METADATA,
        },
      ],
      { n: 2 },
    );
    assert.equal(together.error, undefined, String(together.error));
    assert.deepEqual(choicesOf(together.chunks), [
      { index: 0, roles: 1, text: 'A', finishes: ['stop'] },
      { index: 1, roles: 1, text: 'B', finishes: ['stop'] },
    ]);
    // Finished in different events, candidate 0 last and alone, with only its finish.
    const apart = await streamOf(
      [
        { candidates: [text('B', { index: 1, finishReason: 'MAX_TOKENS' }), text('A')] },
        { candidates: [{ finishReason: 'STOP' }], usageMetadata: USAGE_METADATA },
      ],
      { n: 2 },
    );
    assert.equal(apart.error, undefined, String(apart.error));
    assert.deepEqual(choicesOf(apart.chunks), [
      { index: 0, roles: 1, text: 'A', finishes: ['stop'] },
      { index: 1, roles: 1, text: 'B', finishes: ['length'] },
    ]);
    // Two candidates 0 in one event (one named, one left out) is a malformed stream.
    for (const twice of [
      [text('A', { index: 0 }), text('B')],
      [text('A', { index: 1 }), text('B', { index: 1 })],
    ]) {
      const { error } = await streamOf([{ candidates: twice }], { n: 2 });
      assert.ok(
        isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /twice in one event/)(error),
        String(error),
      );
    }
  });

  it('ends every choice of a blocked prompt with content_filter', async () => {
    const { chunks, error } = await streamOf(
      [{ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: USAGE_METADATA }],
      { n: 2 },
    );
    assert.equal(error, undefined);
    assert.deepEqual(choicesOf(chunks), [
      { index: 0, roles: 1, text: '', finishes: ['content_filter'] },
      { index: 1, roles: 1, text: '', finishes: ['content_filter'] },
    ]);
  });

  it('tolerates a candidate without content or with content of the wrong shape', async () => {
    for (const content of [undefined, null, 'text', { parts: 'text' }, { role: 'model' }]) {
      const choice = await answerTo({
        candidates: [{ content, finishReason: 'STOP' }],
        usageMetadata: USAGE_METADATA,
      });
      assert.deepEqual(choice.message, { role: 'assistant', content: '' });
    }
  });

  it('reports candidates that are not a list of objects, or none without a block, as a bad response', async () => {
    await rejectsAsBadResponse({
      candidates: 'oops',
      promptFeedback: {},
      usageMetadata: USAGE_METADATA,
    });
    await rejectsAsBadResponse({ candidates: [], usageMetadata: USAGE_METADATA });
    await rejectsAsBadResponse({
      candidates: [],
      promptFeedback: {},
      usageMetadata: USAGE_METADATA,
    });
    await rejectsAsBadResponse({ candidates: [7], usageMetadata: USAGE_METADATA });
    await rejectsAsBadResponse({ candidates: [null], usageMetadata: USAGE_METADATA });
  });

  it('answers a prompt blocked for safety, or a candidate stopped for it, as content_filter', async () => {
    const blocked = await answerTo({
      promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] },
      usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
    });
    assert.equal(blocked.finish_reason, 'content_filter');
    assert.deepEqual(blocked.message, { role: 'assistant', content: '' });
    const stopped = await answerTo({
      candidates: [{ finishReason: 'SAFETY', index: 0, safetyRatings: [] }],
      usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
    });
    assert.equal(stopped.finish_reason, 'content_filter');
  });

  it("carries a policy stop's own name (RECITATION, SPII, ...) beside content_filter, JSON and streamed", async () => {
    for (const reason of ['RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'LANGUAGE']) {
      const choice = await answerTo({
        candidates: [{ content: { parts: [{ text: 'As the song' }] }, finishReason: reason }],
        usageMetadata: USAGE_METADATA,
      });
      assert.equal(choice.finish_reason, 'content_filter', reason);
      assert.deepEqual(
        choice.message,
        {
          role: 'assistant',
          content: 'As the song',
          extra_content: { google: { finish_reason: reason } },
        },
        reason,
      );
    }
    const { chunks, error } = await streamOf([
      { candidates: [{ content: { parts: [{ text: 'As the' }] } }] },
      { candidates: [{ finishReason: 'RECITATION' }], usageMetadata: USAGE_METADATA },
    ]);
    assert.equal(error, undefined);
    const finish = chunks.flatMap((chunk) =>
      (chunk.choices as JsonObject[]).filter((choice) => choice.finish_reason !== null),
    );
    assert.equal(finish.length, 1);
    assert.equal(finish[0].finish_reason, 'content_filter');
    assert.deepEqual((finish[0].delta as JsonObject).extra_content, {
      google: { finish_reason: 'RECITATION' },
    });
    // SAFETY is what content_filter reads as anyway: nothing is added for it.
    const safety = await answerTo({
      candidates: [{ content: { parts: [{ text: 'No' }] }, finishReason: 'SAFETY' }],
      usageMetadata: USAGE_METADATA,
    });
    assert.deepEqual(safety.message, { role: 'assistant', content: 'No' });
  });

  it('maps the image filters to content_filter and an unknown finishReason to stop', async () => {
    for (const reason of ['IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']) {
      const choice = await answerTo({
        candidates: [{ finishReason: reason, index: 0 }],
        usageMetadata: USAGE_METADATA,
      });
      assert.equal(choice.finish_reason, 'content_filter', reason);
    }
    const unknown = await answerTo({
      candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'SOMETHING_NEW' }],
      usageMetadata: USAGE_METADATA,
    });
    assert.deepEqual(unknown.message, { role: 'assistant', content: 'ok' });
    assert.equal(unknown.finish_reason, 'stop');
  });

  // Google's documented FinishReason values beyond STOP and MAX_TOKENS (generateContent's
  // Candidate.FinishReason): the policy stops, and those that leave the answer broken.
  const POLICY_STOPS = [
    'SAFETY',
    'RECITATION',
    'LANGUAGE',
    'BLOCKLIST',
    'PROHIBITED_CONTENT',
    'SPII',
    'IMAGE_SAFETY',
  ];
  const BROKEN_STOPS = [
    'MALFORMED_FUNCTION_CALL',
    'UNEXPECTED_TOOL_CALL',
    'TOO_MANY_TOOL_CALLS',
    'MISSING_THOUGHT_SIGNATURE',
    'NO_IMAGE',
    'IMAGE_OTHER',
    'OTHER',
  ];

  it('answers every policy finishReason as content_filter, JSON and streamed', async () => {
    for (const reason of POLICY_STOPS) {
      const choice = await answerTo({
        candidates: [{ content: { parts: [{ text: 'Part' }] }, finishReason: reason }],
        usageMetadata: USAGE_METADATA,
      });
      assert.equal(choice.finish_reason, 'content_filter', reason);
      const streamed = await streamOf([
        streamEvent([{ text: 'Part' }]),
        { candidates: [{ finishReason: reason, index: 0 }], usageMetadata: USAGE_METADATA },
      ]);
      assert.equal(streamed.error, undefined, reason);
      assert.equal(streamedFinishReason(streamed.chunks), 'content_filter', reason);
    }
  });

  it('refuses a JSON answer whose candidate finished broken (MALFORMED_FUNCTION_CALL...) as a bad response', async () => {
    for (const reason of BROKEN_STOPS) {
      // As Gemini sends it: the text before the dropped call, and no call.
      await rejectsAsBadResponse(
        {
          candidates: [
            { content: { role: 'model', parts: [{ text: 'Let me check' }] }, finishReason: reason },
          ],
          usageMetadata: USAGE_METADATA,
        },
        new RegExp(`finished with ${reason}$`),
      );
    }
    // One broken candidate of several breaks the whole answer.
    upstream.next({
      kind: 'json',
      body: {
        candidates: [
          { content: { parts: [{ text: 'A' }] }, finishReason: 'STOP', index: 0 },
          { finishReason: 'MALFORMED_FUNCTION_CALL', index: 1 },
        ],
        usageMetadata: USAGE_METADATA,
      },
    });
    await assert.rejects(
      invoke(gatewayChatRequest({ n: 2 })),
      isDataPlaneError(DataPlaneErrorCode.UpstreamBadResponse, /MALFORMED_FUNCTION_CALL/),
    );
  });

  it('ends a stream whose candidate finished broken in an error after the text that came', async () => {
    for (const reason of BROKEN_STOPS) {
      const { chunks, error, usage } = await streamOf([
        streamEvent([{ text: 'Let me check' }]),
        // Gemini's own shape for it: a candidate with the reason and no content.
        { candidates: [{ finishReason: reason, index: 0 }], usageMetadata: USAGE_METADATA },
      ]);
      assert.ok(
        isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, new RegExp(reason))(error),
        `${reason}: ${String(error)}`,
      );
      assert.equal(streamedText(chunks), 'Let me check', reason);
      assert.equal(streamedFinishReason(chunks), null, reason);
      assert.equal(usage.source, 'estimated', reason);
    }
    // The first event broken: nothing went out, so the router may still fail over.
    const first = await streamOf([
      { candidates: [{ finishReason: 'MALFORMED_FUNCTION_CALL' }], usageMetadata: USAGE_METADATA },
    ]);
    assert.equal(first.chunks.length, 0);
    assert.ok(isDataPlaneError(DataPlaneErrorCode.StreamInterrupted)(first.error));
  });

  it('reports a functionCall whose args are not an object, or that has no name, as a bad response', async () => {
    for (const args of ['city=Paris', ['Paris'], 42]) {
      await rejectsAsBadResponse(
        answerOf([{ functionCall: { name: 'get_weather', args } }]),
        /functionCall/,
      );
    }
    await rejectsAsBadResponse(
      answerOf([{ functionCall: { args: { city: 'Paris' } } }]),
      /functionCall/,
    );
  });

  it('answers a functionCall without args as a call with empty arguments', async () => {
    const choice = await answerTo(answerOf([{ functionCall: { name: 'get_weather' } }]));
    const calls = (choice.message as JsonObject).tool_calls as JsonObject[];
    assert.deepEqual(calls[0].function, { name: 'get_weather', arguments: '{}' });
    assert.equal(choice.finish_reason, 'tool_calls');
  });

  it('keeps token counts whole, non-negative and safe whatever usageMetadata holds', async () => {
    for (const usageMetadata of [
      {
        promptTokenCount: 1e300,
        toolUsePromptTokenCount: 1e300,
        candidatesTokenCount: 1e300,
        thoughtsTokenCount: 1e300,
        cachedContentTokenCount: 1e300,
      },
      {
        promptTokenCount: 10,
        candidatesTokenCount: -5,
        thoughtsTokenCount: 2.5,
        cachedContentTokenCount: 50,
      },
      { promptTokenCount: '30', candidatesTokenCount: 3 },
    ]) {
      upstream.next({ kind: 'json', body: answerOf([{ text: 'Hi' }], { usageMetadata }) });
      const answer = await invoke(gatewayChatRequest());
      if (answer.kind !== 'json') return assert.fail('expected json');
      assertSaneUsage(answer.usage);
    }
  });

  it('reports usageMetadata without a single count as a bad response', async () => {
    for (const usageMetadata of [['x'], {}, { promptTokenCount: 'many' }, 'lots']) {
      await rejectsAsBadResponse(answerOf([{ text: 'Hi' }], { usageMetadata }));
    }
  });

  it('ends a stream with an event that is not a JSON object with a StreamInterrupted naming it', async () => {
    for (const event of ['null', '42', '"text"', '[1]']) {
      const { error } = await streamOf([streamEvent([{ text: 'Hi' }]), event]);
      assert.ok(
        isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /not a JSON object/)(error),
        String(error),
      );
    }
  });

  it('ends a stream whose candidates is not a list with a StreamInterrupted', async () => {
    const { error } = await streamOf([{ candidates: 'abc' }, answerOf([{ text: 'Hi' }])]);
    assert.ok(
      isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /candidates/)(error),
      String(error),
    );
  });

  it("streams an image model's inlineData parts as delta.images data URLs, the text unchanged", async () => {
    const { chunks, error, usage } = await streamOf([
      streamEvent([{ text: 'A cat:' }]),
      streamEvent([{ inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }]),
      answerOf([{ text: ' done.' }], { usageMetadata: IMAGE_USAGE_METADATA }),
    ]);
    assert.equal(error, undefined);
    assert.equal(streamedText(chunks), 'A cat: done.');
    const images = chunks.flatMap(
      (chunk) => ((chunk.choices as JsonObject[])[0]?.delta as JsonObject)?.images ?? [],
    );
    assert.deepEqual(images, [
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
    ]);
    assert.equal(usage?.imageOutputTokens, 1290);
  });

  it('streams thought summaries as reasoning_content fragments, never as content', async () => {
    const { chunks, error } = await streamOf([
      streamEvent([{ text: 'Weighing', thought: true }]),
      streamEvent([{ text: ' the options.', thought: true }, { text: 'Paris' }]),
      answerOf([{ text: '.' }]),
    ]);
    assert.equal(error, undefined);
    assert.equal(streamedReasoning(chunks), 'Weighing the options.');
    assert.equal(streamedText(chunks), 'Paris.');
    // Within an event the summary goes first, as Gemini wrote it; no block to send back.
    const deltas = chunks.map((chunk) => (chunk.choices as JsonObject[])[0]?.delta as JsonObject);
    const reasoningAt = deltas.findIndex((d) => d?.reasoning_content === ' the options.');
    assert.equal(deltas[reasoningAt + 1]?.content, 'Paris');
    assert.doesNotMatch(JSON.stringify(chunks), /thinking_blocks/);
  });

  it("reports Gemini's thinking tokens as reasoning_tokens, JSON and streamed", async () => {
    const thinking = { promptTokenCount: 30, candidatesTokenCount: 5, thoughtsTokenCount: 12 };
    upstream.next({ kind: 'json', body: answerOf([{ text: 'Hi' }], { usageMetadata: thinking }) });
    const answer = await invoke(gatewayChatRequest());
    if (answer.kind !== 'json') return assert.fail('expected json');
    const usage = answer.body.usage as JsonObject;
    assert.deepEqual(usage.completion_tokens_details, { reasoning_tokens: 12 });
    assert.equal(usage.completion_tokens, 17);

    // Cumulative in a stream: a later partial count does not lower it.
    const { chunks, error } = await streamOf([
      streamEvent([{ text: 'Hi' }], { usageMetadata: thinking }),
      answerOf([{ text: '!' }], {
        usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 6, thoughtsTokenCount: 3 },
      }),
    ]);
    assert.equal(error, undefined);
    const usageChunk = chunks.find((chunk) => chunk.usage !== undefined);
    const streamed = usageChunk?.usage as JsonObject;
    assert.deepEqual(streamed.completion_tokens_details, { reasoning_tokens: 12 });
    assert.equal(streamed.completion_tokens, 17);
  });

  it('leaves reasoning_tokens out when Gemini reports no thinking tokens', async () => {
    const { chunks } = await streamOf([answerOf([{ text: 'Hi' }])]);
    const usageChunk = chunks.find((chunk) => chunk.usage !== undefined);
    assert.equal((usageChunk?.usage as JsonObject).completion_tokens_details, undefined);
    upstream.next({ kind: 'json', body: answerOf([{ text: 'Hi' }]) });
    const answer = await invoke(gatewayChatRequest());
    if (answer.kind !== 'json') return assert.fail('expected json');
    assert.equal((answer.body.usage as JsonObject).completion_tokens_details, undefined);
  });

  it('streams around null and unknown parts', async () => {
    const { chunks, error } = await streamOf([
      streamEvent([null, { executableCode: { code: 'x' } }, { text: 'Hi' }]),
      answerOf([{ text: '!' }]),
    ]);
    assert.equal(error, undefined);
    assert.equal(streamedText(chunks), 'Hi!');
  });

  it('ends a stream whose functionCall args are not an object with a StreamInterrupted', async () => {
    const { chunks, error } = await streamOf([
      streamEvent([{ functionCall: { name: 'get_weather', args: 'Paris' } }]),
      answerOf([]),
    ]);
    assert.ok(
      isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /functionCall/)(error),
      String(error),
    );
    assert.deepEqual(streamedToolCalls(chunks), []);
  });

  it('ends a stream that closes, or breaks, after its first chunk with a StreamInterrupted', async () => {
    for (const drop of [false, true]) {
      const { chunks, error, usage } = await streamOf([streamEvent([{ text: 'Hi' }])], { drop });
      assert.equal(streamedText(chunks), 'Hi');
      assert.ok(isDataPlaneError(DataPlaneErrorCode.StreamInterrupted)(error), String(error));
      assert.equal(usage.source, 'estimated');
    }
  });

  it('relays nothing after the finishing event, but takes the usage that follows it', async () => {
    const { chunks, error, usage } = await streamOf([
      streamEvent([{ text: 'Hi' }], { usageMetadata: { promptTokenCount: 30 } }),
      answerOf([]),
      answerOf([{ text: ' again' }], {
        usageMetadata: { ...USAGE_METADATA, candidatesTokenCount: 6 },
      }),
    ]);
    assert.equal(error, undefined);
    assert.equal(streamedText(chunks), 'Hi');
    const finishes = chunks.filter((chunk) => (chunk.choices as JsonObject[])[0]?.finish_reason);
    assert.equal(finishes.length, 1);
    assert.equal(usage.outputTokens, 6);
    assert.equal(usage.source, 'reported');
  });

  it('ends cleanly when what follows the finishing event is junk or an error', async () => {
    const { chunks, error, usage } = await streamOf([
      answerOf([{ text: 'Hi' }]),
      'not json',
      'null',
      { error: { code: 500, message: 'late', status: 'INTERNAL' } },
    ]);
    assert.equal(error, undefined);
    assert.equal(streamedText(chunks), 'Hi');
    assert.equal(usage.outputTokens, 5);
  });

  it('keeps the highest count of each kind when a later event reports less usage', async () => {
    const { usage } = await streamOf([
      streamEvent([{ text: 'Hi' }], { usageMetadata: USAGE_METADATA }),
      answerOf([], { usageMetadata: { promptTokenCount: 30 } }),
    ]);
    assert.deepEqual(usage, {
      inputTokens: 30,
      outputTokens: 5,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it('keeps stream usage counts whole, non-negative and safe', async () => {
    const { usage } = await streamOf([
      answerOf([{ text: 'Hi' }], {
        usageMetadata: {
          promptTokenCount: 1e300,
          toolUsePromptTokenCount: 1e300,
          candidatesTokenCount: -1,
          cachedContentTokenCount: 2e300,
        },
      }),
    ]);
    assertSaneUsage(usage);
  });

  it("reads the candidates' IMAGE tokens as image output, never more than the output", async () => {
    const read = async (usageMetadata: JsonObject) => {
      upstream.next({ kind: 'json', body: answerOf([{ text: 'Here.' }], { usageMetadata }) });
      const answer = await invoke(gatewayChatRequest());
      if (answer.kind !== 'json') return assert.fail('expected json');
      return answer.usage;
    };
    const usage = await read(IMAGE_USAGE_METADATA);
    assert.deepEqual(usage, {
      inputTokens: 12,
      outputTokens: 1300,
      cachedInputTokens: 0,
      imageOutputTokens: 1290,
      source: 'reported',
    });
    // 12 input tokens at $0.30 per 1M, 10 text tokens at $2.50 and 1290 image tokens at
    // $30 (not $2.50).
    assert.ok(Math.abs(dollarsAt(FLASH_IMAGE_PRICE, usage) - 0.0387286) < 1e-9);
    const textOnly = await read({
      ...USAGE_METADATA,
      candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: 5 }],
    });
    assert.equal(textOnly.imageOutputTokens, undefined);
    const odd = await read({
      promptTokenCount: 12,
      candidatesTokenCount: 100,
      candidatesTokensDetails: [
        null,
        { modality: 'image', tokenCount: 7 },
        { modality: 'IMAGE', tokenCount: 'many' },
        { modality: 'IMAGE', tokenCount: 1290 },
      ],
    });
    assert.equal(odd.outputTokens, 100);
    assert.equal(odd.imageOutputTokens, 100);
  });

  it("reads the prompt's AUDIO tokens as audio input, billed at Flash's audio rate, not text's", async () => {
    const read = async (usageMetadata: JsonObject) => {
      upstream.next({ kind: 'json', body: answerOf([{ text: 'Heard.' }], { usageMetadata }) });
      const answer = await invoke(gatewayChatRequest());
      if (answer.kind !== 'json') return assert.fail('expected json');
      return answer.usage;
    };
    const usage = await read(AUDIO_USAGE_METADATA);
    assert.deepEqual(usage, {
      inputTokens: 1010,
      outputTokens: 20,
      cachedInputTokens: 0,
      audioInputTokens: 1000,
      source: 'reported',
    });
    // 10 text tokens at $0.30 per 1M, 1000 audio tokens at $1 (not $0.30), 20 out at $2.50.
    assert.ok(Math.abs(dollarsAt(FLASH_AUDIO_PRICE, usage) - 0.001053) < 1e-12);
    // Audio read from a context cache is in cachedContentTokenCount, billed as a cache read:
    // only the audio sent afresh is billed at the audio rate.
    const cached = await read({
      ...AUDIO_USAGE_METADATA,
      cachedContentTokenCount: 400,
      cacheTokensDetails: [{ modality: 'AUDIO', tokenCount: 400 }],
    });
    assert.equal(cached.cachedInputTokens, 400);
    assert.equal(cached.audioInputTokens, 600);
    const odd = await read({
      promptTokenCount: 12,
      candidatesTokenCount: 1,
      promptTokensDetails: [
        null,
        { modality: 'audio', tokenCount: 7 },
        { modality: 'AUDIO', tokenCount: 99 },
      ],
    });
    assert.equal(odd.audioInputTokens, 12, 'never more than the input it is part of');
    const { usage: streamed } = await streamOf([
      streamEvent([{ text: 'Heard' }], { usageMetadata: AUDIO_USAGE_METADATA }),
      answerOf([{ text: '.' }], {
        usageMetadata: { promptTokenCount: 1010, candidatesTokenCount: 20 },
      }),
    ]);
    assert.equal(streamed?.audioInputTokens, 1000, 'a later event leaving it out keeps it');
  });

  it('keeps the image output a stream reported, even when a later event leaves it out', async () => {
    const { usage } = await streamOf([
      streamEvent([{ text: 'Here.' }], { usageMetadata: { promptTokenCount: 12 } }),
      answerOf([], { usageMetadata: IMAGE_USAGE_METADATA }),
      answerOf([], { usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 1300 } }),
    ]);
    assert.equal(usage.outputTokens, 1300);
    assert.equal(usage.imageOutputTokens, 1290);
    const { usage: textOnly } = await streamOf([answerOf([{ text: 'Hi' }])]);
    assert.deepEqual(textOnly, {
      inputTokens: 30,
      outputTokens: 5,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it('leaves out empty text parts and empty system messages', async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'system', content: '' },
          { role: 'system', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: '' },
              { type: 'text', text: 'Hi' },
            ],
          },
        ],
      }),
    );
    assert.deepEqual(upstream.calls[0].body.contents, [{ role: 'user', parts: [{ text: 'Hi' }] }]);
    assert.deepEqual(upstream.calls[0].body.systemInstruction, { parts: [{ text: 'Be brief.' }] });
  });

  it('rejects a conversation with no content to send before calling', async () => {
    await assert.rejects(
      invoke(
        gatewayChatRequest({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: [{ type: 'text', text: '' }] },
          ],
        }),
      ),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'messages',
    );
    assert.equal(upstream.calls.length, 0);
  });

  const embeddings = (body: JsonObject) =>
    gatewayChatRequest({ input: ['one', 'two'], ...body }, { operation: 'embeddings' });

  it('reports embeddings that are null, empty, not numbers or of uneven length as a bad response', async () => {
    for (const list of [
      [null, { values: [1, 2] }],
      [{ values: [1, 2] }, { values: null }],
      [{ values: [1, 2] }, { values: [] }],
      [{ values: [1, 2] }, { values: [1, 'two'] }],
      [{ values: [1, 2] }, { values: [1, null] }],
      [{ values: [1, 2] }, { values: [1, 2, 3] }],
    ]) {
      upstream.next({ kind: 'json', body: { embeddings: list } });
      await assert.rejects(
        invoke(embeddings({})),
        isDataPlaneError(DataPlaneErrorCode.UpstreamBadResponse),
        JSON.stringify(list),
      );
    }
  });

  it('reports embeddings of another size than the dimensions asked for as a bad response', async () => {
    // The fake answers three values whatever outputDimensionality says.
    await assert.rejects(
      invoke(embeddings({ dimensions: 4 })),
      isDataPlaneError(DataPlaneErrorCode.UpstreamBadResponse),
    );
    const requests = upstream.calls[0].body.requests as JsonObject[];
    assert.equal(requests[0].outputDimensionality, 4);
  });

  it('answers unit vectors when dimensions are asked, floats and base64 alike, as OpenAI does', async () => {
    // Google leaves a vector cut to outputDimensionality unnormalized, for the caller to scale.
    const cut = { embeddings: [{ values: [3, 4] }, { values: [0, -0.5] }] };
    const unit = [
      [0.6, 0.8],
      [0, -1],
    ];
    upstream.next({ kind: 'json', body: cut });
    const floats = await invoke(embeddings({ dimensions: 2 }));
    if (floats.kind !== 'json') return assert.fail('expected json');
    assert.deepEqual(
      (floats.body.data as JsonObject[]).map((item) => item.embedding),
      unit,
    );
    upstream.next({ kind: 'json', body: cut });
    const encoded = await invoke(embeddings({ dimensions: 2, encoding_format: 'base64' }));
    if (encoded.kind !== 'json') return assert.fail('expected json');
    const decoded = (encoded.body.data as JsonObject[]).map((item) => {
      const bytes = Buffer.from(item.embedding as string, 'base64');
      return [bytes.readFloatLE(0), bytes.readFloatLE(4)];
    });
    assert.deepEqual(
      decoded,
      unit.map((vector) => vector.map(Math.fround)),
    );
  });

  it('leaves vectors as Google sent them when no dimensions are asked (full size, unit already)', async () => {
    upstream.next({ kind: 'json', body: { embeddings: [{ values: [3, 4] }, { values: [1, 0] }] } });
    const answer = await invoke(embeddings({}));
    if (answer.kind !== 'json') return assert.fail('expected json');
    assert.deepEqual(
      (answer.body.data as JsonObject[]).map((item) => item.embedding),
      [
        [3, 4],
        [1, 0],
      ],
    );
  });

  it('rejects dimensions that are not a positive whole number before calling', async () => {
    for (const dimensions of [0, -3, 1.5, '256']) {
      await assert.rejects(
        invoke(embeddings({ dimensions })),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === 'dimensions',
        String(dimensions),
      );
    }
    assert.equal(upstream.calls.length, 0);
  });
});

describe("GeminiAdapter and Gemini 3's thought signatures on function calls", () => {
  const { upstream, invoke } = fakeGeminiBackend('gemini-3-flash-preview');
  const SKIP = 'skip_thought_signature_validator';
  const weatherCall = (id: string, extra?: JsonObject) => ({
    id,
    type: 'function',
    function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    ...(extra ? { extra_content: extra } : {}),
  });
  const sentContents = () => upstream.calls.at(-1)?.body.contents as JsonObject[];

  async function answeredMessage(request: GatewayRequest): Promise<JsonObject> {
    const answer = await invoke(request);
    if (answer.kind !== 'json') return assert.fail('expected json');
    return (answer.body.choices as JsonObject[])[0].message as JsonObject;
  }

  it("puts a functionCall part's thoughtSignature on its tool call as extra_content.google.thought_signature", async () => {
    const message = await answeredMessage(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
    const [call] = message.tool_calls as JsonObject[];
    assert.deepEqual(call.extra_content, {
      google: { thought_signature: FAKE_GEMINI_SIGNATURE },
    });
    assert.deepEqual(call.function, { name: 'get_weather', arguments: '{"city":"Paris"}' });
  });

  it("signs only the call Gemini signed (the first of parallel calls) and leaves a text part's signature out", async () => {
    upstream.next({
      kind: 'json',
      body: answerOf([
        { text: 'Both cities.', thoughtSignature: 'dGV4dA==' },
        {
          functionCall: { name: 'get_weather', args: { city: 'Paris' } },
          thoughtSignature: 'Zmly',
        },
        { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
      ]),
    });
    const message = await answeredMessage(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
    const [first, second] = message.tool_calls as JsonObject[];
    assert.deepEqual(first.extra_content, { google: { thought_signature: 'Zmly' } });
    assert.ok(!('extra_content' in second));
    assert.equal(message.content, 'Both cities.');
    assert.doesNotMatch(JSON.stringify(message), /dGV4dA==/);
  });

  it("streams the signature on the tool call's first delta entry, and only there", async () => {
    const request = gatewayChatRequest({ stream: true, tools: [WEATHER_TOOL] });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    const entries = chunks.flatMap(
      (chunk) =>
        ((chunk.choices as JsonObject[])[0]?.delta as JsonObject | undefined)?.tool_calls ?? [],
    ) as JsonObject[];
    assert.equal(entries.length, 2);
    assert.equal(entries[0].id !== undefined, true);
    assert.deepEqual(entries[0].extra_content, {
      google: { thought_signature: FAKE_GEMINI_SIGNATURE },
    });
    assert.ok(!('extra_content' in entries[1]));
    assert.equal(streamedFinishReason(chunks), 'tool_calls');
  });

  it('sends the signature of a tool call appended as answered back on its functionCall part', async () => {
    const ask = { role: 'user', content: 'Weather in Paris?' };
    const message = await answeredMessage(
      gatewayChatRequest({ messages: [ask], tools: [WEATHER_TOOL] }),
    );
    const [call] = message.tool_calls as JsonObject[];
    const answer = await answeredMessage(
      gatewayChatRequest({
        messages: [
          ask,
          message,
          { role: 'tool', tool_call_id: call.id, content: '{"celsius":18}' },
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    assert.deepEqual(sentContents()[1], {
      role: 'model',
      parts: [
        {
          functionCall: { name: 'get_weather', args: { city: 'Paris' } },
          thoughtSignature: FAKE_GEMINI_SIGNATURE,
        },
      ],
    });
    assert.equal(answer.content, 'It is 18°C in Paris.');
  });

  it('keeps signatures where Gemini put them among parallel calls, adding no bypass to a signed step', async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'user', content: 'Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              weatherCall('c1', { google: { thought_signature: 'Zmly' } }),
              weatherCall('c2'),
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: '18' },
          { role: 'tool', tool_call_id: 'c2', content: '21' },
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    const parts = sentContents()[1].parts as JsonObject[];
    assert.equal(parts[0].thoughtSignature, 'Zmly');
    assert.ok(!('thoughtSignature' in parts[1]));
  });

  it('gives the first functionCall part of each unsigned model step the documented bypass, and no other part', async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'user', content: 'Paris and Rome, then Oslo?' },
          {
            role: 'assistant',
            content: 'Checking both.',
            tool_calls: [weatherCall('c1'), weatherCall('c2')],
          },
          { role: 'tool', tool_call_id: 'c1', content: '18' },
          { role: 'tool', tool_call_id: 'c2', content: '21' },
          { role: 'assistant', content: null, tool_calls: [weatherCall('c3')] },
          { role: 'tool', tool_call_id: 'c3', content: '9' },
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    const contents = sentContents();
    const signatures = (index: number) =>
      (contents[index].parts as JsonObject[]).map((part) => part.thoughtSignature);
    assert.equal(contents[1].role, 'model');
    assert.deepEqual(signatures(1), [undefined, SKIP, undefined]);
    assert.equal(contents[3].role, 'model');
    assert.deepEqual(signatures(3), [SKIP]);
    // Without it, Gemini 3 (and the fake, which checks as it does) refuses the request.
    const unsigned = structuredClone(upstream.calls[0].body) as { contents: JsonObject[] };
    for (const content of unsigned.contents) {
      for (const part of content.parts as JsonObject[]) delete part.thoughtSignature;
    }
    const refused = await fetch(
      `${upstream.baseUrl}/models/gemini-3-flash-preview:generateContent`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIzaSecretKey123456' },
        body: JSON.stringify(unsigned),
      },
    );
    assert.equal(refused.status, 400);
    const error = ((await refused.json()) as { error: JsonObject }).error;
    assert.equal(error.status, 'INVALID_ARGUMENT');
    assert.match(error.message as string, /thought_signature/);
  });

  describe('the signature carried in the tool call id', () => {
    // The fake's signature as base64url of its bytes, after the separator.
    const IN_ID = Buffer.from(FAKE_GEMINI_SIGNATURE, 'base64').toString('base64url');
    const SIGNED_ID = new RegExp(`^call_[0-9a-f]{32}__gts__${IN_ID}$`);
    const ask = { role: 'user', content: 'Weather in Paris?' };

    it('hands the tool call an id that carries the signature, beside extra_content', async () => {
      const message = await answeredMessage(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
      const [call] = message.tool_calls as JsonObject[];
      assert.match(call.id as string, SIGNED_ID);
      assert.deepEqual(call.extra_content, {
        google: { thought_signature: FAKE_GEMINI_SIGNATURE },
      });
    });

    it("streams the id with the signature on the call's first delta entry", async () => {
      const request = gatewayChatRequest({ stream: true, tools: [WEATHER_TOOL] });
      const chunks = await collectStream((await invoke(request)) as StreamAnswer);
      const [call] = streamedToolCalls(chunks);
      assert.match(call.id, SIGNED_ID);
    });

    it('sends the signature back on the functionCall part when the history kept only the id', async () => {
      const message = await answeredMessage(
        gatewayChatRequest({ messages: [ask], tools: [WEATHER_TOOL] }),
      );
      const [call] = message.tool_calls as JsonObject[];
      const id = call.id as string;
      await answeredMessage(
        gatewayChatRequest({
          messages: [
            ask,
            { role: 'assistant', content: null, tool_calls: [weatherCall(id)] },
            { role: 'tool', tool_call_id: id, content: '{"celsius":18}' },
          ],
          tools: [WEATHER_TOOL],
        }),
      );
      // Gemini matches results to calls by name: no id is sent, only the signature.
      assert.deepEqual(sentContents()[1], {
        role: 'model',
        parts: [
          {
            functionCall: { name: 'get_weather', args: { city: 'Paris' } },
            thoughtSignature: FAKE_GEMINI_SIGNATURE,
          },
        ],
      });
    });

    it("leaves an id from Gemini that holds the separator as it is, and reads a foreign id's tail as no signature", async () => {
      upstream.next({
        kind: 'json',
        body: answerOf([
          {
            functionCall: { id: 'fc__gts__1', name: 'get_weather', args: { city: 'Paris' } },
            thoughtSignature: 'Zmly',
          },
        ]),
      });
      const message = await answeredMessage(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
      const [call] = message.tool_calls as JsonObject[];
      assert.equal(call.id, 'fc__gts__1');
      assert.deepEqual(call.extra_content, { google: { thought_signature: 'Zmly' } });

      // A client's own id is sent on as no signature (the bypass), beside one that is ours.
      const foreign = 'toolu_01__gts__not-a-signature!';
      const ours = `call_1__gts__${IN_ID}`;
      await answeredMessage(
        gatewayChatRequest({
          messages: [
            ask,
            {
              role: 'assistant',
              content: null,
              tool_calls: [weatherCall(foreign), weatherCall(ours)],
            },
            { role: 'tool', tool_call_id: foreign, content: '18' },
            { role: 'tool', tool_call_id: ours, content: '18' },
          ],
          tools: [WEATHER_TOOL],
        }),
      );
      const parts = sentContents()[1].parts as JsonObject[];
      assert.deepEqual(
        parts.map((part) => part.thoughtSignature),
        [SKIP, FAKE_GEMINI_SIGNATURE],
      );
    });

    it('keeps an over-long signature out of the id, in extra_content only', async () => {
      const long = Buffer.alloc(4000, 7).toString('base64');
      const short = Buffer.alloc(3000, 7).toString('base64');
      upstream.next({
        kind: 'json',
        body: answerOf([
          {
            functionCall: { name: 'get_weather', args: { city: 'Paris' } },
            thoughtSignature: long,
          },
        ]),
      });
      upstream.next({
        kind: 'json',
        body: answerOf([
          {
            functionCall: { name: 'get_weather', args: { city: 'Rome' } },
            thoughtSignature: short,
          },
        ]),
      });
      const [overLong] = (await answeredMessage(gatewayChatRequest({ tools: [WEATHER_TOOL] })))
        .tool_calls as JsonObject[];
      assert.match(overLong.id as string, /^call_[0-9a-f]{32}$/);
      assert.deepEqual(overLong.extra_content, { google: { thought_signature: long } });
      // Just under the cap still fits: 3,000 bytes are 4,000 characters of id.
      const [fits] = (await answeredMessage(gatewayChatRequest({ tools: [WEATHER_TOOL] })))
        .tool_calls as JsonObject[];
      assert.equal((fits.id as string).split('__gts__')[1].length, 4000);
    });
  });

  it('refuses a thought signature that is not a string before calling Gemini, naming the field', async () => {
    for (const signature of [42, { bytes: 'Zmly' }, true]) {
      await assert.rejects(
        invoke(
          gatewayChatRequest({
            messages: [
              { role: 'user', content: 'Weather?' },
              {
                role: 'assistant',
                content: null,
                tool_calls: [weatherCall('c1', { google: { thought_signature: signature } })],
              },
              { role: 'tool', tool_call_id: 'c1', content: '18' },
            ],
          }),
        ),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.httpStatus === 400 &&
          error.param === 'messages[1].tool_calls[0].extra_content.google.thought_signature',
      );
    }
    assert.equal(upstream.calls.length, 0);
  });
});
