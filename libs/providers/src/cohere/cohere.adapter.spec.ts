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
  streamedReasoning,
  streamedText,
  streamedToolCalls,
  upstreamTarget,
  isDataPlaneError,
  assertSaneUsage,
  RawSseUpstream,
} from '@aigw/testing/fake-provider';
import { defaultProviderAdapters } from '../default-adapters';
import {
  answeredToolFunction,
  LONG_TOOL_ALIAS,
  LONG_TOOL_NAME,
  longToolNameChat,
} from '../testing/long-tool-name-chat';
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
        seed: 7,
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
      seed: 7,
    });
  });

  it("sends an assistant turn's text beside its tool calls as the tool_plan, as Cohere requires", async () => {
    // Cohere answers 400 "text content is not allowed when tool_calls are provided ... use
    // 'tool_plan'" to the turn Claude and GPT write (a sentence, then the call).
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: 'Let me look that up.',
            tool_calls: [
              {
                id: 'get_weather_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'get_weather_1', content: '18C' },
          { role: 'assistant', content: 'It is 18C.' },
          { role: 'user', content: 'Thanks' },
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    const messages = upstream.calls[0].body.messages as JsonObject[];
    assert.deepEqual(messages[1], {
      role: 'assistant',
      tool_plan: 'Let me look that up.',
      tool_calls: [
        {
          id: 'get_weather_1',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        },
      ],
    });
    // A turn without tool calls keeps its text as content.
    assert.deepEqual(messages[3], { role: 'assistant', content: 'It is 18C.' });
  });

  it("sends a response_format as Cohere's json_object, with the schema when there is one", async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    await invoke(
      gatewayChatRequest({
        response_format: { type: 'json_schema', json_schema: { name: 'weather', schema } },
      }),
    );
    await invoke(gatewayChatRequest({ response_format: { type: 'json_object' } }));
    await invoke(gatewayChatRequest({ response_format: { type: 'text' } }));
    const [jsonSchema, jsonObject, text] = upstream.calls;
    assert.deepEqual(jsonSchema.body.response_format, { type: 'json_object', json_schema: schema });
    assert.deepEqual(jsonObject.body.response_format, { type: 'json_object' });
    assert.equal(text.body.response_format, undefined);
  });

  it("clamps penalties into Cohere's 0 to 1 and sends none that clamp to 0", async () => {
    await invoke(gatewayChatRequest({ presence_penalty: 0.4, frequency_penalty: 1.8 }));
    await invoke(gatewayChatRequest({ presence_penalty: 0, frequency_penalty: -1 }));
    await invoke(gatewayChatRequest({ presence_penalty: -2, frequency_penalty: 2 }));
    const [inRange, none, mixed] = upstream.calls;
    assert.equal(inRange.body.presence_penalty, 0.4);
    assert.equal(inRange.body.frequency_penalty, 1);
    assert.equal('presence_penalty' in none.body, false);
    assert.equal('frequency_penalty' in none.body, false);
    assert.equal('presence_penalty' in mixed.body, false);
    assert.equal(mixed.body.frequency_penalty, 1);
  });

  it("asks a reasoning model to think with a token budget for each effort, or the client's own", async () => {
    const asks: [JsonObject, number][] = [
      [{ reasoning_effort: 'minimal' }, 1024],
      [{ reasoning_effort: 'low' }, 1024],
      [{ reasoning_effort: 'medium' }, 2048],
      [{ reasoning_effort: 'high' }, 4096],
      [{ thinking: { type: 'enabled', budget_tokens: 3000 }, reasoning_effort: 'high' }, 3000],
    ];
    for (const [ask] of asks) await invoke(gatewayChatRequest(ask));
    asks.forEach(([ask, budget], index) =>
      assert.deepEqual(
        upstream.calls[index].body.thinking,
        { type: 'enabled', token_budget: budget },
        JSON.stringify(ask),
      ),
    );
  });

  it('turns thinking off when the client wants no reasoning, and sends nothing when it asked for none', async () => {
    await invoke(gatewayChatRequest({ reasoning_effort: 'none' }));
    await invoke(gatewayChatRequest({ thinking: { type: 'disabled' }, reasoning_effort: 'high' }));
    await invoke(gatewayChatRequest());
    const [none, disabled, unasked] = upstream.calls;
    assert.deepEqual(none.body.thinking, { type: 'disabled' });
    assert.deepEqual(disabled.body.thinking, { type: 'disabled' });
    assert.equal('thinking' in unasked.body, false);
  });

  it('sends none of the reasoning an assistant turn carries back', async () => {
    await invoke(
      gatewayChatRequest({
        reasoning_effort: 'low',
        messages: [
          { role: 'user', content: 'What is 2+2?' },
          {
            role: 'assistant',
            content: '4',
            reasoning_content: 'Two and two make four.',
            thinking_blocks: [{ type: 'thinking', thinking: 'Two and two...', signature: '' }],
          },
          { role: 'user', content: 'And 3+3?' },
        ],
      }),
    );
    const body = upstream.calls[0].body;
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: '4' },
      { role: 'user', content: 'And 3+3?' },
    ]);
    assert.deepEqual(body.thinking, { type: 'enabled', token_budget: 1024 });
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

  it("answers the tool plan as the content beside the tool calls, which goes back as the turn's tool_plan", async () => {
    const answer = await invoke(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    const message = (answer.body.choices as JsonObject[])[0].message as JsonObject;
    assert.equal(message.content, 'I will look up the weather.');
    // The client carries the turn back as it got it: Cohere reads its own plan again.
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          message,
          { role: 'tool', tool_call_id: 'get_weather_1', content: '18C' },
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    const turn = (upstream.calls[1].body.messages as JsonObject[])[1];
    assert.equal(turn.tool_plan, 'I will look up the weather.');
    assert.equal(turn.content, undefined);
  });

  it('streams the tool plan as content before the tool call', async () => {
    const request = gatewayChatRequest({ stream: true, tools: [WEATHER_TOOL] });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    assert.equal(streamedText(chunks), 'I will look it up.');
    const deltas = chunks.map((chunk) => (chunk.choices as JsonObject[])[0]?.delta as JsonObject);
    const planAt = deltas.findIndex((delta) => delta?.content === 'I will look it up.');
    const callAt = deltas.findIndex((delta) => delta?.tool_calls !== undefined);
    assert.ok(planAt >= 0 && planAt < callAt, 'the plan comes first, as Cohere wrote it');
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

  describe('a tool name past 64 characters (a Claude Code MCP tool)', () => {
    const LONG = LONG_TOOL_NAME;
    const ALIAS = LONG_TOOL_ALIAS;
    // Named in tool_choice (Cohere: REQUIRED with that tool alone) and an earlier turn's call;
    // the fake calls the first tool offered, so it answers with the alias.
    const request = (stream: boolean) => gatewayChatRequest(longToolNameChat(stream, WEATHER_TOOL));

    function assertAliasSent(): void {
      const sent = upstream.calls[0].body;
      assert.doesNotMatch(JSON.stringify(sent), new RegExp(LONG));
      // Letters, digits and underscores only: Cohere documents no dash in a tool name.
      assert.match(ALIAS, /^[A-Za-z_][A-Za-z0-9_]{63}$/);
      assert.deepEqual(
        (sent.tools as { function: JsonObject }[]).map((tool) => tool.function.name),
        [ALIAS],
      );
      assert.equal(sent.tool_choice, 'REQUIRED');
      const history = (sent.messages as JsonObject[]).find((turn) => turn.tool_calls);
      assert.equal((history?.tool_calls as { function: JsonObject }[])[0].function.name, ALIAS);
    }

    it("sends its alias (tools, tool_choice, history) and answers the client's name", async () => {
      const answer = await invoke(request(false));
      assert.deepEqual(answeredToolFunction(answer), { name: LONG, arguments: '{"city":"Paris"}' });
      assertAliasSent();
    });

    it("streams the client's name back", async () => {
      const chunks = await collectStream((await invoke(request(true))) as StreamAnswer);
      assert.deepEqual(
        streamedToolCalls(chunks).map((call) => [call.name, call.arguments]),
        [[LONG, '{"city": "Paris"}']],
      );
      assert.equal(streamedFinishReason(chunks), 'tool_calls');
      assertAliasSent();
    });
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

  it("sends a client's top_k (provider_extras) as Cohere's k, kept to its 500, plain and streamed", async () => {
    const topK = (k: number, body: JsonObject = {}) =>
      gatewayChatRequest({ ...body, provider_extras: { top_k: k } });
    await invoke(topK(40, { top_p: 0.8 }));
    const streamed = (await invoke(topK(40, { stream: true }))) as StreamAnswer;
    assert.equal(streamedText(await collectStream(streamed)), 'Hello from Cohere.');
    // The fake refuses a k above 500, as Cohere does: this one is answered.
    const high = await invoke(topK(1000));
    assert.equal(high.kind, 'json');
    await invoke(topK(0));
    assert.deepEqual(
      upstream.calls.map((call) => [call.body.stream, call.body.k, call.body.p]),
      [
        [false, 40, 0.8],
        [true, 40, undefined],
        [false, 500, undefined],
        [false, 0, undefined],
      ],
    );
  });

  it('refuses a top_k that is not a whole number before calling, naming it', async () => {
    for (const stream of [false, true]) {
      await assert.rejects(
        invoke(gatewayChatRequest({ stream, provider_extras: { top_k: 2.5 } })),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === 'top_k' &&
          /whole number/.test(error.message),
      );
    }
    assert.equal(upstream.calls.length, 0);
  });

  it('reports the settings v2 chat has no place for as left out, top_k and top_p not among them', async () => {
    const cohere = defaultProviderAdapters().find((each) => each.canHandle('cohere'));
    if (!cohere) return assert.fail('no Cohere adapter among the defaults');
    const body = {
      top_p: 0.5,
      logit_bias: { '50256': -100 },
      provider_extras: {
        top_k: 40,
        safety_settings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
      },
    };
    for (const stream of [false, true]) {
      const answer = await cohere.invoke({
        request: gatewayChatRequest({ ...body, stream }),
        target,
        signal: new AbortController().signal,
      });
      if (answer.kind === 'stream') await collectStream(answer);
      assert.deepEqual(answer.servedBy.droppedSettings, [
        { setting: 'logit_bias', reason: 'unsupported' },
        { setting: 'safety_settings', reason: 'unsupported' },
      ]);
    }
    assert.deepEqual(
      upstream.calls.map((call) => [call.body.k, call.body.p, call.body.logit_bias]),
      [
        [40, 0.5, undefined],
        [40, 0.5, undefined],
      ],
    );
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

const USAGE = {
  billed_units: { input_tokens: 12, output_tokens: 4 },
  tokens: { input_tokens: 70, output_tokens: 4 },
};

/** A v2 chat response with this message. */
function chatAnswer(message: unknown, extra: JsonObject = {}): JsonObject {
  return { id: 'chat-odd-1', finish_reason: 'COMPLETE', message, usage: USAGE, ...extra };
}

const MESSAGE_START = {
  type: 'message-start',
  id: 'chat-odd-1',
  delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [] } },
};
const textDelta = (text: string) => ({
  type: 'content-delta',
  index: 0,
  delta: { message: { content: { text } } },
});
const toolStart = (index: number, call: JsonObject) => ({
  type: 'tool-call-start',
  index,
  delta: { message: { tool_calls: call } },
});
const toolDelta = (index: number, args: string) => ({
  type: 'tool-call-delta',
  index,
  delta: { message: { tool_calls: { function: { arguments: args } } } },
});
const messageEnd = (finish_reason = 'COMPLETE') => ({
  type: 'message-end',
  delta: { finish_reason, usage: USAGE },
});

describe('CohereAdapter against a Cohere v2 API that answers oddly', () => {
  const upstream = new FakeCohereUpstream();
  const raw = new RawSseUpstream({ nameEventsByType: true });
  const adapter = new CohereAdapter();
  let target: UpstreamTarget;
  let rawTarget: UpstreamTarget;
  const invoke = (request: GatewayRequest, to = target) =>
    adapter.invoke({ request, target: to, signal: new AbortController().signal });

  before(async () => {
    await upstream.start();
    await raw.start();
    const key = { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'co-secret' };
    target = upstreamTarget(
      { provider: 'cohere', model: 'command-a-03-2025', baseUrl: upstream.baseUrl },
      key,
    );
    rawTarget = upstreamTarget(
      { provider: 'cohere', model: 'command-a-03-2025', baseUrl: raw.baseUrl },
      key,
    );
  });
  after(async () => {
    await upstream.stop();
    await raw.stop();
  });
  beforeEach(() => upstream.reset());

  async function answerTo(body: JsonObject) {
    upstream.next({ kind: 'json', body });
    const answer = await invoke(gatewayChatRequest());
    if (answer.kind !== 'json') return assert.fail('expected json');
    return { choice: (answer.body.choices as JsonObject[])[0], usage: answer.usage };
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
  async function streamOf(events: unknown[]) {
    raw.next(events);
    const request = gatewayChatRequest({ stream: true, stream_options: { include_usage: true } });
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

  it('skips content parts that are null or of types it does not relay', async () => {
    const { choice } = await answerTo(
      chatAnswer({
        role: 'assistant',
        content: [
          null,
          'stray',
          { type: 'a-kind-yet-unknown', value: 1 },
          { type: 'text', text: 'Hi' },
        ],
      }),
    );
    assert.deepEqual(choice.message, { role: 'assistant', content: 'Hi' });
  });

  it('answers thinking items as reasoning_content, apart from the text', async () => {
    const { choice } = await answerTo(
      chatAnswer({
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Alice has 2 sisters, ' },
          { type: 'thinking', thinking: 'so a brother has 3.' },
          { type: 'text', text: 'Three.' },
          { type: 'thinking', thinking: 42 },
        ],
      }),
    );
    // Text alone: Cohere signs nothing that could come back as thinking_blocks.
    assert.deepEqual(choice.message, {
      role: 'assistant',
      content: 'Three.',
      reasoning_content: 'Alice has 2 sisters, so a brother has 3.',
    });
  });

  // Cohere's citations (message.citations; citation-start events streamed), as its RAG and
  // tool-use citation pages show them: a span of the answer's text and its sources.
  const PENGUINS = 'The tallest penguins are the Emperor penguins. They live in Antarctica.';
  const CITATIONS = [
    {
      start: 29,
      end: 46,
      text: 'Emperor penguins.',
      type: 'TEXT_CONTENT',
      content_index: 1,
      sources: [
        {
          type: 'document',
          id: 'doc:0',
          document: { id: 'doc:0', title: 'Tall penguins', url: 'https://example.org/tall' },
        },
        // The same page twice in one span makes one annotation.
        { type: 'document', id: 'doc:2', document: { url: 'https://example.org/tall' } },
        // No URL, nothing a url_citation can hold.
        { type: 'document', id: 'doc:1', document: { id: 'doc:1', snippet: 'No link.' } },
      ],
    },
    {
      start: 60,
      end: 71,
      text: 'Antarctica.',
      sources: [
        // A search tool's output, with a link and no title.
        { type: 'tool', id: 'search_1:0', tool_output: { url: 'https://example.org/ice' } },
        { type: 'tool', id: 'search_1:1', tool_output: { url: 'javascript:alert(1)' } },
      ],
    },
    // A citation in the reasoning, whose spans are not the answer's text.
    {
      start: 0,
      end: 5,
      text: 'Think',
      type: 'THINKING_CONTENT',
      sources: [{ type: 'document', id: 'doc:3', document: { url: 'https://example.org/x' } }],
    },
  ];
  const URL_CITATIONS = [
    {
      type: 'url_citation',
      url_citation: {
        start_index: 29,
        end_index: 46,
        url: 'https://example.org/tall',
        title: 'Tall penguins',
      },
    },
    {
      type: 'url_citation',
      url_citation: {
        start_index: 60,
        end_index: 71,
        url: 'https://example.org/ice',
        title: 'https://example.org/ice',
      },
    },
  ];

  it("answers Cohere's citations of pages with a URL as OpenAI's url_citation annotations", async () => {
    const { choice } = await answerTo(
      chatAnswer({
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Think about penguins.' },
          { type: 'text', text: PENGUINS },
        ],
        citations: CITATIONS,
      }),
    );
    assert.deepEqual(choice.message, {
      role: 'assistant',
      content: PENGUINS,
      reasoning_content: 'Think about penguins.',
      annotations: URL_CITATIONS,
    });
    // Citations without a page to point at add nothing.
    const { choice: plain } = await answerTo(
      chatAnswer({
        role: 'assistant',
        content: [{ type: 'text', text: PENGUINS }],
        citations: [CITATIONS[0].sources[2], null, { start: 1, end: 0, sources: [] }],
      }),
    );
    assert.deepEqual(plain.message, { role: 'assistant', content: PENGUINS });
  });

  it('counts a citation of a later text item from where that item starts in the answer', async () => {
    const { choice } = await answerTo(
      chatAnswer({
        role: 'assistant',
        content: [
          { type: 'text', text: 'Penguins: ' },
          { type: 'text', text: 'they live in Antarctica.' },
        ],
        citations: [{ ...CITATIONS[1], start: 13, end: 24, content_index: 1 }],
      }),
    );
    const annotations = (choice.message as JsonObject).annotations as JsonObject[];
    assert.deepEqual(annotations[0].url_citation, {
      start_index: 23,
      end_index: 34,
      url: 'https://example.org/ice',
      title: 'https://example.org/ice',
    });
    assert.equal(String((choice.message as JsonObject).content).slice(23, 34), 'Antarctica.');
  });

  it('counts citations of the answer from after a tool plan before it, plain and streamed', async () => {
    const plan = 'Let me see. ';
    const { choice } = await answerTo(
      chatAnswer({
        role: 'assistant',
        tool_plan: plan,
        content: [{ type: 'text', text: PENGUINS }],
        citations: [CITATIONS[1]],
      }),
    );
    const message = choice.message as JsonObject;
    assert.equal(message.content, plan + PENGUINS);
    const cited = (message.annotations as JsonObject[])[0].url_citation as JsonObject;
    assert.equal(cited.start_index, CITATIONS[1].start + plan.length);
    const { chunks } = await streamOf([
      MESSAGE_START,
      { type: 'tool-plan-delta', delta: { message: { tool_plan: plan } } },
      { type: 'content-start', index: 0, delta: { message: { content: { type: 'text' } } } },
      { ...textDelta(PENGUINS), index: 0 },
      { type: 'citation-start', index: 0, delta: { message: { citations: CITATIONS[1] } } },
      messageEnd(),
    ]);
    assert.equal(streamedText(chunks), plan + PENGUINS);
    const streamed = chunks
      .flatMap((chunk) => (chunk.choices as JsonObject[]) ?? [])
      .flatMap((c) => ((c.delta as JsonObject).annotations as JsonObject[] | undefined) ?? []);
    assert.deepEqual(streamed, message.annotations);
  });

  it("streams the citations' url_citation annotations together in one delta before the finish", async () => {
    const citationStart = (index: number, citation: unknown) => ({
      type: 'citation-start',
      index,
      delta: { message: { citations: citation } },
    });
    const { chunks, error } = await streamOf([
      MESSAGE_START,
      {
        type: 'content-start',
        index: 0,
        delta: { message: { content: { type: 'thinking', thinking: '' } } },
      },
      { type: 'content-delta', index: 0, delta: { message: { content: { thinking: 'Hm.' } } } },
      { type: 'content-end', index: 0 },
      {
        type: 'content-start',
        index: 1,
        delta: { message: { content: { type: 'text', text: '' } } },
      },
      { ...textDelta(PENGUINS.slice(0, 30)), index: 1 },
      { ...textDelta(PENGUINS.slice(30)), index: 1 },
      citationStart(0, CITATIONS[0]),
      { type: 'citation-end', index: 0 },
      citationStart(1, CITATIONS[1]),
      { type: 'citation-end', index: 1 },
      citationStart(2, CITATIONS[2]),
      { type: 'citation-end', index: 2 },
      { type: 'content-end', index: 1 },
      messageEnd(),
    ]);
    assert.equal(error, undefined);
    assert.equal(streamedText(chunks), PENGUINS);
    const choices = chunks.map((chunk) => (chunk.choices as JsonObject[])[0]).filter(Boolean);
    const cited = choices.filter((choice) => (choice.delta as JsonObject).annotations);
    assert.equal(cited.length, 1, 'one delta holds them all');
    assert.deepEqual((cited[0].delta as JsonObject).annotations, URL_CITATIONS);
    assert.equal(choices.at(-2), cited[0], 'just before the finish');
    assert.equal(streamedFinishReason(chunks), 'stop');
  });

  it('reads message.content given as a string, and reports other non-lists as a bad response', async () => {
    const { choice } = await answerTo(chatAnswer({ role: 'assistant', content: 'Hello' }));
    assert.deepEqual(choice.message, { role: 'assistant', content: 'Hello' });
    for (const content of [42, { type: 'text', text: 'Hi' }]) {
      await rejectsAsBadResponse(chatAnswer({ role: 'assistant', content }), /content/);
    }
  });

  it('reports a message that is not an object as a bad response', async () => {
    for (const message of [[], 'Hello', null]) await rejectsAsBadResponse(chatAnswer(message));
  });

  it('reports tool calls that are not objects, nameless or with arguments that are not a JSON object as a bad response', async () => {
    const call = (fn: unknown) => ({ id: 'call_1', type: 'function', function: fn });
    for (const calls of [
      [null],
      [call({ arguments: '{}' })],
      [call(null)],
      [call({ name: 'get_weather', arguments: '{city: Paris' })],
      [call({ name: 'get_weather', arguments: '["Paris"]' })],
      [call({ name: 'get_weather', arguments: 42 })],
    ]) {
      await rejectsAsBadResponse(
        chatAnswer({ role: 'assistant', tool_calls: calls }, { finish_reason: 'TOOL_CALL' }),
        /tool call/,
      );
    }
  });

  it('answers a tool call the max_tokens cut short as it came, finish_reason length, as OpenAI does', async () => {
    const { choice, usage } = await answerTo(
      chatAnswer(
        {
          role: 'assistant',
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city": "Par' },
            },
          ],
        },
        { finish_reason: 'MAX_TOKENS' },
      ),
    );
    assert.equal(choice.finish_reason, 'length');
    const [call] = (choice.message as JsonObject).tool_calls as JsonObject[];
    assert.deepEqual(call.function, { name: 'get_weather', arguments: '{"city": "Par' });
    assert.equal(usage.source, 'reported');
  });

  it('names a tool call that has no id, and passes object or missing arguments on as JSON', async () => {
    const { choice } = await answerTo(
      chatAnswer(
        {
          role: 'assistant',
          tool_calls: [
            { type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } },
            { id: 'call_2', type: 'function', function: { name: 'get_time' } },
          ],
        },
        { finish_reason: 'TOOL_CALL' },
      ),
    );
    const calls = (choice.message as JsonObject).tool_calls as JsonObject[];
    assert.equal(calls.length, 2);
    assert.match(calls[0].id as string, /^call_/);
    assert.deepEqual(calls[0].function, { name: 'get_weather', arguments: '{"city":"Paris"}' });
    assert.deepEqual(calls[1].function, { name: 'get_time', arguments: '{}' });
  });

  it('reports finish_reason ERROR or TIMEOUT as a bad response', async () => {
    for (const finish_reason of ['ERROR', 'TIMEOUT']) {
      await rejectsAsBadResponse(
        chatAnswer(
          { role: 'assistant', content: [{ type: 'text', text: 'Half an ans' }] },
          { finish_reason },
        ),
        new RegExp(finish_reason),
      );
    }
  });

  it('sets finish_reason from the tool calls the answer carries', async () => {
    const withCall = await answerTo(
      chatAnswer({
        role: 'assistant',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
        ],
      }),
    );
    assert.equal(withCall.choice.finish_reason, 'tool_calls');
    const without = await answerTo(
      chatAnswer(
        { role: 'assistant', content: [{ type: 'text', text: 'Hi' }] },
        { finish_reason: 'TOOL_CALL' },
      ),
    );
    assert.equal(without.choice.finish_reason, 'stop');
  });

  it('falls back to tokens when billed_units is unusable, and keeps counts sane', async () => {
    const message = { role: 'assistant', content: [{ type: 'text', text: 'Hi' }] };
    const fallback = await answerTo(
      chatAnswer(message, {
        usage: {
          billed_units: 'lots',
          tokens: { input_tokens: 70, output_tokens: 4 },
          cached_tokens: 100,
        },
      }),
    );
    assert.deepEqual(fallback.usage, {
      inputTokens: 70,
      outputTokens: 4,
      cachedInputTokens: 70,
      source: 'reported',
    });
    const odd = await answerTo(
      chatAnswer(message, {
        usage: { billed_units: { input_tokens: 1e300, output_tokens: -4.5 }, cached_tokens: 2.5 },
      }),
    );
    assertSaneUsage(odd.usage);
    await rejectsAsBadResponse(chatAnswer(message, { usage: { billed_units: {}, tokens: [] } }));
  });

  it('ends a stream with an event that is not a JSON object with a StreamInterrupted naming it', async () => {
    for (const event of ['null', '42', '[1]']) {
      const { error } = await streamOf([MESSAGE_START, event, messageEnd()]);
      assert.ok(
        isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /not a JSON object/)(error),
        String(error),
      );
    }
  });

  it('answers an error before message-start with the status its code or type means, one after as a cut stream', async () => {
    const before: [unknown, DataPlaneErrorCode, number][] = [
      // The OpenAI-style object a compatibility layer or proxy sends on a 200 stream.
      [
        { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'slow' } },
        DataPlaneErrorCode.UpstreamRateLimited,
        429,
      ],
      [{ error: { type: 'server_error', code: null } }, DataPlaneErrorCode.UpstreamError, 500],
      // An `event: error` (named by its type here) with the HTTP status as its code.
      [{ type: 'error', error: { code: 503 } }, DataPlaneErrorCode.UpstreamError, 503],
      [
        { type: 'error', error: { type: 'invalid_request_error' } },
        DataPlaneErrorCode.UpstreamRejected,
        400,
      ],
      [{ type: 'error', message: 'no detail' }, DataPlaneErrorCode.UpstreamError, 500],
    ];
    for (const [event, code, status] of before) {
      const { chunks, error } = await streamOf([event, MESSAGE_START, messageEnd()]);
      assert.equal(chunks.length, 0);
      assert.ok(
        error instanceof DataPlaneError &&
          error.code === code &&
          error.upstreamStatus === status &&
          /before its answer started$/.test(error.message),
        `${JSON.stringify(event)}: ${String(error)}`,
      );
    }
    const after = await streamOf([
      MESSAGE_START,
      textDelta('Half'),
      { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } },
    ]);
    assert.ok(
      isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /mid-stream/)(after.error),
      String(after.error),
    );
    assert.equal(streamedText(after.chunks), 'Half');
  });

  it('ends a stream whose tool-call-start has no function name with a StreamInterrupted', async () => {
    const { chunks, error } = await streamOf([
      MESSAGE_START,
      toolStart(0, { id: 'call_1', type: 'function' }),
      messageEnd('TOOL_CALL'),
    ]);
    assert.ok(
      isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /tool call/)(error),
      String(error),
    );
    assert.deepEqual(streamedToolCalls(chunks), []);
  });

  it('names a streamed tool call that has no id', async () => {
    const { chunks, error } = await streamOf([
      MESSAGE_START,
      toolStart(0, { type: 'function', function: { name: 'get_weather', arguments: '' } }),
      toolDelta(0, '{"city": "Paris"}'),
      messageEnd('TOOL_CALL'),
    ]);
    assert.equal(error, undefined);
    const [call] = streamedToolCalls(chunks);
    assert.match(call.id, /^call_/);
    assert.equal(call.name, 'get_weather');
  });

  it('gives a streamed tool call that never got arguments empty JSON ones before the finish', async () => {
    const { chunks, error } = await streamOf([
      MESSAGE_START,
      toolStart(0, { id: 'call_1', type: 'function', function: { name: 'get_time' } }),
      toolStart(1, {
        id: 'call_2',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      }),
      toolDelta(1, '{"city": "Paris"}'),
      messageEnd('TOOL_CALL'),
    ]);
    assert.equal(error, undefined);
    assert.deepEqual(streamedToolCalls(chunks), [
      { id: 'call_1', name: 'get_time', arguments: '{}' },
      { id: 'call_2', name: 'get_weather', arguments: '{"city": "Paris"}' },
    ]);
  });

  it('ends a stream with a tool-call-delta for a call it never started with a StreamInterrupted', async () => {
    const { error } = await streamOf([
      MESSAGE_START,
      toolDelta(3, '{"city": "Paris"}'),
      messageEnd('TOOL_CALL'),
    ]);
    assert.ok(
      isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /tool call/)(error),
      String(error),
    );
  });

  it('ends a stream whose tool call arguments are not a JSON object with a StreamInterrupted', async () => {
    const { error } = await streamOf([
      MESSAGE_START,
      toolStart(0, {
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      }),
      toolDelta(0, '{"city": Par'),
      messageEnd('TOOL_CALL'),
    ]);
    assert.ok(
      isDataPlaneError(DataPlaneErrorCode.StreamInterrupted, /arguments/)(error),
      String(error),
    );
  });

  it('streams a tool call the max_tokens cut short as it came, finish_reason length, as OpenAI does', async () => {
    // The client's own limit ended the answer: not the backend's fault, and billed whole.
    const { chunks, error, usage } = await streamOf([
      MESSAGE_START,
      toolStart(0, {
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      }),
      toolDelta(0, '{"city": "Par'),
      messageEnd('MAX_TOKENS'),
    ]);
    assert.equal(error, undefined);
    assert.deepEqual(streamedToolCalls(chunks), [
      { id: 'call_1', name: 'get_weather', arguments: '{"city": "Par' },
    ]);
    assert.equal(streamedFinishReason(chunks), 'length');
    assert.deepEqual(usage, {
      inputTokens: 12,
      outputTokens: 4,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it('opens with one role chunk and relays nothing (nor fails) after message-end', async () => {
    const { chunks, error, usage } = await streamOf([
      textDelta('Hi'),
      MESSAGE_START,
      textDelta(' there'),
      messageEnd(),
      textDelta(' again'),
      'not json',
      {
        type: 'message-end',
        delta: {
          finish_reason: 'MAX_TOKENS',
          usage: { billed_units: { input_tokens: 1, output_tokens: 1 } },
        },
      },
    ]);
    assert.equal(error, undefined);
    assert.equal(streamedText(chunks), 'Hi there');
    const deltas = chunks.map((chunk) => (chunk.choices as JsonObject[])[0]).filter(Boolean);
    assert.equal(deltas.filter((choice) => (choice.delta as JsonObject).role).length, 1);
    assert.equal((deltas[0].delta as JsonObject).role, 'assistant');
    assert.equal(deltas.filter((choice) => choice.finish_reason).length, 1);
    assert.equal(streamedFinishReason(chunks), 'stop');
    assert.equal(usage.inputTokens, 12);
  });

  it('streams finish_reason tool_calls when a tool call went by, whatever message-end says', async () => {
    const { chunks } = await streamOf([
      MESSAGE_START,
      toolStart(0, {
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{}' },
      }),
      messageEnd('COMPLETE'),
    ]);
    assert.equal(streamedFinishReason(chunks), 'tool_calls');
  });

  it('streams thinking content-deltas as reasoning_content fragments, never as content', async () => {
    const thinkingDelta = (thinking: string) => ({
      type: 'content-delta',
      index: 0,
      delta: { message: { content: { thinking } } },
    });
    const { chunks, error } = await streamOf([
      MESSAGE_START,
      {
        type: 'content-start',
        index: 0,
        delta: { message: { content: { type: 'thinking', thinking: '' } } },
      },
      thinkingDelta('Alice has 2 sisters, '),
      thinkingDelta('so a brother has 3.'),
      { type: 'content-end', index: 0 },
      {
        type: 'content-start',
        index: 1,
        delta: { message: { content: { type: 'text', text: '' } } },
      },
      { ...textDelta('Three.'), index: 1 },
      { type: 'content-end', index: 1 },
      messageEnd(),
    ]);
    assert.equal(error, undefined);
    assert.equal(streamedReasoning(chunks), 'Alice has 2 sisters, so a brother has 3.');
    assert.equal(streamedText(chunks), 'Three.');
    assert.doesNotMatch(JSON.stringify(chunks), /thinking_blocks/);
  });

  it('ignores events it does not know and deltas of the wrong shape', async () => {
    const { chunks, error } = await streamOf([
      MESSAGE_START,
      { type: 'citation-start', index: 0, delta: { message: { citations: {} } } },
      { type: 'content-delta', delta: null },
      { type: 'content-delta', delta: { message: { content: 'raw' } } },
      { type: 'debug', prompt: 'x' },
      { no: 'type' },
      textDelta('Hi'),
      messageEnd(),
    ]);
    assert.equal(error, undefined);
    assert.equal(streamedText(chunks), 'Hi');
  });

  it('keeps top_p within the 0.01 to 0.99 Cohere takes (the fake refuses any p outside)', async () => {
    await invoke(gatewayChatRequest({ top_p: 1 }));
    await invoke(gatewayChatRequest({ top_p: 0 }));
    await invoke(gatewayChatRequest({ top_p: 0.5 }));
    assert.deepEqual(
      upstream.calls.map((call) => call.body.p),
      [0.99, 0.01, 0.5],
    );
  });

  const embeddings = (body: JsonObject) =>
    gatewayChatRequest({ input: ['a', 'b'], ...body }, { operation: 'embeddings' });
  const embedAnswer = (float: unknown, extra: JsonObject = {}) => ({
    id: 'emb-odd',
    embeddings: { float },
    texts: ['a', 'b'],
    meta: { api_version: { version: '2' }, billed_units: { input_tokens: 3 } },
    response_type: 'embeddings_by_type',
    ...extra,
  });

  it('reports embeddings that are null, empty, not numbers or of uneven length as a bad response', async () => {
    for (const float of [
      [null, [1, 2]],
      [[1, 2], []],
      [
        [1, 2],
        [1, 'two'],
      ],
      [
        [1, 2],
        [1, null],
      ],
      [
        [1, 2],
        [1, 2, 3],
      ],
      'vectors',
    ]) {
      upstream.next({ kind: 'json', body: embedAnswer(float) });
      await assert.rejects(
        invoke(embeddings({})),
        isDataPlaneError(DataPlaneErrorCode.UpstreamBadResponse),
        JSON.stringify(float),
      );
    }
  });

  it('reports embeddings of another size than the dimensions asked for as a bad response', async () => {
    // The fake answers two values whatever output_dimension says.
    await assert.rejects(
      invoke(embeddings({ dimensions: 256 })),
      isDataPlaneError(DataPlaneErrorCode.UpstreamBadResponse),
    );
    assert.equal(upstream.calls[0].body.output_dimension, 256);
  });

  it("answers encoding_format base64 as OpenAI's little-endian float32s of Cohere's floats, whatever else Cohere sends", async () => {
    /** A base64 vector read as OpenAI encodes it. */
    const decoded = (base64: string) => {
      const bytes = Buffer.from(base64, 'base64');
      return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    };
    const float = [
      [0.5, -1.25, 3],
      [0.1, 0.2, 0.3],
    ];
    // Beside the floats: Cohere's own base64 (big-endian here) and int8, which must not
    // reach a client that decodes OpenAI's layout.
    const bigEndian = float.map((vector) => {
      const bytes = Buffer.alloc(vector.length * 4);
      vector.forEach((value, i) => bytes.writeFloatBE(value, i * 4));
      return bytes.toString('base64');
    });
    upstream.next({
      kind: 'json',
      body: embedAnswer(float, {
        embeddings: {
          float,
          base64: bigEndian,
          int8: [
            [1, 2, 3],
            [4, 5, 6],
          ],
        },
      }),
    });
    const answer = await invoke(embeddings({ encoding_format: 'base64', dimensions: 3 }));
    assert.deepEqual(upstream.calls[0].body.embedding_types, ['float']);
    assert.equal(upstream.calls[0].body.output_dimension, 3);
    if (answer.kind !== 'json') return assert.fail('expected json');
    const vectors = (answer.body.data as JsonObject[]).map((item) => item.embedding);
    assert.ok(
      vectors.every((vector) => typeof vector === 'string'),
      JSON.stringify(vectors),
    );
    assert.deepEqual(
      vectors.map((vector) => decoded(vector)),
      float.map((vector) => vector.map(Math.fround)),
    );
    // Floats asked for, floats answered.
    upstream.next({ kind: 'json', body: embedAnswer(float) });
    const floats = await invoke(embeddings({ encoding_format: 'float' }));
    if (floats.kind !== 'json') return assert.fail('expected json');
    assert.deepEqual(
      (floats.body.data as JsonObject[]).map((item) => item.embedding),
      float,
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

  it('refuses dimensions on Cohere Embed v3 and older models, which take none, before calling', async () => {
    // Cohere's reference: output_dimension is "only available for embed-v4 and newer models".
    const on = (model: string) => ({ ...target, model });
    for (const [model, dimensions] of [
      ['embed-english-v3.0', 1024],
      ['embed-multilingual-light-v3.0', 384],
      ['embed-english-v2.0', 4096],
    ] as const) {
      await assert.rejects(
        invoke(embeddings({ dimensions }), on(model)),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === 'dimensions' &&
          /v3 and older models take no dimensions/.test(error.message),
        model,
      );
    }
    assert.equal(upstream.calls.length, 0);
    // embed-v4 gets its size asked of Cohere; v3 without dimensions is called as before.
    upstream.next({ kind: 'json', body: embedAnswer([Array(512).fill(0.5), Array(512).fill(1)]) });
    await invoke(embeddings({ dimensions: 512 }), on('embed-v4.0'));
    assert.equal(upstream.calls[0].body.output_dimension, 512);
    await invoke(embeddings({}), on('embed-english-v3.0'));
    assert.equal('output_dimension' in upstream.calls[1].body, false);
  });

  it('reads embeddings Cohere answers as a bare list of floats (embeddings_floats), in either encoding', async () => {
    const float = [
      [0.5, -1.25],
      [3, 0.1],
    ];
    const bare = { ...embedAnswer(float), embeddings: float, response_type: 'embeddings_floats' };
    upstream.next({ kind: 'json', body: bare });
    const floats = await invoke(embeddings({}));
    if (floats.kind !== 'json') return assert.fail('expected json');
    assert.deepEqual(
      (floats.body.data as JsonObject[]).map((item) => item.embedding),
      float,
    );
    upstream.next({ kind: 'json', body: bare });
    const base64 = await invoke(embeddings({ encoding_format: 'base64' }));
    if (base64.kind !== 'json') return assert.fail('expected json');
    const first = Buffer.from((base64.body.data as JsonObject[])[0].embedding as string, 'base64');
    assert.deepEqual([first.readFloatLE(0), first.readFloatLE(4)], [0.5, -1.25]);
  });

  it('estimates the usage of embeddings whose answer has no billed units', async () => {
    for (const extra of [
      { meta: undefined },
      { meta: { api_version: { version: '2' } } },
      { meta: 'x' },
    ]) {
      upstream.next({
        kind: 'json',
        body: embedAnswer(
          [
            [1, 2],
            [3, 4],
          ],
          extra,
        ),
      });
      const answer = await invoke(embeddings({}));
      if (answer.kind !== 'json') return assert.fail('expected json');
      assert.equal(answer.usage.source, 'estimated');
      assert.equal(answer.usage.inputTokens, 2);
    }
  });
});
