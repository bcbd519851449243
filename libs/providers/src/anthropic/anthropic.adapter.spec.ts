import type { ServerResponse } from 'node:http';
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
  type AnswerMode,
  collectStream,
  FakeAnthropicUpstream,
  type ProviderFakeCall,
  cacheMarkedChatRequest,
  gatewayChatRequest,
  itMapsUpstreamFailures,
  PREFILL_REFUSAL,
  prefillChatRequest,
  assertStreamedTextAnswer,
  STRICT_WEATHER_FORMAT,
  WEATHER_FORMAT,
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

/** A question and the assistant's get_weather call (call_1), before its tool message. */
const WEATHER_CALL_TURNS = [
  { role: 'user', content: 'Weather?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
    ],
  },
];

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
      // Sonnet 4.5 takes temperature or top_p, not both: the temperature goes.
      temperature: 0.3,
      metadata: { user_id: 'alice' },
    });
  });

  describe('sending only the sampling settings the model takes', () => {
    /** What the answers reported left out, one "setting reason" each. */
    const dropped: string[] = [];
    beforeEach(() => (dropped.length = 0));
    const sampling = { temperature: 0.3, top_p: 0.9, provider_extras: { top_k: 40 } };
    const bodyFor = async (model: string, fields: JsonObject = sampling) => {
      const answer = await adapter.invoke({
        request: gatewayChatRequest(fields),
        target: { ...target, model },
        signal: new AbortController().signal,
      });
      if (answer.kind === 'stream') await collectStream(answer);
      for (const { setting, reason } of answer.servedBy.droppedSettings ?? []) {
        dropped.push(`${setting} ${reason}`);
      }
      const body = upstream.calls.at(-1)!.body;
      return { temperature: body.temperature, top_p: body.top_p, top_k: body.top_k };
    };

    it("sends service_tier in Anthropic's terms, and reports one it has no tier for", async () => {
      await bodyFor('claude-sonnet-4-5', { service_tier: 'default' });
      assert.equal(upstream.calls.at(-1)!.body.service_tier, 'standard_only');
      await bodyFor('claude-sonnet-4-5', { service_tier: 'auto' });
      assert.equal(upstream.calls.at(-1)!.body.service_tier, 'auto');
      assert.deepEqual(dropped, []);
      await bodyFor('claude-sonnet-4-5', { service_tier: 'flex' });
      assert.equal(upstream.calls.at(-1)!.body.service_tier, undefined);
      assert.deepEqual(dropped, ['service_tier unsupported']);
    });

    it('sends Opus 4.7 and later none of temperature, top_p and top_k, and reports each', async () => {
      for (const model of ['claude-opus-4-7', 'claude-opus-4-7-20260416', 'claude-sonnet-5']) {
        const body = await bodyFor(model);
        assert.deepEqual(body, { temperature: undefined, top_p: undefined, top_k: undefined });
      }
      assert.equal(dropped.length, 9);
      assert.deepEqual(dropped.slice(0, 3), ['temperature model', 'top_p model', 'top_k model']);
      // A stream's answer reports them as a JSON answer's does.
      const streamed = await bodyFor('claude-opus-4-7', { ...sampling, stream: true });
      assert.deepEqual(streamed, { temperature: undefined, top_p: undefined, top_k: undefined });
      assert.deepEqual(dropped.slice(9), ['temperature model', 'top_p model', 'top_k model']);
    });

    it('keeps the temperature and leaves out top_p beside it on Claude 4.5 and 4.6', async () => {
      for (const model of ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5', 'claude-opus-4-6']) {
        assert.deepEqual(await bodyFor(model), { temperature: 0.3, top_p: undefined, top_k: 40 });
        assert.deepEqual(await bodyFor(model, { top_p: 0.9 }), {
          temperature: undefined,
          top_p: 0.9,
          top_k: undefined,
        });
      }
      assert.deepEqual(dropped, Array(3).fill('top_p model'));
    });

    it('reports what thinking refuses as thinking', async () => {
      const thinking = { ...sampling, thinking: { type: 'enabled', budget_tokens: 2048 } };
      await bodyFor('claude-3-7-sonnet-20250219', thinking);
      assert.deepEqual(dropped, ['temperature thinking', 'top_k thinking', 'top_p thinking']);
    });

    it('sends older models everything, as asked, and reports nothing', async () => {
      for (const model of ['claude-sonnet-4-20250514', 'claude-3-7-sonnet-20250219']) {
        assert.deepEqual(await bodyFor(model), { temperature: 0.3, top_p: 0.9, top_k: 40 });
      }
      assert.deepEqual(dropped, []);
    });
  });

  it("sends a trailing assistant message as written, and relays the prefill 400 as the client's", async () => {
    // Claude 4.6 and later refuse an assistant prefill; the gateway lets Anthropic judge it
    // and the client get Anthropic's words, a 400 that neither fails over nor cools.
    upstream.next({
      kind: 'status',
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message: PREFILL_REFUSAL } },
    });
    const prefill = prefillChatRequest();
    await assert.rejects(
      adapter.invoke({
        request: prefill,
        target: { ...target, model: 'claude-opus-4-7' },
        signal: new AbortController().signal,
      }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.UpstreamRejected &&
        error.httpStatus === 400 &&
        error.trigger === undefined &&
        error.message.includes(PREFILL_REFUSAL),
    );
    assert.deepEqual((upstream.calls[0].body.messages as JsonObject[]).at(-1), {
      role: 'assistant',
      content: [{ type: 'text', text: '{"a":' }],
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

  describe('asking for extended thinking', () => {
    const bodyOf = async (fields: JsonObject) => {
      const answer = await invoke(gatewayChatRequest(fields));
      if (answer.kind === 'stream') await collectStream(answer);
      return upstream.calls.at(-1)!.body;
    };
    const thinkingOf = (body: JsonObject) => ({
      thinking: body.thinking,
      max_tokens: body.max_tokens,
    });
    const enabled = (budget_tokens: number, max_tokens: number) => ({
      thinking: { type: 'enabled', budget_tokens },
      max_tokens,
    });

    it('maps each reasoning_effort to its budget, within the reasoning default admission held', async () => {
      // No held default on the request (an older peer): 4096, which a request asking for
      // reasoning raises to 16384 (REASONING_DEFAULT_MAX_OUTPUT_TOKENS), as admission holds
      // it. Each effort's budget thinks within it; max's is fitted one below it.
      const cases = [
        ['minimal', 1024],
        ['low', 1024],
        ['medium', 2048],
        ['high', 4096],
        ['max', 16383],
      ] as const;
      for (const [reasoning_effort, budget] of cases) {
        const body = await bodyOf({ reasoning_effort });
        assert.deepEqual(thinkingOf(body), enabled(budget, 16384), reasoning_effort);
      }
      const streamed = await bodyOf({ reasoning_effort: 'medium', stream: true });
      assert.deepEqual(thinkingOf(streamed), enabled(2048, 16384));
      // Nothing asked, nothing sent: the model thinks as it does by default.
      assert.deepEqual(thinkingOf(await bodyOf({})), { thinking: undefined, max_tokens: 4096 });
    });

    it("sends the client's own budget as given, and nothing when told off", async () => {
      // Without max_tokens: the budget, and the reasoning default (16384) after it.
      const explicit = { type: 'enabled', budget_tokens: 3000 };
      assert.deepEqual(thinkingOf(await bodyOf({ thinking: explicit })), enabled(3000, 19384));
      // Its display too, when it set one.
      const hidden = { ...explicit, display: 'omitted' };
      assert.deepEqual(thinkingOf(await bodyOf({ thinking: hidden })), {
        thinking: hidden,
        max_tokens: 19384,
      });
      // Too small a max_tokens for the client's own budget: Anthropic's 400 says so.
      assert.deepEqual(
        thinkingOf(await bodyOf({ thinking: explicit, max_tokens: 2000 })),
        enabled(3000, 2000),
      );
      // No field at all rather than `disabled`, which the newest models refuse: without
      // it no Claude thinks.
      for (const off of [{ thinking: { type: 'disabled' } }, { reasoning_effort: 'none' }]) {
        assert.deepEqual(thinkingOf(await bodyOf({ ...off, max_tokens: 300 })), {
          thinking: undefined,
          max_tokens: 300,
        });
      }
    });

    it('asks Claude 4.6 and later for adaptive thinking at an effort, never for a budget', async () => {
      const on = async (fields: JsonObject) => {
        const request = gatewayChatRequest(fields);
        const model = { ...target, model: 'claude-opus-4-7' };
        await adapter.invoke({ request, target: model, signal: new AbortController().signal });
        const body = upstream.calls.at(-1)!.body;
        return {
          thinking: body.thinking,
          output_config: body.output_config,
          max_tokens: body.max_tokens,
        };
      };
      const adaptive = (effort: string | undefined, max_tokens: number, display?: string) => ({
        thinking: { type: 'adaptive', ...(display ? { display } : {}) },
        output_config: effort ? { effort } : undefined,
        max_tokens,
      });
      // An effort's client expects to read the reasoning, which Opus 4.7 leaves out
      // unless asked: summarized. Without max_tokens, the reasoning default held (16384).
      assert.deepEqual(
        await on({ reasoning_effort: 'minimal' }),
        adaptive('low', 16384, 'summarized'),
      );
      assert.deepEqual(
        await on({ reasoning_effort: 'high', max_tokens: 9000 }),
        adaptive('high', 9000, 'summarized'),
      );
      // A Messages client's own adaptive thinking, its effort and display kept: never
      // overridden, nor added where it chose the model's default.
      for (const display of ['summarized', 'omitted']) {
        assert.deepEqual(
          await on({ thinking: { type: 'adaptive', display }, reasoning_effort: 'max' }),
          adaptive('max', 16384, display),
        );
      }
      assert.deepEqual(await on({ thinking: { type: 'adaptive' } }), adaptive(undefined, 16384));
      // A budget, which these models refuse with a 400, is the effort nearest to it; its
      // client, used to reading the older Claude's thinking, gets it summarized.
      assert.deepEqual(
        await on({ thinking: { type: 'enabled', budget_tokens: 10000 }, max_tokens: 12000 }),
        adaptive('high', 12000, 'summarized'),
      );
      // Without max_tokens: the budget plus the reasoning default, as admission held it.
      assert.deepEqual(
        await on({ thinking: { type: 'enabled', budget_tokens: 1024 } }),
        adaptive('low', 1024 + 16384, 'summarized'),
      );
      // ...unless the client chose its display with the budget: that is kept.
      assert.deepEqual(
        await on({ thinking: { type: 'enabled', budget_tokens: 1024, display: 'omitted' } }),
        adaptive('low', 1024 + 16384, 'omitted'),
      );
      assert.deepEqual(await on({ reasoning_effort: 'none' }), {
        thinking: undefined,
        output_config: undefined,
        max_tokens: 4096,
      });
      const withTemperature = await on({ reasoning_effort: 'low', temperature: 0.2 });
      assert.equal(
        upstream.calls.at(-1)!.body.temperature,
        undefined,
        JSON.stringify(withTemperature),
      );
    });

    it('gives a budget-only Claude (4.5 and older) a budget when the client asks adaptive thinking', async () => {
      // The default effort's budget (high), within the 16384 held for adaptive thinking.
      assert.deepEqual(
        thinkingOf(await bodyOf({ thinking: { type: 'adaptive' } })),
        enabled(4096, 16384),
      );
      assert.deepEqual(
        thinkingOf(await bodyOf({ thinking: { type: 'adaptive' }, reasoning_effort: 'low' })),
        enabled(1024, 16384),
      );
    });

    it("fits an effort's budget under a small max_tokens, or leaves thinking out", async () => {
      const fit = (reasoning_effort: string, max_tokens: number) =>
        bodyOf({ reasoning_effort, max_tokens }).then(thinkingOf);
      assert.deepEqual(await fit('medium', 5000), enabled(2048, 5000));
      assert.deepEqual(await fit('high', 3000), enabled(2999, 3000));
      assert.deepEqual(await fit('high', 1025), enabled(1024, 1025));
      assert.deepEqual(await fit('low', 1024), { thinking: undefined, max_tokens: 1024 });
    });

    it('leaves out a temperature Anthropic refuses with thinking on, and keeps it otherwise', async () => {
      const thinking = await bodyOf({ reasoning_effort: 'low', temperature: 0.3, top_p: 0.95 });
      assert.equal(thinking.temperature, undefined);
      assert.equal(thinking.top_p, 0.95);
      const off = await bodyOf({ reasoning_effort: 'none', temperature: 0.3 });
      assert.equal(off.temperature, 0.3);
    });

    it("sends a Gemini client's top_k (provider_extras), but not with thinking on, and never safety settings", async () => {
      const extras = { top_k: 40, safety_settings: [{ category: 'c', threshold: 't' }] };
      const plain = await bodyOf({ reasoning_effort: 'none', provider_extras: extras });
      assert.equal(plain.top_k, 40);
      assert.equal(plain.provider_extras, undefined);
      assert.equal(plain.safety_settings, undefined);
      const thinking = await bodyOf({ reasoning_effort: 'low', provider_extras: extras });
      assert.equal(thinking.top_k, undefined);
    });

    it('leaves thinking out beside the forced answer tool, which Anthropic refuses with it', async () => {
      const asked = { reasoning_effort: 'high', temperature: 0.2 };
      assert.deepEqual(thinkingOf(await bodyOf(asked)), enabled(4096, 16384));
      // Without thinking the answer still gets all that was held for the request.
      for (const response_format of [WEATHER_FORMAT, { type: 'json_object' }]) {
        const body = await bodyOf({ ...asked, response_format });
        assert.deepEqual(thinkingOf(body), { thinking: undefined, max_tokens: 16384 });
        assert.equal(body.temperature, 0.2);
        assert.equal((body.tool_choice as JsonObject).type, 'tool');
      }
    });

    it("sends an assistant turn's thinking blocks first, signed, and leaves unsigned ones out", async () => {
      const signed = {
        type: 'thinking',
        thinking: 'Paris needs a lookup.',
        signature: 'EqQBCgIYAhIM1',
      };
      const redacted = { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' };
      // Another provider's reasoning, carried back without a signature.
      const unsigned = { type: 'thinking', thinking: 'Some other model thought this.' };
      const body = await bodyOf({
        reasoning_effort: 'high',
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: 'Let me check.',
            thinking_blocks: [signed, unsigned, redacted],
            tool_calls: [
              {
                id: 'toolu_01A',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_01A', content: '18C' },
          { role: 'assistant', content: 'It is 18C.', thinking_blocks: [unsigned] },
          { role: 'user', content: 'Thanks.' },
        ],
      });
      const messages = body.messages as JsonObject[];
      assert.deepEqual(messages[1], {
        role: 'assistant',
        content: [
          signed,
          redacted,
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
        ],
      });
      assert.deepEqual(messages[3], {
        role: 'assistant',
        content: [{ type: 'text', text: 'It is 18C.' }],
      });
    });
  });

  it('keeps prompt-caching breakpoints where the request marked them', async () => {
    const ephemeral = { type: 'ephemeral' };
    await invoke(cacheMarkedChatRequest());
    const body = upstream.calls[0].body as {
      system: unknown;
      messages: { content: Record<string, unknown>[] }[];
      tools: Record<string, unknown>[];
    };
    // Blocks as they came, so the breakpoint stays before the part that varies.
    assert.deepEqual(body.system, [
      { type: 'text', text: 'Stable rules.', cache_control: ephemeral },
      { type: 'text', text: 'Today is Thursday.' },
    ]);
    assert.deepEqual(body.messages[0].content, [
      { type: 'text', text: 'A long document.', cache_control: ephemeral },
    ]);
    assert.deepEqual(body.tools[0].cache_control, ephemeral);
  });

  it('sends a PDF by URL on as a url document for Anthropic to fetch', async () => {
    const url = 'https://example.com/paper.pdf';
    await invoke(
      gatewayChatRequest({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'file', file: { file_url: url, filename: 'paper' } },
              { type: 'text', text: 'Summarise it' },
            ],
          },
        ],
      }),
    );
    const body = upstream.calls[0].body as { messages: { content: unknown[] }[] };
    assert.deepEqual(body.messages[0].content, [
      { type: 'document', source: { type: 'url', url }, title: 'paper' },
      { type: 'text', text: 'Summarise it' },
    ]);
  });

  it('keeps the mark on a tool call (an agent marks its last turn) on its tool_use block', async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{}' },
                cache_control: { type: 'ephemeral' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    const body = upstream.calls[0].body as { messages: { content: Record<string, unknown>[] }[] };
    const [call] = body.messages[1].content;
    assert.equal(call.type, 'tool_use');
    assert.deepEqual(call.cache_control, { type: 'ephemeral' });
  });

  it("marks a tool result, and keeps a mark's ttl", async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          ...WEATHER_CALL_TURNS,
          {
            role: 'tool',
            tool_call_id: 'call_1',
            content: [
              { type: 'text', text: 'Sunny', cache_control: { type: 'ephemeral', ttl: '1h' } },
            ],
          },
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    const body = upstream.calls[0].body as { messages: { content: Record<string, unknown>[] }[] };
    const [result] = body.messages[2].content;
    assert.equal(result.type, 'tool_result');
    assert.deepEqual(result.cache_control, { type: 'ephemeral', ttl: '1h' });
  });

  it('refuses a cache_control that is not a caching breakpoint, naming it', async () => {
    await assert.rejects(
      invoke(
        gatewayChatRequest({
          messages: [
            {
              role: 'user',
              content: [{ type: 'text', text: 'hi', cache_control: { type: 'forever' } }],
            },
          ],
        }),
      ),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'messages[0].content[0].cache_control',
    );
    assert.equal(upstream.calls.length, 0);
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
    // input_tokens 20 + cache writes 5 + cache reads 100: reads and writes each their part.
    assert.deepEqual(answer.usage, {
      inputTokens: 125,
      outputTokens: 9,
      cachedInputTokens: 100,
      cacheWriteInputTokens: 5,
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
      cacheWriteInputTokens: 5,
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

  it('answers a json_schema response_format through a forced tool, as JSON content', async () => {
    const answer = await invoke(gatewayChatRequest({ response_format: WEATHER_FORMAT }));
    const call = upstream.calls[0];
    assert.deepEqual(call.body.tools, [
      {
        name: 'weather_report',
        description: 'A weather report',
        input_schema: WEATHER_FORMAT.json_schema.schema,
      },
    ]);
    assert.deepEqual(call.body.tool_choice, {
      type: 'tool',
      name: 'weather_report',
      disable_parallel_tool_use: true,
    });
    assert.equal(call.body.output_config, undefined);
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    // The fake says "Let me check." before the call; that prose would break the JSON.
    assert.deepEqual(choice.message, { role: 'assistant', content: '{"city":"Paris"}' });
    assert.equal(choice.finish_reason, 'stop');
  });

  it('streams a json_object answer as content deltas, with no tool_calls', async () => {
    const request = gatewayChatRequest({ stream: true, response_format: { type: 'json_object' } });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    const call = upstream.calls[0];
    assert.deepEqual(call.body.tools, [
      {
        name: 'json_response',
        description: 'Give your whole answer as a JSON object through this tool.',
        input_schema: { type: 'object' },
      },
    ]);
    assert.deepEqual(call.body.tool_choice, {
      type: 'tool',
      name: 'json_response',
      disable_parallel_tool_use: true,
    });
    assertStreamedTextAnswer(chunks, '{"city": "Paris"}');
    assert.deepEqual(JSON.parse(streamedText(chunks)), { city: 'Paris' });
  });

  it('answers a strict json_schema through the same tool: it works on every Claude model', async () => {
    // The openai SDKs' parse helpers send every schema as strict; Anthropic's own
    // structured outputs would refuse them on models before Claude 4.5.
    const answer = await invoke(gatewayChatRequest({ response_format: STRICT_WEATHER_FORMAT }));
    const call = upstream.calls[0];
    assert.equal(call.body.output_config, undefined);
    assert.equal((call.body.tools as JsonObject[])[0].name, 'weather_report');
    assert.deepEqual(call.body.tool_choice, {
      type: 'tool',
      name: 'weather_report',
      disable_parallel_tool_use: true,
    });
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, { role: 'assistant', content: '{"city":"Paris"}' });
  });

  it('refuses tools beside a response_format it answers through a tool, before calling', async () => {
    for (const response_format of [WEATHER_FORMAT, { type: 'json_object' }]) {
      await assert.rejects(
        invoke(gatewayChatRequest({ response_format, tools: [WEATHER_TOOL] })),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === 'response_format' &&
          /cannot combine tools with response_format json_(schema|object)/.test(error.message),
      );
    }
    const listSchema = { name: 'cities', schema: { type: 'array', items: { type: 'string' } } };
    await assert.rejects(
      invoke(
        gatewayChatRequest({ response_format: { type: 'json_schema', json_schema: listSchema } }),
      ),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.param === 'response_format' &&
        /top level is "type": "object"/.test(error.message),
    );
    assert.equal(upstream.calls.length, 0);
    // A text format asks for nothing.
    await invoke(gatewayChatRequest({ response_format: { type: 'text' }, tools: [WEATHER_TOOL] }));
    assert.equal(upstream.calls[0].body.output_config, undefined);
    assert.equal(upstream.calls[0].body.tool_choice, undefined);
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
    // message_start, the text block's start and a ping carry no content: the first word does.
    eventsToFirstContent: 4,
  });
});

/** The fake Messages API, but a queued stream script is sent verbatim instead of its answer. */
class ScriptedAnthropicUpstream extends FakeAnthropicUpstream {
  private readonly scripts: string[] = [];

  /** Answers the next streaming call with these SSE events (objects, or raw data text). */
  nextStream(...events: (JsonObject | string)[]): this {
    this.scripts.push(events.map(sseEvent).join(''));
    return this;
  }

  override reset(): void {
    super.reset();
    this.scripts.length = 0;
  }

  protected override answer(call: ProviderFakeCall, response: ServerResponse, mode: AnswerMode) {
    const script = call.body.stream === true ? this.scripts.shift() : undefined;
    if (script === undefined) return super.answer(call, response, mode);
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(script);
  }
}

function sseEvent(event: JsonObject | string): string {
  if (typeof event === 'string') return `data: ${event}\n\n`;
  const name = typeof event.type === 'string' ? `event: ${event.type}\n` : '';
  return `${name}data: ${JSON.stringify(event)}\n\n`;
}

/** A Messages API response as documented; `fields` replace its parts. */
function message(fields: JsonObject = {}): JsonObject {
  return {
    id: 'msg_01odd',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text: 'Hi.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 3 },
    ...fields,
  };
}

const MESSAGE_START = {
  type: 'message_start',
  message: {
    id: 'msg_01odd',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: {
      input_tokens: 20,
      cache_creation_input_tokens: 5,
      cache_read_input_tokens: 100,
      output_tokens: 1,
    },
  },
};
const TEXT_START = {
  type: 'content_block_start',
  index: 0,
  content_block: { type: 'text', text: '' },
};
const textDelta = (text: string, index = 0) => ({
  type: 'content_block_delta',
  index,
  delta: { type: 'text_delta', text },
});
const blockStop = (index: number) => ({ type: 'content_block_stop', index });
const messageDelta = (stopReason: string | null, usage: JsonObject = { output_tokens: 9 }) => ({
  type: 'message_delta',
  delta: { stop_reason: stopReason, stop_sequence: null },
  usage,
});
const MESSAGE_STOP = { type: 'message_stop' };

/** The deltas that carry something (text, reasoning, tool calls), in order: no role, no finish. */
function contentDeltas(chunks: readonly JsonObject[]): JsonObject[] {
  return chunks
    .map((chunk) => (chunk.choices as JsonObject[] | undefined)?.[0]?.delta as JsonObject)
    .filter((delta) => delta && delta.role === undefined && Object.keys(delta).length > 0);
}

function isCode(code: DataPlaneErrorCode) {
  return (error: unknown) => error instanceof DataPlaneError && error.code === code;
}

/** A StreamInterrupted that the adapter raised on purpose, not a TypeError it tripped over. */
function isDeliberateInterruption(error: unknown): boolean {
  return (
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.StreamInterrupted &&
    !(error.cause instanceof TypeError)
  );
}

describe('AnthropicAdapter against a Messages API answering odd or hostile content', () => {
  const upstream = new ScriptedAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  let target: UpstreamTarget;
  const invoke = (request: GatewayRequest) =>
    adapter.invoke({ request, target, signal: new AbortController().signal });
  const answerTo = async (body: JsonObject) => {
    upstream.next({ kind: 'json', body });
    return invoke(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
  };
  const rejectsAsBadResponse = (body: JsonObject, label: string) =>
    assert.rejects(answerTo(body), isCode(DataPlaneErrorCode.UpstreamBadResponse), label);
  const streamOf = async (...events: (JsonObject | string)[]) => {
    upstream.nextStream(...events);
    const request = gatewayChatRequest({ stream: true, stream_options: { include_usage: true } });
    return (await invoke(request)) as StreamAnswer;
  };

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
      { headerName: 'x-api-key', value: 'sk-ant-secret' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('reports content holding something that is not a block as a bad response', async () => {
    for (const block of [null, 'Hi.', 7, [{ type: 'text', text: 'Hi.' }]]) {
      await rejectsAsBadResponse(message({ content: [block] }), JSON.stringify(block));
    }
  });

  it('reports tool_use and text blocks of the wrong shape as a bad response', async () => {
    const toolUse = { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: {} };
    const broken: [string, JsonObject][] = [
      ['string input', { ...toolUse, input: 'Paris' }],
      ['array input', { ...toolUse, input: ['Paris'] }],
      ['numeric input', { ...toolUse, input: 3 }],
      ['no id', { ...toolUse, id: undefined }],
      ['empty name', { ...toolUse, name: '' }],
      ['numeric text', { type: 'text', text: 42 }],
    ];
    for (const [label, block] of broken) {
      await rejectsAsBadResponse(message({ content: [block], stop_reason: 'tool_use' }), label);
    }
  });

  it('reads a tool_use block without input as a call with no arguments', async () => {
    const block = { type: 'tool_use', id: 'toolu_01A', name: 'get_weather' };
    const answer = await answerTo(message({ content: [block], stop_reason: 'tool_use' }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    const calls = (choice.message as JsonObject).tool_calls as JsonObject[];
    assert.equal((calls[0].function as JsonObject).arguments, '{}');
  });

  it('reports usage without valid input and output counts as a bad response', async () => {
    const usages: unknown[] = [
      {},
      [],
      'lots',
      { output_tokens: 3 },
      { input_tokens: 10 },
      { input_tokens: -10, output_tokens: 3 },
      { input_tokens: '10', output_tokens: 3 },
      { input_tokens: 10, output_tokens: null },
    ];
    for (const usage of usages) {
      await rejectsAsBadResponse(message({ usage }), JSON.stringify(usage));
    }
  });

  it('keeps absurd token counts whole, non-negative and exact', async () => {
    const answer = await answerTo(
      message({
        usage: {
          input_tokens: 1e300,
          cache_creation_input_tokens: 1e300,
          cache_read_input_tokens: 1e300,
          output_tokens: 2.5,
        },
      }),
    );
    if (answer.kind !== 'json') return assert.fail('expected json');
    const { inputTokens, cachedInputTokens, cacheWriteInputTokens } = answer.usage;
    for (const count of [inputTokens, cachedInputTokens, cacheWriteInputTokens ?? 0]) {
      assert.ok(Number.isSafeInteger(count) && count >= 0, `${count} is not a safe count`);
    }
    assert.equal(answer.usage.outputTokens, 3);
  });

  it('tells the 1-hour part of the cache writes apart when cache_creation breaks them down', async () => {
    const usage = {
      input_tokens: 10,
      output_tokens: 3,
      cache_creation_input_tokens: 3_000,
      cache_creation: { ephemeral_5m_input_tokens: 2_000, ephemeral_1h_input_tokens: 1_000 },
    };
    const answer = await answerTo(message({ usage }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    assert.deepEqual(answer.usage, {
      inputTokens: 3_010,
      outputTokens: 3,
      cachedInputTokens: 0,
      cacheWriteInputTokens: 3_000,
      cacheWrite1hInputTokens: 1_000,
      source: 'reported',
    });
    // No breakdown, or one with no 1-hour writes: every write is a 5-minute one.
    for (const cache_creation of [undefined, { ephemeral_5m_input_tokens: 3_000 }, 'odd']) {
      const plain = await answerTo(message({ usage: { ...usage, cache_creation } }));
      if (plain.kind !== 'json') return assert.fail('expected json');
      assert.equal(plain.usage.cacheWriteInputTokens, 3_000);
      assert.ok(!('cacheWrite1hInputTokens' in plain.usage), JSON.stringify(cache_creation));
    }
    // A breakdown claiming more than all the writes is capped at them.
    const over = await answerTo(
      message({ usage: { ...usage, cache_creation: { ephemeral_1h_input_tokens: 9_000 } } }),
    );
    if (over.kind !== 'json') return assert.fail('expected json');
    assert.equal(over.usage.cacheWrite1hInputTokens, 3_000);
  });

  it('ignores invalid cache counts instead of failing the answer', async () => {
    const usage = {
      input_tokens: 10,
      output_tokens: 3,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: -4,
    };
    const answer = await answerTo(message({ usage }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    assert.deepEqual(answer.usage, {
      inputTokens: 10,
      outputTokens: 3,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it('skips unknown blocks, reads unknown stop reasons as stop, and names the model', async () => {
    const answer = await answerTo(
      message({
        model: undefined,
        content: [
          { type: 'block_from_the_future', payload: { deep: true } },
          { type: 'text', text: 'Hi.' },
        ],
        stop_reason: 'stop_reason_from_the_future',
      }),
    );
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, { role: 'assistant', content: 'Hi.' });
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(answer.body.model, 'claude-sonnet-4-5');
  });

  it('answers a full context window as length, naming it in stop_reason, plain and streamed', async () => {
    const answer = await answerTo(message({ stop_reason: 'model_context_window_exceeded' }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(
      [choice.finish_reason, choice.stop_reason],
      ['length', 'model_context_window_exceeded'],
    );
    const chunks = await collectStream(
      await streamOf(
        MESSAGE_START,
        TEXT_START,
        textDelta('Hi'),
        blockStop(0),
        messageDelta('model_context_window_exceeded'),
        MESSAGE_STOP,
      ),
    );
    const last = chunks
      .flatMap((chunk) => (chunk.choices as JsonObject[] | undefined) ?? [])
      .find((c) => c.finish_reason);
    assert.deepEqual(
      [last?.finish_reason, last?.stop_reason],
      ['length', 'model_context_window_exceeded'],
    );
  });

  it('answers the tier Anthropic served at as service_tier, in OpenAI terms', async () => {
    const usage = { input_tokens: 5, output_tokens: 9, service_tier: 'standard' };
    const answer = await answerTo(message({ usage }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    assert.equal(answer.body.service_tier, 'default');
  });

  it("names the tier message_start reports on every streamed chunk after, as OpenAI's chunks do", async () => {
    const start = {
      ...MESSAGE_START,
      message: {
        ...MESSAGE_START.message,
        usage: { ...MESSAGE_START.message.usage, service_tier: 'priority' },
      },
    };
    const chunks = await collectStream(
      await streamOf(
        start,
        TEXT_START,
        textDelta('Hi'),
        blockStop(0),
        messageDelta('end_turn'),
        MESSAGE_STOP,
      ),
    );
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    assert.deepEqual(
      chunks.map((chunk) => chunk.service_tier),
      chunks.map(() => 'priority'),
    );
    // A message_start without one names none.
    const plain = await collectStream(
      await streamOf(
        MESSAGE_START,
        TEXT_START,
        textDelta('Hi'),
        blockStop(0),
        messageDelta('end_turn'),
        MESSAGE_STOP,
      ),
    );
    assert.ok(plain.every((chunk) => !('service_tier' in chunk)));
  });

  describe('answering with extended thinking', () => {
    // Shaped from Anthropic's extended-thinking reference: the signature is opaque.
    const THINKING = {
      type: 'thinking',
      thinking: 'The user asks about Paris. I should call the weather tool.',
      signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
    };
    const REDACTED = {
      type: 'redacted_thinking',
      data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP',
    };

    it('answers thinking blocks as reasoning_content and thinking_blocks, text and tool calls after', async () => {
      const answer = await answerTo(
        message({
          content: [
            THINKING,
            REDACTED,
            { type: 'text', text: 'Let me check.' },
            { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
          ],
          stop_reason: 'tool_use',
        }),
      );
      if (answer.kind !== 'json') return assert.fail('expected json');
      const choice = (answer.body.choices as JsonObject[])[0];
      assert.deepEqual(choice.message, {
        role: 'assistant',
        content: 'Let me check.',
        reasoning_content: THINKING.thinking,
        thinking_blocks: [THINKING, REDACTED],
        tool_calls: [
          {
            id: 'toolu_01A',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      });
      assert.equal(choice.finish_reason, 'tool_calls');
    });

    it('joins the text of several thinking blocks and sends back only the signed ones', async () => {
      const unsigned = { type: 'thinking', thinking: ' Then answer.' };
      const answer = await answerTo(
        message({ content: [THINKING, unsigned, { type: 'text', text: 'Hi.' }] }),
      );
      if (answer.kind !== 'json') return assert.fail('expected json');
      const choice = (answer.body.choices as JsonObject[])[0];
      assert.deepEqual(choice.message, {
        role: 'assistant',
        content: 'Hi.',
        reasoning_content: `${THINKING.thinking} Then answer.`,
        thinking_blocks: [THINKING],
      });
    });

    it('reports a thinking block of the wrong shape as a bad response', async () => {
      const broken = [
        { type: 'thinking', thinking: 42, signature: 'sig' },
        { type: 'thinking', thinking: 'Hmm.', signature: 7 },
        { type: 'redacted_thinking', data: '' },
      ];
      for (const block of broken) {
        await rejectsAsBadResponse(message({ content: [block] }), JSON.stringify(block));
      }
    });

    it('streams reasoning fragments, then the signature and the redacted block, then text', async () => {
      const thinkingDelta = (thinking: string) => ({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'thinking_delta', thinking },
      });
      const answer = await streamOf(
        MESSAGE_START,
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        },
        thinkingDelta('The user asks about Paris.'),
        thinkingDelta(' I should say hello.'),
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'signature_delta', signature: THINKING.signature },
        },
        blockStop(0),
        { type: 'content_block_start', index: 1, content_block: REDACTED },
        blockStop(1),
        { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
        textDelta('Hello.', 2),
        blockStop(2),
        messageDelta('end_turn'),
        MESSAGE_STOP,
      );
      const chunks = await collectStream(answer);
      assert.deepEqual(contentDeltas(chunks), [
        { reasoning_content: 'The user asks about Paris.' },
        { reasoning_content: ' I should say hello.' },
        { thinking_blocks: [{ type: 'thinking', thinking: '', signature: THINKING.signature }] },
        { thinking_blocks: [REDACTED] },
        { content: 'Hello.' },
      ]);
      assert.equal(streamedFinishReason(chunks), 'stop');
    });

    it('streams the text a thinking block starts with, and skips empty fragments', async () => {
      const answer = await streamOf(
        MESSAGE_START,
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'thinking', thinking: 'Already thinking.', signature: '' },
        },
        { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: '' } },
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'signature_delta', signature: '' },
        },
        blockStop(0),
        messageDelta('end_turn'),
        MESSAGE_STOP,
      );
      const chunks = await collectStream(answer);
      assert.deepEqual(contentDeltas(chunks), [{ reasoning_content: 'Already thinking.' }]);
    });
  });

  it('does not claim tool_calls when a tool_use stop carries no tool_use block', async () => {
    const answer = await answerTo(message({ stop_reason: 'tool_use' }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    assert.equal((answer.body.choices as JsonObject[])[0].finish_reason, 'stop');
  });

  it('fails a stream event whose data is JSON but not an object, without a TypeError', async () => {
    for (const data of ['null', '42', '"message_stop"', '[]']) {
      const answer = await streamOf(MESSAGE_START, data, MESSAGE_STOP);
      await assert.rejects(collectStream(answer), isDeliberateInterruption, data);
    }
  });

  it('keeps message_start counts that a message_delta reports as null', async () => {
    const answer = await streamOf(
      MESSAGE_START,
      TEXT_START,
      textDelta('Hi.'),
      blockStop(0),
      messageDelta('end_turn', {
        input_tokens: null,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
        output_tokens: 9,
      }),
      MESSAGE_STOP,
    );
    await collectStream(answer);
    assert.deepEqual(await answer.usage, {
      inputTokens: 125,
      outputTokens: 9,
      cachedInputTokens: 100,
      cacheWriteInputTokens: 5,
      source: 'reported',
    });
  });

  it('streams the 1-hour part of the cache writes from message_start and message_delta', async () => {
    const breakdown = { ephemeral_5m_input_tokens: 3, ephemeral_1h_input_tokens: 2 };
    const start = {
      ...MESSAGE_START,
      message: {
        ...MESSAGE_START.message,
        usage: { ...MESSAGE_START.message.usage, cache_creation: breakdown },
      },
    };
    const fromStart = await streamOf(
      start,
      TEXT_START,
      textDelta('Hi.'),
      blockStop(0),
      messageDelta('end_turn', { output_tokens: 9 }),
      MESSAGE_STOP,
    );
    await collectStream(fromStart);
    assert.deepEqual(await fromStart.usage, {
      inputTokens: 125,
      outputTokens: 9,
      cachedInputTokens: 100,
      cacheWriteInputTokens: 5,
      cacheWrite1hInputTokens: 2,
      source: 'reported',
    });
    const fromDelta = await streamOf(
      MESSAGE_START,
      TEXT_START,
      textDelta('Hi.'),
      blockStop(0),
      messageDelta('end_turn', { output_tokens: 9, cache_creation: breakdown }),
      MESSAGE_STOP,
    );
    await collectStream(fromDelta);
    assert.equal((await fromDelta.usage)?.cacheWrite1hInputTokens, 2);
  });

  it('ignores a message_delta count that is negative or not a number', async () => {
    const answer = await streamOf(
      MESSAGE_START,
      TEXT_START,
      textDelta('Hi.'),
      messageDelta('end_turn', { input_tokens: -20, output_tokens: 'nine' }),
      messageDelta(null, { output_tokens: 8.2 }),
      MESSAGE_STOP,
    );
    await collectStream(answer);
    const usage = await answer.usage;
    assert.equal(usage.inputTokens, 125);
    assert.equal(usage.outputTokens, 9);
  });

  it('estimates usage when the stream never reports input tokens', async () => {
    const start = { ...MESSAGE_START, message: { ...MESSAGE_START.message, usage: undefined } };
    const answer = await streamOf(
      start,
      TEXT_START,
      textDelta('Hello there.'),
      messageDelta('end_turn'),
      MESSAGE_STOP,
    );
    await collectStream(answer);
    const usage = await answer.usage;
    assert.equal(usage.source, 'estimated');
    assert.ok(usage.inputTokens > 0, 'the prompt is estimated, not reported as 0 tokens');
  });

  it('fails a streamed tool_use block that has no id or no name', async () => {
    for (const toolUse of [
      { type: 'tool_use', name: 'get_weather', input: {} },
      { type: 'tool_use', id: 'toolu_01A', name: 7, input: {} },
    ]) {
      const answer = await streamOf(
        MESSAGE_START,
        { type: 'content_block_start', index: 0, content_block: toolUse },
        MESSAGE_STOP,
      );
      await assert.rejects(collectStream(answer), isDeliberateInterruption);
    }
  });

  it('streams {} as the arguments of a tool call that sent no input', async () => {
    const answer = await streamOf(
      MESSAGE_START,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '' },
      },
      blockStop(0),
      messageDelta('tool_use'),
      MESSAGE_STOP,
    );
    const chunks = await collectStream(answer);
    assert.deepEqual(streamedToolCalls(chunks), [
      { id: 'toolu_01A', name: 'get_weather', arguments: '{}' },
    ]);
    assert.equal(streamedFinishReason(chunks), 'tool_calls');
  });

  it('gives each streamed tool_use block its own tool index, even when a block index repeats', async () => {
    const toolStart = (index: number, id: string) => ({
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id, name: 'get_weather', input: {} },
    });
    const chunks = await collectStream(
      await streamOf(
        MESSAGE_START,
        toolStart(1, 'toolu_01A'),
        toolStart(1, 'toolu_01B'),
        toolStart(2, 'toolu_01C'),
        messageDelta('tool_use'),
        MESSAGE_STOP,
      ),
    );
    const ids = streamedToolCalls(chunks).map((call) => call.id);
    assert.deepEqual(ids, ['toolu_01A', 'toolu_01B', 'toolu_01C']);
  });

  describe('with a forced answer tool (response_format json_object)', () => {
    const JSON_OBJECT = { type: 'json_object' };
    const answerToolUse = (fields: JsonObject = {}) => ({
      type: 'tool_use',
      id: 'toolu_01J',
      name: 'json_response',
      input: { ok: true },
      ...fields,
    });
    const answerToJson = async (body: JsonObject) => {
      upstream.next({ kind: 'json', body });
      return invoke(gatewayChatRequest({ response_format: JSON_OBJECT }));
    };
    const jsonStreamOf = async (...events: (JsonObject | string)[]) => {
      upstream.nextStream(...events);
      const request = gatewayChatRequest({ stream: true, response_format: JSON_OBJECT });
      return (await invoke(request)) as StreamAnswer;
    };

    it('answers the tool input as content, {} when it has none', async () => {
      for (const [block, content] of [
        [answerToolUse(), '{"ok":true}'],
        [answerToolUse({ input: undefined }), '{}'],
      ] as const) {
        const answer = await answerToJson(message({ content: [block], stop_reason: 'tool_use' }));
        if (answer.kind !== 'json') return assert.fail('expected json');
        const choice = (answer.body.choices as JsonObject[])[0];
        assert.deepEqual(choice.message, { role: 'assistant', content });
        assert.equal(choice.finish_reason, 'stop');
      }
    });

    it('reports a call of a tool it was not offered as a bad response', async () => {
      const other = answerToolUse({ name: 'get_weather' });
      await assert.rejects(
        answerToJson(message({ content: [other], stop_reason: 'tool_use' })),
        isCode(DataPlaneErrorCode.UpstreamBadResponse),
      );
    });

    it('streams the input as content, drops prose, and sends {} for a call with no input', async () => {
      const toolStart = (name: string) => ({
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 'toolu_01J', name, input: {} },
      });
      const inputDelta = (partial_json: string) => ({
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json },
      });
      const withInput = await collectStream(
        await jsonStreamOf(
          MESSAGE_START,
          TEXT_START,
          textDelta('Sure, here it is:'),
          blockStop(0),
          toolStart('json_response'),
          inputDelta('{"ok":'),
          inputDelta(' true}'),
          blockStop(1),
          messageDelta('tool_use'),
          MESSAGE_STOP,
        ),
      );
      assert.equal(streamedText(withInput), '{"ok": true}');
      assert.deepEqual(streamedToolCalls(withInput), []);
      assert.equal(streamedFinishReason(withInput), 'stop');
      const noInput = await collectStream(
        await jsonStreamOf(
          MESSAGE_START,
          toolStart('json_response'),
          inputDelta(''),
          blockStop(1),
          messageDelta('tool_use'),
          MESSAGE_STOP,
        ),
      );
      assert.equal(streamedText(noInput), '{}');
      const otherTool = await jsonStreamOf(MESSAGE_START, toolStart('get_weather'), MESSAGE_STOP);
      await assert.rejects(collectStream(otherTool), isDeliberateInterruption);
    });
  });

  it('fails a stream that stops a message it never started', async () => {
    const answer = await streamOf({ type: 'ping' }, MESSAGE_STOP);
    await assert.rejects(collectStream(answer), isDeliberateInterruption);
  });

  it('finishes a stream exactly once, with a finish_reason its content supports', async () => {
    const finishes = (chunks: JsonObject[]) =>
      chunks
        .map((chunk) => (chunk.choices as JsonObject[])[0]?.finish_reason)
        .filter((reason) => reason);
    const noDelta = await collectStream(
      await streamOf(MESSAGE_START, TEXT_START, textDelta('Hi.'), MESSAGE_STOP),
    );
    assert.deepEqual(finishes(noDelta), ['stop']);
    const twice = await collectStream(
      await streamOf(
        MESSAGE_START,
        TEXT_START,
        textDelta('Hi.'),
        messageDelta('tool_use'),
        messageDelta('max_tokens'),
        MESSAGE_STOP,
      ),
    );
    assert.deepEqual(finishes(twice), ['stop']);
  });

  it('tolerates pings, unknown and typeless events, and blocks out of order', async () => {
    const answer = await streamOf(
      messageDelta(null, { output_tokens: 2 }),
      MESSAGE_START,
      { type: 'ping' },
      { type: 'event_from_the_future', index: 0 },
      { index: 0, delta: { type: 'text_delta', text: 'typeless' } },
      textDelta('Hi', 0),
      {
        type: 'content_block_delta',
        index: 5,
        delta: { type: 'input_json_delta', partial_json: '{"x":' },
      },
      { type: 'content_block_delta', index: 0, delta: null },
      { type: 'content_block_start', index: 1, content_block: null },
      textDelta(' there.', 1),
      messageDelta('end_turn'),
      MESSAGE_STOP,
      textDelta(' After the end.', 1),
    );
    const chunks = await collectStream(answer);
    assertStreamedTextAnswer(chunks, 'Hi there.');
  });

  it('fails a stream with an error event, whatever shape its error has', async () => {
    const hostileType = `${'x'.repeat(10_000)} <script>`;
    const cases: [unknown, string][] = [
      [null, 'an error'],
      ['overloaded', 'an error'],
      [{ type: 'overloaded_error', message: 'Overloaded' }, 'overloaded_error'],
      [{ type: hostileType }, 'an error'],
    ];
    for (const [error, named] of cases) {
      const answer = await streamOf(MESSAGE_START, TEXT_START, textDelta('Hi'), {
        type: 'error',
        error: error as JsonObject,
      });
      await assert.rejects(
        collectStream(answer),
        (thrown: unknown) =>
          isDeliberateInterruption(thrown) &&
          (thrown as Error).message.endsWith(`reported ${named} mid-stream`),
      );
    }
  });

  it("answers an error event before message_start with its status's meaning, which the router acts on", async () => {
    const cases: [unknown, DataPlaneErrorCode, number][] = [
      [
        { type: 'rate_limit_error', message: 'slow down' },
        DataPlaneErrorCode.UpstreamRateLimited,
        429,
      ],
      [{ type: 'overloaded_error', message: 'Overloaded' }, DataPlaneErrorCode.UpstreamError, 529],
      [{ type: 'invalid_request_error' }, DataPlaneErrorCode.UpstreamRejected, 400],
      [{ type: 'timeout_error' }, DataPlaneErrorCode.UpstreamTimeout, 504],
      [{ type: 'an_error_added_later' }, DataPlaneErrorCode.UpstreamError, 500],
      // Names of the lookup table's own prototype are unknown types too, never a status.
      [{ type: 'constructor' }, DataPlaneErrorCode.UpstreamError, 500],
      [{ type: '__proto__' }, DataPlaneErrorCode.UpstreamError, 500],
      [null, DataPlaneErrorCode.UpstreamError, 500],
    ];
    for (const [error, code, status] of cases) {
      const answer = await streamOf({ type: 'error', error: error as JsonObject });
      await assert.rejects(
        collectStream(answer),
        (thrown: unknown) =>
          thrown instanceof DataPlaneError &&
          thrown.code === code &&
          thrown.upstreamStatus === status &&
          /before its message started$/.test(thrown.message),
        JSON.stringify(error),
      );
      // Nothing was answered. A refusal (a rate limit, an overload, a bad request) spent
      // nothing, as the same HTTP status does; any other error keeps the estimate.
      const usage = await answer.usage;
      if ([429, 529, 400].includes(status)) {
        assert.deepEqual([usage.inputTokens, usage.outputTokens], [0, 0], JSON.stringify(error));
      } else {
        assert.equal(usage.source, 'estimated');
      }
    }
  });

  for (const [type, code, status] of [
    ['overloaded_error', DataPlaneErrorCode.UpstreamError, 529],
    ['api_error', DataPlaneErrorCode.UpstreamError, 500],
    ['rate_limit_error', DataPlaneErrorCode.UpstreamRateLimited, 429],
  ] as const) {
    it(`maps ${type} right after message_start to ${code}, no chunk sent`, async () => {
      // message_start carries no content: nothing the client could use went out, so the
      // router may still fail over, on the error's own meaning.
      const answer = await streamOf(
        MESSAGE_START,
        TEXT_START,
        { type: 'ping' },
        {
          type: 'error',
          error: { type, message: 'Busy.' },
        },
      );
      const relayed: JsonObject[] = [];
      await assert.rejects(
        async () => {
          for await (const chunk of answer.events) relayed.push(chunk);
        },
        (thrown: unknown) =>
          thrown instanceof DataPlaneError &&
          thrown.code === code &&
          thrown.upstreamStatus === status &&
          thrown.message.endsWith(`reported ${type} before answering`),
      );
      assert.deepEqual(relayed, []);
    });
  }

  it("bills nothing for a stream refused after message_start, keeping an api_error's count", async () => {
    // message_start reported 20 + 100 + 5 input tokens, but an overloaded or rate-limited
    // call is not billed: counting them would charge the caller's budget for the prompt
    // again when the next backend answers it.
    for (const type of ['overloaded_error', 'rate_limit_error']) {
      const answer = await streamOf(MESSAGE_START, { type: 'error', error: { type } });
      await assert.rejects(collectStream(answer));
      const usage = await answer.usage;
      assert.deepEqual([usage.inputTokens, usage.outputTokens], [0, 0], type);
    }
    // A server error may come after the prompt was read: message_start's count stays.
    const failed = await streamOf(MESSAGE_START, { type: 'error', error: { type: 'api_error' } });
    await assert.rejects(collectStream(failed));
    assert.equal((await failed.usage).inputTokens, 125);
  });

  it('sends the role chunk with the first content, and alone before an empty answer', async () => {
    const chunks = await collectStream(
      await streamOf(
        MESSAGE_START,
        TEXT_START,
        textDelta('Hi'),
        messageDelta('end_turn'),
        MESSAGE_STOP,
      ),
    );
    const deltas = chunks.map((chunk) => (chunk.choices as JsonObject[])[0]?.delta);
    assert.deepEqual(deltas.slice(0, 2), [{ role: 'assistant', content: '' }, { content: 'Hi' }]);
    const empty = await collectStream(
      await streamOf(
        MESSAGE_START,
        TEXT_START,
        blockStop(0),
        messageDelta('end_turn'),
        MESSAGE_STOP,
      ),
    );
    const first = (empty[0].choices as JsonObject[])[0];
    assert.deepEqual(first.delta, { role: 'assistant', content: '' });
    assert.equal(streamedFinishReason(empty), 'stop');
  });

  it('drops blank text Anthropic refuses from messages and the system prompt', async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'system', content: '  ' },
          { role: 'system', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: '' },
              { type: 'text', text: 'Weather?' },
              { type: 'text', text: ' \n' },
            ],
          },
          {
            role: 'assistant',
            content: [{ type: 'text', text: '' }],
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '18C' },
          { role: 'user', content: [{ type: 'text', text: '\t' }] },
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    const body = upstream.calls[0].body;
    assert.equal(body.system, 'Be brief.');
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '18C' }] },
    ]);
  });

  it("keeps a failed tool's is_error as the tool_result's own flag, its text as it was", async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          ...WEATHER_CALL_TURNS,
          { role: 'tool', tool_call_id: 'call_1', content: 'service down', is_error: true },
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    const messages = upstream.calls[0].body.messages as { content: JsonObject[] }[];
    assert.deepEqual(messages[2].content, [
      { type: 'tool_result', tool_use_id: 'call_1', content: 'service down', is_error: true },
    ]);
  });

  it('sends tool call ids Anthropic accepts, distinct and paired with their results', async () => {
    const ids = ['functions.get_weather:1', 'functions.get_weather/1', ''];
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: ids.map((id) => ({
              id,
              type: 'function',
              function: { name: 'get_weather', arguments: '{}' },
            })),
          },
          ...ids.map((id) => ({ role: 'tool', tool_call_id: id, content: '18C' })),
        ],
        tools: [WEATHER_TOOL],
      }),
    );
    const messages = upstream.calls[0].body.messages as { content: JsonObject[] }[];
    const useIds = messages[1].content.map((block) => block.id as string);
    const resultIds = messages[2].content.map((block) => block.tool_use_id as string);
    for (const id of useIds) assert.match(id, /^[a-zA-Z0-9_-]+$/);
    assert.equal(new Set(useIds).size, ids.length);
    assert.deepEqual(resultIds, useIds);
  });
});
