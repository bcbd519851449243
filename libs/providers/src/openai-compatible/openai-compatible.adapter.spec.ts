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
import { FakeOpenAiUpstream, RawSseUpstream, upstreamTarget } from '@aigw/testing/fake-provider';
import { defaultProviderAdapters } from '../default-adapters';
import { OpenAiCompatibleAdapter } from './openai-compatible.adapter';
import { isGoogleEndpoint, resolveBaseUrl } from './openai-base-urls';

function chatRequest(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'chat',
    requestedModel: 'gpt-4',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
    ...overrides,
  };
}

async function collect(answer: StreamAnswer): Promise<JsonObject[]> {
  const events: JsonObject[] = [];
  for await (const event of answer.events) events.push(event);
  return events;
}

describe('OpenAiCompatibleAdapter against a fake OpenAI upstream', () => {
  const upstream = new FakeOpenAiUpstream();
  const adapter = new OpenAiCompatibleAdapter();
  let target: UpstreamTarget;

  before(async () => {
    await upstream.start();
    target = {
      backendName: 'fake-openai',
      provider: 'vllm',
      model: 'served-model',
      baseUrl: upstream.baseUrl,
      credential: {
        headerName: 'Authorization',
        headerPrefix: 'Bearer ',
        apiKey: { reveal: () => 'sk-test-secret-key' },
      },
      requestTimeoutMs: 2_000,
      firstByteTimeoutMs: 500,
    };
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  /** A call of `request` to the fake backend, as `provider` when one is named. */
  const invoke = (request: GatewayRequest, provider?: string) =>
    adapter.invoke({
      request,
      target: provider === undefined ? target : { ...target, provider },
      signal: new AbortController().signal,
    });

  it('sends the served model, the injected key and no client credentials', async () => {
    const request = chatRequest({ forwardHeaders: { 'x-trace': 't1' } });
    const answer = await invoke(request);
    assert.equal(answer.kind, 'json');
    assert.equal(upstream.calls.length, 1);
    const call = upstream.calls[0];
    assert.equal(call.path, '/v1/chat/completions');
    assert.equal(call.body.model, 'served-model');
    assert.equal(call.headers.authorization, 'Bearer sk-test-secret-key');
    assert.equal(call.headers['x-trace'], 't1');
    assert.deepEqual(answer.usage, {
      inputTokens: 12,
      outputTokens: 6,
      cachedInputTokens: 0,
      source: 'reported',
    });
    assert.equal(answer.servedBy.backend, 'fake-openai');
  });

  it("sends OpenAI a chat request's max_tokens as max_completion_tokens, which its reasoning models require", async () => {
    const invokeOn = async (
      provider: string,
      body: JsonObject,
      operation: 'chat' | 'completions' = 'chat',
    ) => {
      upstream.reset();
      await invoke(chatRequest({ operation, body }), provider);
      return upstream.calls[0].body;
    };
    const messages = [{ role: 'user', content: 'hi' }];
    const onOpenAi = await invokeOn('openai', { model: 'gpt-5', messages, max_tokens: 50 });
    assert.equal(onOpenAi.max_completion_tokens, 50);
    assert.equal('max_tokens' in onOpenAi, false);
    // The client's own max_completion_tokens wins over a max_tokens beside it.
    const both = { model: 'gpt-5', messages, max_tokens: 50, max_completion_tokens: 80 };
    assert.equal((await invokeOn('openai', both)).max_completion_tokens, 80);
    // The compatible family (DeepSeek, Mistral, vLLM) and legacy completions keep max_tokens.
    const onVllm = await invokeOn('vllm', { model: 'm', messages, max_tokens: 50 });
    assert.equal(onVllm.max_tokens, 50);
    assert.equal('max_completion_tokens' in onVllm, false);
    const legacy = await invokeOn(
      'openai',
      { model: 'm', prompt: 'hi', max_tokens: 50 },
      'completions',
    );
    assert.equal(legacy.max_tokens, 50);
  });

  it("sends no caching marks, which are Anthropic's (this family caches by itself)", async () => {
    const ephemeral = { type: 'ephemeral' };
    const body = {
      model: 'gpt-4',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'stable', cache_control: ephemeral }] },
        { role: 'user', content: 'hi', cache_control: ephemeral },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'f', parameters: { type: 'object' } },
          cache_control: ephemeral,
        },
      ],
    };
    await invoke(chatRequest({ body }));
    assert.doesNotMatch(JSON.stringify(upstream.calls[0].body), /cache_control/);
    assert.deepEqual(upstream.calls[0].body.messages, [
      { role: 'system', content: [{ type: 'text', text: 'stable' }] },
      { role: 'user', content: 'hi' },
    ]);
    // The client's own request is left as it was (a failover to Anthropic still has them).
    assert.match(JSON.stringify(body.messages), /cache_control/);
  });

  it('asks for stream usage and hides the usage chunk from a client that did not ask', async () => {
    const request = chatRequest({
      stream: true,
      body: { model: 'gpt-4', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    });
    const answer = (await invoke(request)) as StreamAnswer;
    assert.equal(answer.kind, 'stream');
    const events = await collect(answer);
    assert.deepEqual(upstream.calls[0].body.stream_options, { include_usage: true });
    assert.ok(events.every((event) => event.usage === undefined));
    const text = events
      .map((e) => {
        const delta = (e.choices as JsonObject[])[0]?.delta as { content?: string } | undefined;
        return delta?.content ?? '';
      })
      .join('');
    assert.equal(text, 'Hello from the fake upstream.');
    assert.equal((await answer.usage).source, 'reported');
    assert.equal((await answer.usage).outputTokens, 6);
  });

  it('passes the usage chunk to a client that asked for it', async () => {
    const request = chatRequest({
      stream: true,
      clientWantsStreamUsage: true,
      body: {
        model: 'gpt-4',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
      },
    });
    const answer = (await invoke(request)) as StreamAnswer;
    const events = await collect(answer);
    const last = events.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal((last.usage as JsonObject).total_tokens, 18);
  });

  it("reads DeepSeek's cache hits (prompt_cache_hit_tokens) as cached input, JSON and streamed", async () => {
    // DeepSeek reports its cache in its own fields, not OpenAI's prompt_tokens_details.
    const deepSeekUsage = {
      prompt_tokens: 1000,
      completion_tokens: 6,
      total_tokens: 1006,
      prompt_cache_hit_tokens: 900,
      prompt_cache_miss_tokens: 100,
    };
    upstream.reportUsage(deepSeekUsage);
    const deepseek = { ...target, provider: 'deepseek' };
    const signal = new AbortController().signal;
    const json = await adapter.invoke({ request: chatRequest(), target: deepseek, signal });
    assert.deepEqual(json.usage, {
      inputTokens: 1000,
      outputTokens: 6,
      cachedInputTokens: 900,
      source: 'reported',
    });
    const streamed = (await adapter.invoke({
      request: chatRequest({
        stream: true,
        body: { model: 'deepseek-chat', stream: true, messages: [{ role: 'user', content: 'hi' }] },
      }),
      target: deepseek,
      signal,
    })) as StreamAnswer;
    await collect(streamed);
    assert.equal((await streamed.usage).cachedInputTokens, 900);
  });

  it('gives Mistral tool call ids it takes (9 of a-z, A-Z, 0-9), the same for a call and its result', async () => {
    // Mistral answers 400 "Tool call id was call_... but must be a-z, A-Z, 0-9, with a length
    // of 9" to a conversation begun on OpenAI or Anthropic (failover, or the client's own ids).
    const messages = [
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_Xy12abCD34ef', type: 'function', function: { name: 'w', arguments: '{}' } },
          { id: 'toolu_01AbC', type: 'function', function: { name: 'w', arguments: '{}' } },
          { id: 'abcDEF123', type: 'function', function: { name: 'w', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_Xy12abCD34ef', content: 'sunny' },
      { role: 'tool', tool_call_id: 'toolu_01AbC', content: 'rain' },
      { role: 'tool', tool_call_id: 'abcDEF123', content: 'snow' },
    ];
    const body = { model: 'mistral-large-latest', messages };
    await invoke(chatRequest({ body }), 'mistral');
    const sent = upstream.calls[0].body.messages as JsonObject[];
    const callIds = (sent[1].tool_calls as JsonObject[]).map((call) => call.id as string);
    const resultIds = sent.slice(2).map((message) => message.tool_call_id as string);
    for (const id of callIds) assert.match(id, /^[a-zA-Z0-9]{9}$/);
    assert.deepEqual(resultIds, callIds);
    assert.equal(callIds[2], 'abcDEF123');
    assert.notEqual(callIds[0], callIds[1]);
    // Other backends get the ids as the client sent them.
    upstream.reset();
    await invoke(chatRequest({ body }));
    const plain = upstream.calls[0].body.messages as JsonObject[];
    assert.equal((plain[1].tool_calls as JsonObject[])[0].id, 'call_Xy12abCD34ef');
    assert.equal(plain[2].tool_call_id, 'call_Xy12abCD34ef');
  });

  it('sends Mistral seed as random_seed and max_completion_tokens as max_tokens, its names', async () => {
    // Mistral's request schema forbids fields it does not define (422 "Extra inputs are not
    // permitted"): OpenAI's seed and max_completion_tokens are random_seed and max_tokens there.
    const messages = [{ role: 'user', content: 'hi' }];
    const signal = new AbortController().signal;
    const mistral = { ...target, provider: 'mistral' };
    const sentFor = async (body: JsonObject, to = mistral) => {
      upstream.reset();
      await adapter.invoke({ request: chatRequest({ body }), target: to, signal });
      return upstream.calls[0].body;
    };
    const renamed = await sentFor({ model: 'm', messages, seed: 7, max_completion_tokens: 50 });
    assert.equal(renamed.random_seed, 7);
    assert.equal(renamed.max_tokens, 50);
    assert.equal('seed' in renamed, false);
    assert.equal('max_completion_tokens' in renamed, false);
    // A client's own random_seed and max_completion_tokens win over the other names.
    const both = await sentFor({
      model: 'm',
      messages,
      seed: 7,
      random_seed: 9,
      max_tokens: 80,
      max_completion_tokens: 50,
    });
    assert.equal(both.random_seed, 9);
    assert.equal(both.max_tokens, 50);
    assert.equal('seed' in both, false);
    // Other backends keep OpenAI's names.
    const vllm = await sentFor(
      { model: 'm', messages, seed: 7, max_completion_tokens: 50 },
      target,
    );
    assert.equal(vllm.seed, 7);
    assert.equal(vllm.max_completion_tokens, 50);
  });

  it('sends max_completion_tokens as max_tokens where only max_tokens is defined (DeepSeek, Together)', async () => {
    // DeepSeek's and Together's chat APIs define max_tokens alone: sent as-is, the cap the
    // budget hold assumed did not bound the answer. Groq and vLLM define both names.
    const messages = [{ role: 'user', content: 'hi' }];
    const signal = new AbortController().signal;
    const sentFor = async (provider: string, body: JsonObject) => {
      upstream.reset();
      const to = { ...target, provider };
      await adapter.invoke({ request: chatRequest({ body }), target: to, signal });
      return upstream.calls[0].body;
    };
    for (const provider of ['deepseek', 'together']) {
      const renamed = await sentFor(provider, { model: 'm', messages, max_completion_tokens: 50 });
      assert.equal(renamed.max_tokens, 50, provider);
      assert.equal('max_completion_tokens' in renamed, false, provider);
      // Both sent: max_completion_tokens wins, as the budget hold reserved for it.
      const both = await sentFor(provider, {
        model: 'm',
        messages,
        max_tokens: 80,
        max_completion_tokens: 50,
      });
      assert.equal(both.max_tokens, 50, provider);
      assert.equal('max_completion_tokens' in both, false, provider);
      const own = await sentFor(provider, { model: 'm', messages, max_tokens: 80 });
      assert.equal(own.max_tokens, 80, provider);
    }
    for (const provider of ['groq', 'vllm']) {
      const kept = await sentFor(provider, { model: 'm', messages, max_completion_tokens: 50 });
      assert.equal(kept.max_completion_tokens, 50, provider);
      assert.equal('max_tokens' in kept, false, provider);
    }
  });

  it('leaves service_tier out for providers that define none and reports it unsupported', async () => {
    // Mistral refuses a field it does not define (422); DeepSeek and Together define no tier.
    // Groq defines service_tier (on_demand, flex, auto), as OpenAI does.
    const family = defaultProviderAdapters().find((each) => each.canHandle('mistral'));
    if (!family) return assert.fail('no OpenAI-compatible adapter among the defaults');
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], service_tier: 'flex' };
    const signal = new AbortController().signal;
    for (const provider of ['mistral', 'deepseek', 'together', 'groq', 'vllm']) {
      upstream.reset();
      const to = { ...target, provider };
      const answer = await family.invoke({ request: chatRequest({ body }), target: to, signal });
      const sent = upstream.calls[0].body;
      const takesTier = provider === 'groq' || provider === 'vllm';
      assert.equal(sent.service_tier, takesTier ? 'flex' : undefined, provider);
      assert.deepEqual(
        answer.servedBy.droppedSettings,
        takesTier ? undefined : [{ setting: 'service_tier', reason: 'unsupported' }],
        provider,
      );
    }
  });

  it("sends Groq OpenAI's default tier as its on_demand, and leaves out (reported) a tier it lacks", async () => {
    // Groq's tiers are auto, on_demand (its default), flex and performance; another value is
    // a 400. The Messages edge writes Claude's standard_only as OpenAI's default.
    const family = defaultProviderAdapters().find((each) => each.canHandle('groq'));
    if (!family) return assert.fail('no OpenAI-compatible adapter among the defaults');
    const signal = new AbortController().signal;
    const to = { ...target, provider: 'groq' };
    const cases: [string, string | undefined][] = [
      ['default', 'on_demand'],
      ['auto', 'auto'],
      ['flex', 'flex'],
      ['performance', 'performance'],
      ['priority', undefined],
      ['scale', undefined],
    ];
    for (const [asked, sentTier] of cases) {
      upstream.reset();
      const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], service_tier: asked };
      const answer = await family.invoke({ request: chatRequest({ body }), target: to, signal });
      assert.equal(upstream.calls[0].body.service_tier, sentTier, asked);
      assert.deepEqual(
        answer.servedBy.droppedSettings,
        sentTier === undefined ? [{ setting: 'service_tier', reason: 'unsupported' }] : undefined,
        asked,
      );
    }
  });

  it('sends Mistral streams no stream_options, a field it refuses (it reports usage unasked)', async () => {
    // Mistral: 422 "Extra inputs are not permitted" on body.stream_options.include_usage.
    const request = chatRequest({
      stream: true,
      clientWantsStreamUsage: true,
      body: {
        model: 'mistral-large-latest',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
      },
    });
    const answer = (await invoke(request, 'mistral')) as StreamAnswer;
    await collect(answer);
    assert.equal('stream_options' in upstream.calls[0].body, false);
    // Every other backend is still asked for the usage chunk.
    upstream.reset();
    await collect((await invoke(request)) as StreamAnswer);
    assert.deepEqual(upstream.calls[0].body.stream_options, { include_usage: true });
  });

  it('sends DeepSeek back the reasoning_content of its tool-call turns, which thinking mode requires', async () => {
    // DeepSeek in thinking mode: 400 "The reasoning_content in the thinking mode must be
    // passed back to the API" when a tool-call turn comes back without it.
    const messages = [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Hello.', reasoning_content: 'Just greet.' },
      {
        role: 'assistant',
        content: '',
        reasoning_content: 'I need the weather tool.',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'w', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ];
    const body = { model: 'deepseek-v4-pro', messages };
    await invoke(chatRequest({ body }), 'deepseek');
    const sent = upstream.calls[0].body.messages as JsonObject[];
    assert.equal(sent[2].reasoning_content, 'I need the weather tool.');
    // A turn without tool calls needs none (DeepSeek ignores it; older models refused it).
    assert.equal('reasoning_content' in sent[1], false);
    // Other backends get no reasoning_content at all (OpenAI refuses unknown fields).
    upstream.reset();
    await invoke(chatRequest({ body }));
    const plain = upstream.calls[0].body.messages as JsonObject[];
    assert.equal('reasoning_content' in plain[2], false);
  });

  it("gives DeepSeek a client's thinking as its own toggle, which turns thinking mode on or off", async () => {
    // DeepSeek's thinking mode is on by default (V4) and switched by `thinking: {"type":
    // "enabled" | "disabled"}`; left out, a client that turned it off is answered (and billed)
    // with reasoning all the same.
    const asked: [JsonObject, JsonObject][] = [
      [{ type: 'disabled' }, { type: 'disabled' }],
      [{ type: 'enabled', budget_tokens: 2048 }, { type: 'enabled' }],
      [{ type: 'adaptive', display: 'summarized' }, { type: 'enabled' }],
    ];
    for (const [thinking, sent] of asked) {
      upstream.reset();
      const body = {
        model: 'deepseek-v4-pro',
        messages: [{ role: 'user', content: 'hi' }],
        thinking,
      };
      await invoke(chatRequest({ body }), 'deepseek');
      assert.deepEqual(upstream.calls[0].body.thinking, sent, JSON.stringify(thinking));
    }
    // OpenAI's effort `none` (no reasoning, as the Responses API and gpt-5.1 name it) is that
    // toggle off: DeepSeek's efforts are high and max, thinking on.
    upstream.reset();
    const none = { model: 'deepseek-v4-pro', messages: [{ role: 'user', content: 'hi' }] };
    await invoke(chatRequest({ body: { ...none, reasoning_effort: 'none' } }), 'deepseek');
    assert.deepEqual(upstream.calls[0].body.thinking, { type: 'disabled' });
    assert.equal('reasoning_effort' in upstream.calls[0].body, false);
    // Other backends of the family define no such field (OpenAI refuses it).
    upstream.reset();
    const body = {
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      thinking: { type: 'disabled' },
    };
    await invoke(chatRequest({ body }));
    assert.equal('thinking' in upstream.calls[0].body, false);
  });

  it("sends Mistral none of OpenAI's hint fields it refuses (user, safety_identifier, ...)", async () => {
    // The openai SDKs' user, and what the Responses edge forwards, are 422s at Mistral.
    const body = {
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      user: 'u-1',
      safety_identifier: 'hash-1',
      prompt_cache_retention: '24h',
      verbosity: 'low',
      store: false,
      prompt_cache_key: 'session-1',
      metadata: { team: 'a' },
    };
    await invoke(chatRequest({ body }), 'mistral');
    const sent = upstream.calls[0].body;
    for (const field of [
      'user',
      'safety_identifier',
      'prompt_cache_retention',
      'verbosity',
      'store',
    ]) {
      assert.equal(field in sent, false, field);
    }
    // Mistral's own fields of the same names go on.
    assert.equal(sent.prompt_cache_key, 'session-1');
    assert.deepEqual(sent.metadata, { team: 'a' });
    upstream.reset();
    await invoke(chatRequest({ body }));
    assert.equal(upstream.calls[0].body.user, 'u-1');
  });

  it("answers Mistral's finish_reason model_length as OpenAI's length in JSON", async () => {
    upstream.next({
      kind: 'status',
      status: 200,
      body: {
        id: 'c1',
        object: 'chat.completion',
        created: 1,
        model: 'mistral-large-latest',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hi' },
            finish_reason: 'model_length',
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      },
    });
    const answer = await invoke(chatRequest(), 'mistral');
    assert.equal(answer.kind, 'json');
    const choices = (answer as { body: JsonObject }).body.choices as JsonObject[];
    assert.equal(choices[0].finish_reason, 'length');
  });

  it('sends Groq messages without their name, a field it answers 400 to', async () => {
    // Groq's OpenAI compatibility page: messages[].name "will result in a 400 error".
    const body = {
      model: 'llama-3.3-70b-versatile',
      messages: [
        { role: 'system', content: 'Be brief.', name: 'planner' },
        { role: 'user', content: 'hi', name: 'alice' },
      ],
    };
    await invoke(chatRequest({ body }), 'groq');
    assert.deepEqual(upstream.calls[0].body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
    upstream.reset();
    await invoke(chatRequest({ body }));
    assert.equal((upstream.calls[0].body.messages as JsonObject[])[1].name, 'alice');
  });

  it("sends Groq none of OpenAI's newer hint fields, which it answers 400 to", async () => {
    // Groq refuses any field it does not define ("property 'prompt_cache_key' is
    // unsupported"); the Responses edge forwards these from every Codex request.
    const body = {
      model: 'openai/gpt-oss-120b',
      messages: [{ role: 'user', content: 'hi' }],
      prompt_cache_key: 'session-1',
      prompt_cache_retention: '24h',
      safety_identifier: 'hash-1',
      verbosity: 'low',
      user: 'u-1',
      service_tier: 'flex',
    };
    await invoke(chatRequest({ body }), 'groq');
    const sent = upstream.calls[0].body;
    for (const field of ['prompt_cache_key', 'prompt_cache_retention', 'safety_identifier']) {
      assert.equal(field in sent, false, field);
    }
    assert.equal('verbosity' in sent, false);
    // Groq's own fields of the same names go on.
    assert.equal(sent.user, 'u-1');
    assert.equal(sent.service_tier, 'flex');
    upstream.reset();
    await invoke(chatRequest({ body }));
    assert.equal(upstream.calls[0].body.prompt_cache_key, 'session-1');
  });

  it('sends Mistral each message with only the fields Mistral defines for its role', async () => {
    // Mistral: 422 "Extra inputs are not permitted" on messages.N.user.name, and on the
    // refusal, annotations and audio an openai SDK client echoes back from an answer.
    const body = {
      model: 'mistral-large-latest',
      messages: [
        { role: 'system', content: 'Be brief.', name: 'rules' },
        { role: 'user', content: 'hi', name: 'alice' },
        { role: 'assistant', content: 'Hello.', refusal: null, annotations: [], audio: null },
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [
            { id: 'abcDEF123', type: 'function', function: { name: 'w', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'abcDEF123', name: 'w', content: 'sunny' },
        { role: 'tool', tool_call_id: 'abcDEF123', content: 'no such city', is_error: true },
      ],
    };
    await invoke(chatRequest({ body }), 'mistral');
    assert.deepEqual(upstream.calls[0].body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'abcDEF123', type: 'function', function: { name: 'w', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'abcDEF123', name: 'w', content: 'sunny' },
      // A Messages client's failed tool result still says so, as on every OpenAI backend.
      { role: 'tool', tool_call_id: 'abcDEF123', content: 'Error: no such city' },
    ]);
  });

  it('sends Mistral a developer message as a system one, the role it knows', async () => {
    // OpenAI's newer name for system instructions; Mistral's roles are system, user,
    // assistant and tool, and it refuses a message of any other (422).
    const body = {
      model: 'mistral-large-latest',
      messages: [
        { role: 'developer', content: 'Answer in French.', name: 'ops' },
        { role: 'user', content: 'hi' },
      ],
    };
    await invoke(chatRequest({ body }), 'mistral');
    assert.deepEqual(upstream.calls[0].body.messages, [
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  /** The messages a Mistral backend was sent for `messages`: plain, then streamed. */
  const sentToMistral = async (messages: JsonObject[]): Promise<[unknown, unknown]> => {
    const model = 'mistral-large-latest';
    upstream.reset();
    await invoke(chatRequest({ body: { model, messages } }), 'mistral');
    const plain = upstream.calls[0].body.messages;
    upstream.reset();
    const streamed = chatRequest({ stream: true, body: { model, stream: true, messages } });
    await collect((await invoke(streamed, 'mistral')) as StreamAnswer);
    return [plain, upstream.calls[0].body.messages];
  };

  it('sends Mistral a last assistant message as a prefix to continue, plain and streamed', async () => {
    // Mistral: 400 "Expected last role User or Tool (or Assistant with prefix True)"; its
    // chat API documents `prefix: true` on a last assistant message as "start the answer
    // with this", what a client ending on an assistant message (a prefill) asks for.
    const messages = [
      { role: 'user', content: 'A haiku about rain?' },
      { role: 'assistant', content: 'Soft rain on the roof,', prefix: true },
      { role: 'user', content: 'Now one about snow.' },
      { role: 'assistant', content: 'White hush' },
    ];
    const expected = [
      { role: 'user', content: 'A haiku about rain?' },
      // Mistral refuses prefix on any message but the last.
      { role: 'assistant', content: 'Soft rain on the roof,' },
      { role: 'user', content: 'Now one about snow.' },
      { role: 'assistant', content: 'White hush', prefix: true },
    ];
    const [plain, streamed] = await sentToMistral(messages);
    assert.deepEqual(plain, expected);
    assert.deepEqual(streamed, expected);
    // Other backends get the client's messages as they came.
    upstream.reset();
    await invoke(chatRequest({ body: { model: 'm', messages } }));
    assert.deepEqual(upstream.calls[0].body.messages, messages);
  });

  it('leaves a last assistant message Mistral could not continue, and a prefix the client set, as they are', async () => {
    const ends = [
      // A client's own prefix: false stays its choice.
      { role: 'assistant', content: 'Sure', prefix: false },
      // Nothing to continue: Mistral refuses an empty prefix.
      { role: 'assistant', content: '' },
      // Tool calls without their results are no prefix.
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'abcDEF123', type: 'function', function: { name: 'w', arguments: '{}' } },
        ],
      },
    ];
    for (const end of ends) {
      upstream.reset();
      const messages = [{ role: 'user', content: 'hi' }, end];
      await invoke(chatRequest({ body: { model: 'mistral-large-latest', messages } }), 'mistral');
      assert.deepEqual(upstream.calls[0].body.messages, messages, JSON.stringify(end));
    }
  });

  it('sends Mistral an assistant turn between a tool result and the user message after it', async () => {
    // Mistral: 400 "Unexpected role 'user' after role 'tool'" (invalid_request_message_order):
    // after a tool result it takes only another result or an assistant turn. A client that
    // speaks before the model answered the results (or a Messages client's tool_result and
    // text in one user turn, split in two) sends exactly that.
    const toolCall = {
      id: 'abcDEF123',
      type: 'function',
      function: { name: 'w', arguments: '{}' },
    };
    const messages = [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: null, tool_calls: [toolCall] },
      { role: 'tool', tool_call_id: 'abcDEF123', content: 'sunny' },
      { role: 'user', content: 'and in Celsius?' },
      { role: 'assistant', content: null, tool_calls: [toolCall] },
      { role: 'tool', tool_call_id: 'abcDEF123', content: '21' },
      { role: 'user', content: 'so?' },
    ];
    const bridge = { role: 'assistant', content: 'Tool results received.' };
    const expected = [
      ...messages.slice(0, 3),
      bridge,
      ...messages.slice(3, 6),
      bridge,
      { role: 'user', content: 'so?' },
    ];
    const [plain, streamed] = await sentToMistral(messages);
    assert.deepEqual(plain, expected);
    assert.deepEqual(streamed, expected);
    // A result followed by the model's answer, or by another result, needs no bridge.
    upstream.reset();
    const answered = [...messages.slice(0, 3), { role: 'assistant', content: 'Sunny.' }];
    await invoke(
      chatRequest({
        body: { model: 'mistral-large-latest', messages: [...answered, messages[3]] },
      }),
      'mistral',
    );
    assert.deepEqual(upstream.calls[0].body.messages, [...answered, messages[3]]);
  });

  it("sends DeepSeek a tool-call turn's thinking blocks as its reasoning_content, as a Messages client carries it", async () => {
    // The Messages edge carries an assistant turn's reasoning as thinking_blocks alone
    // (DeepSeek's came back unsigned); DeepSeek wants it as reasoning_content or answers 400.
    const call = { id: 'toolu_1', type: 'function', function: { name: 'w', arguments: '{}' } };
    const messages = [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [call],
        thinking_blocks: [
          { type: 'thinking', thinking: 'I need the weather tool.', signature: '' },
          { type: 'redacted_thinking', data: 'ZW5j' },
          { type: 'thinking', thinking: 'Paris it is.', signature: '' },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ ...call, id: 'toolu_2' }],
        reasoning_content: 'Once more.',
        thinking_blocks: [{ type: 'thinking', thinking: 'Not this.', signature: '' }],
      },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'still sunny' },
      {
        role: 'assistant',
        content: 'Sunny.',
        thinking_blocks: [{ type: 'thinking', thinking: 'Done.', signature: '' }],
      },
      { role: 'user', content: 'And now?' },
    ];
    const body = { model: 'deepseek-v4-pro', messages };
    const signal = new AbortController().signal;
    await adapter.invoke({
      request: chatRequest({ body }),
      target: { ...target, provider: 'deepseek' },
      signal,
    });
    const sent = upstream.calls[0].body.messages as JsonObject[];
    assert.equal(sent[1].reasoning_content, 'I need the weather tool.\n\nParis it is.');
    assert.equal('thinking_blocks' in sent[1], false);
    // reasoning_content the turn carries wins over its blocks.
    assert.equal(sent[3].reasoning_content, 'Once more.');
    // A turn without tool calls needs none.
    assert.equal('reasoning_content' in sent[5], false);
    // Other backends get neither field.
    upstream.reset();
    await adapter.invoke({ request: chatRequest({ body }), target, signal });
    const plain = upstream.calls[0].body.messages as JsonObject[];
    assert.equal('reasoning_content' in plain[1], false);
    assert.equal('thinking_blocks' in plain[1], false);
  });

  it('turns a stream cut before [DONE] into an error and still settles usage', async () => {
    upstream.next({ kind: 'break-stream', afterChunks: 2 });
    const request = chatRequest({
      stream: true,
      body: { model: 'gpt-4', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    });
    const answer = (await invoke(request)) as StreamAnswer;
    await assert.rejects(
      collect(answer),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.StreamInterrupted,
    );
    const usage = await answer.usage;
    assert.equal(usage.source, 'estimated');
  });

  for (const [status, code] of [
    [429, DataPlaneErrorCode.UpstreamRateLimited],
    [500, DataPlaneErrorCode.UpstreamError],
    [503, DataPlaneErrorCode.UpstreamError],
    [400, DataPlaneErrorCode.UpstreamRejected],
  ] as const) {
    it(`maps an upstream ${status} to ${code}`, async () => {
      upstream.next({ kind: 'status', status, headers: { 'retry-after': '7' } });
      await assert.rejects(
        invoke(chatRequest()),
        (error: unknown) =>
          error instanceof DataPlaneError && error.code === code && error.upstreamStatus === status,
      );
    });
  }

  it('reads Retry-After on a 429', async () => {
    upstream.next({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    await assert.rejects(
      invoke(chatRequest()),
      (error: unknown) => error instanceof DataPlaneError && error.retryAfterMs === 7000,
    );
  });

  it('never echoes a key from an upstream error message', async () => {
    upstream.next({
      kind: 'status',
      status: 401,
      body: { error: { message: 'Incorrect API key provided: sk-test-secret-key' } },
    });
    await assert.rejects(
      invoke(chatRequest()),
      (error: unknown) =>
        error instanceof Error &&
        !error.message.includes('sk-test-secret-key') &&
        error.message.includes('[REDACTED]'),
    );
  });

  it('times out a backend that does not answer, as a timeout', async () => {
    upstream.next({ kind: 'hang' });
    await assert.rejects(
      invoke(chatRequest()),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamTimeout,
    );
  });

  it('reports garbage as a bad response', async () => {
    upstream.next({ kind: 'garbage' });
    await assert.rejects(
      invoke(chatRequest()),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamBadResponse,
    );
  });

  it('reports a JSON answer without choices as a bad response, so it fails over', async () => {
    upstream.next({ kind: 'status', status: 200, body: { id: 'x', object: 'chat.completion' } });
    await assert.rejects(
      invoke(chatRequest()),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.UpstreamBadResponse &&
        error.message.includes('without its "choices" list'),
    );
  });

  it('reports a refused connection as an error', async () => {
    const closed = { ...target, baseUrl: 'http://127.0.0.1:1/v1' };
    await assert.rejects(
      adapter.invoke({
        request: chatRequest(),
        target: closed,
        signal: new AbortController().signal,
      }),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamError,
    );
  });
});

describe('OpenAiCompatibleAdapter against a stream of events that are not chunks', () => {
  const raw = new RawSseUpstream({ basePath: '/v1' });
  let target: UpstreamTarget;
  const adapter = new OpenAiCompatibleAdapter();

  before(async () => {
    await raw.start();
    target = upstreamTarget(
      { provider: 'vllm', model: 'served-model', baseUrl: raw.baseUrl },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'sk-test-secret-key' },
    );
  });
  after(() => raw.stop());

  /** A call of `request` to the raw backend, as `provider` when one is named. */
  const invoke = (request: GatewayRequest, provider?: string) =>
    adapter.invoke({
      request,
      target: provider === undefined ? target : { ...target, provider },
      signal: new AbortController().signal,
    });

  const chunk = (choices: unknown[]) =>
    JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'm', choices });

  for (const data of ['null', '42', '"text"', '[]']) {
    it(`ends the stream with an explicit error on an event that is ${data}, not a chunk`, async () => {
      raw.next([chunk([{ index: 0, delta: { content: 'Hi' } }]), data, '[DONE]']);
      const answer = await invoke(chatRequest({ stream: true }));
      assert.equal(answer.kind, 'stream');
      const relayed: JsonObject[] = [];
      await assert.rejects(
        async () => {
          for await (const event of answer.events) relayed.push(event);
        },
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.StreamInterrupted &&
          /not a JSON object/.test(error.message),
      );
      assert.equal(relayed.length, 1, 'the chunk before it went through, nothing after');
    });
  }

  it('reads the usage Mistral puts on its last chunk, beside the finish, and hides it when not asked', async () => {
    raw.next([
      chunk([{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }]),
      JSON.stringify({
        id: 'c1',
        object: 'chat.completion.chunk',
        model: 'm',
        choices: [{ index: 0, delta: { content: '' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
      }),
      '[DONE]',
    ]);
    const answer = (await invoke(chatRequest({ stream: true }), 'mistral')) as StreamAnswer;
    const events = await collect(answer);
    assert.equal(events.length, 2);
    assert.ok(events.every((event) => event.usage === undefined));
    assert.deepEqual(await answer.usage, {
      inputTokens: 9,
      outputTokens: 2,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it('reads the usage Groq puts in x_groq on its last chunk', async () => {
    raw.next([
      chunk([{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }]),
      JSON.stringify({
        id: 'c1',
        object: 'chat.completion.chunk',
        model: 'm',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        x_groq: {
          id: 'req_1',
          usage: { prompt_tokens: 30, completion_tokens: 4, total_tokens: 34 },
        },
      }),
      '[DONE]',
    ]);
    const answer = (await invoke(chatRequest({ stream: true }), 'groq')) as StreamAnswer;
    await collect(answer);
    assert.deepEqual(await answer.usage, {
      inputTokens: 30,
      outputTokens: 4,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it("answers Mistral's finish_reason model_length as OpenAI's length", async () => {
    // Mistral ends an answer cut by the model's context with model_length, a value OpenAI's
    // typed clients do not know (a parse error, or an unknown finish, not a cut answer).
    raw.next([
      chunk([{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'model_length' }]),
      '[DONE]',
    ]);
    const answer = (await invoke(chatRequest({ stream: true }), 'mistral')) as StreamAnswer;
    const events = await collect(answer);
    assert.equal((events[1].choices as JsonObject[])[0].finish_reason, 'length');
  });

  it('relays a chunk whose choices hold a null, without a TypeError', async () => {
    raw.next([
      chunk([null, { index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }]),
      '[DONE]',
    ]);
    const answer = await invoke(chatRequest({ stream: true }));
    const relayed = await collect(answer as StreamAnswer);
    assert.equal(relayed.length, 1);
    assert.ok((await (answer as StreamAnswer).usage).outputTokens > 0, 'the text was counted');
  });
});

describe("Google's OpenAI-compatible endpoints", () => {
  it('are told apart by host, so tool calls keep the extra_content Gemini 3 needs back', () => {
    for (const configured of [
      'https://generativelanguage.googleapis.com/v1beta/openai/',
      'https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/openapi',
    ]) {
      assert.equal(
        isGoogleEndpoint(resolveBaseUrl('openai-compatible', configured)),
        true,
        configured,
      );
    }
    for (const configured of [
      'https://api.openai.com/v1',
      'https://googleapis.com.evil.example/v1',
      'http://127.0.0.1:8000/v1',
    ]) {
      assert.equal(
        isGoogleEndpoint(resolveBaseUrl('openai-compatible', configured)),
        false,
        configured,
      );
    }
  });
});

describe('base URLs of self-hosted backends', () => {
  it("reach KServe's OpenAI routes at /openai/v1 when baseUrl is the InferenceService URL alone", () => {
    // KServe's Hugging Face runtime prefixes OpenAI's routes with /openai; its status.url
    // is the host alone, which took us to /v1/chat/completions, a 404.
    assert.equal(
      resolveBaseUrl('kserve', 'https://llama.ns.example.com'),
      'https://llama.ns.example.com/openai/v1',
    );
    assert.equal(
      resolveBaseUrl('kserve', 'https://llama.ns.example.com/'),
      'https://llama.ns.example.com/openai/v1',
    );
    // A path given (another route prefix, or none with KSERVE_OPENAI_ROUTE_PREFIX="") is kept.
    assert.equal(resolveBaseUrl('kserve', 'http://llama:8080/v1'), 'http://llama:8080/v1');
    assert.equal(resolveBaseUrl('vllm', 'http://vllm:8000'), 'http://vllm:8000/v1');
  });
});
