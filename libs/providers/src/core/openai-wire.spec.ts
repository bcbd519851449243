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
  FakeOpenAiUpstream,
  gatewayChatRequest,
  RawSseUpstream,
  streamedText,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { dollarsAt } from '@aigw/config';
import { invokeOpenAiWire } from './openai-wire';
import { takeSpentUsage } from './spent-usage';
import { countTokens } from './tokenizer';
import { toolNameAlias } from './tool-name-aliases';
import { sharedUpstreamAgent } from './upstream-http';

const KEY = { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'sk-test' };

/** A second turn to DeepSeek, carrying back the reasoning the gateway answered with. */
function deepSeekFollowUp(extra: JsonObject = {}): GatewayRequest {
  return gatewayChatRequest({
    reasoning_effort: 'high',
    thinking: { type: 'enabled', budget_tokens: 4096 },
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
    ...extra,
  });
}

describe('invokeOpenAiWire against a fake OpenAI-format backend', () => {
  const upstream = new FakeOpenAiUpstream();
  let target: UpstreamTarget;
  const invoke = (request: GatewayRequest) =>
    invokeOpenAiWire(
      { request, target, signal: new AbortController().signal },
      { url: `${upstream.baseUrl}/chat/completions` },
      sharedUpstreamAgent(),
    );

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'deepseek', model: 'deepseek-reasoner', baseUrl: upstream.baseUrl },
      KEY,
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  for (const stream of [false, true]) {
    it(`sends a history without the gateway's reasoning fields, with reasoning_effort (stream: ${stream})`, async () => {
      const request = deepSeekFollowUp({ stream });
      const answer = await invoke(request);
      if (answer.kind === 'stream') await collectStream(answer);
      const sent = upstream.calls[0].body;
      assert.deepEqual(sent.messages, [
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: '4' },
        { role: 'user', content: 'And 3+3?' },
      ]);
      assert.equal(sent.reasoning_effort, 'high');
      assert.equal('thinking' in sent, false);
      assert.equal(sent.model, 'deepseek-reasoner');
      // The client's request keeps them: a failover to Anthropic still needs the blocks.
      assert.match(JSON.stringify(request.body), /thinking_blocks/);
    });
  }

  it("sends a tool call's extra_content only to an endpoint that keeps it (Google's)", async () => {
    const call = {
      id: 'call_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '{}' },
      extra_content: { google: { thought_signature: 'CqUBAdHtim9s' } },
    };
    const request = gatewayChatRequest({
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'call_1', content: '18' },
      ],
    });
    const url = `${upstream.baseUrl}/chat/completions`;
    for (const keepsToolCallExtras of [false, true]) {
      await invokeOpenAiWire(
        { request, target, signal: new AbortController().signal },
        { url, keepsToolCallExtras },
        sharedUpstreamAgent(),
      );
      const sent = upstream.calls.at(-1)!.body.messages as JsonObject[];
      const [sentCall] = sent[1].tool_calls as JsonObject[];
      assert.equal('extra_content' in sentCall, keepsToolCallExtras);
      assert.deepEqual(sentCall.function, call.function);
    }
  });

  // Found by the bad-input fuzz suite: each was sent on, and a lenient backend answered it.
  it('refuses an embeddings input or a completion prompt OpenAI would not take, sending nothing', async () => {
    const cases: ['embeddings' | 'completions', JsonObject][] = [
      ['embeddings', { input: 9007199254740992 }],
      ['embeddings', { input: true }],
      ['embeddings', { input: {} }],
      ['embeddings', { input: [] }],
      ['embeddings', { input: ['a', 1] }],
      ['embeddings', { input: [[1, 2], ['a']] }],
      ['completions', { prompt: 5 }],
      ['completions', { prompt: { text: 'hi' } }],
    ];
    for (const [operation, fields] of cases) {
      const request = gatewayChatRequest({ messages: undefined, ...fields }, { operation });
      const url = `${upstream.baseUrl}/${operation}`;
      const field = operation === 'embeddings' ? 'input' : 'prompt';
      await assert.rejects(
        invokeOpenAiWire(
          { request, target, signal: new AbortController().signal },
          { url },
          sharedUpstreamAgent(),
        ),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === field,
        JSON.stringify(fields),
      );
    }
    assert.equal(upstream.calls.length, 0);
    for (const input of ['a', ['a', 'b'], [1, 2], [[1], [2, 3]]]) {
      const request = gatewayChatRequest(
        { messages: undefined, input },
        { operation: 'embeddings' },
      );
      const answer = await invokeOpenAiWire(
        { request, target, signal: new AbortController().signal },
        { url: `${upstream.baseUrl}/embeddings` },
        sharedUpstreamAgent(),
      );
      assert.equal(answer.kind, 'json', JSON.stringify(input));
    }
  });
});

describe('invokeOpenAiWire on an embeddings backend (Ollama, Infinity, other compatible servers)', () => {
  const upstream = new FakeOpenAiUpstream();
  before(() => upstream.start());
  after(() => upstream.stop());

  const embed = (body: JsonObject) =>
    invokeOpenAiWire(
      {
        request: gatewayChatRequest({ messages: undefined, ...body }, { operation: 'embeddings' }),
        target: upstreamTarget({
          provider: 'openai-compatible',
          model: 'nomic-embed-text',
          baseUrl: upstream.baseUrl,
        }),
        signal: new AbortController().signal,
      },
      { url: `${upstream.baseUrl}/embeddings` },
      sharedUpstreamAgent(),
    );

  it('estimates the input alone of an answer without usage: an embedding generates no output tokens', async () => {
    upstream.next({
      kind: 'status',
      status: 200,
      body: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.5] }] },
    });
    const answer = await embed({ input: 'hello world' });
    if (answer.kind !== 'json') return assert.fail('expected a JSON answer');
    assert.deepEqual(answer.usage, {
      inputTokens: countTokens('hello world'),
      outputTokens: 0,
      cachedInputTokens: 0,
      source: 'estimated',
    });
  });

  it('refuses vectors of another size than asked, naming dimensions, the call still billed', async () => {
    // The fake answers three floats a vector, whatever is asked.
    const refusal = await embed({ input: ['a', 'b'], dimensions: 2 }).then(
      () => assert.fail('answered vectors of 3 to a request for 2'),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof DataPlaneError);
    assert.equal(refusal.code, DataPlaneErrorCode.InvalidRequest);
    assert.equal(refusal.param, 'dimensions');
    assert.match(refusal.message, /3 dimensions, not the 2 asked for/);
    assert.deepEqual(takeSpentUsage(refusal), {
      inputTokens: 4,
      outputTokens: 0,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it('answers vectors of the size asked, and any size when none is', async () => {
    for (const body of [{ input: 'a', dimensions: 3 }, { input: 'a' }]) {
      const answer = await embed(body);
      if (answer.kind !== 'json') return assert.fail('expected a JSON answer');
      assert.deepEqual((answer.body.data as JsonObject[])[0].embedding, [0.1, 0.2, 0.3]);
    }
  });
});

describe('invokeOpenAiWire on a reasoning stream that reports no usage', () => {
  const raw = new RawSseUpstream({ basePath: '/v1' });
  let target: UpstreamTarget;

  before(async () => {
    await raw.start();
    target = upstreamTarget({ provider: 'vllm', model: 'r1', baseUrl: raw.baseUrl }, KEY);
  });
  after(() => raw.stop());

  const chunk = (delta: JsonObject, finish: string | null = null) => ({
    id: 'c1',
    object: 'chat.completion.chunk',
    model: 'r1',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  it('counts delta.reasoning_content as output in the estimate', async () => {
    const reasoning = ['The user wants a greeting.', ' A short one will do.'];
    raw.next([
      chunk({ role: 'assistant', content: '' }),
      ...reasoning.map((fragment) => chunk({ reasoning_content: fragment, content: null })),
      chunk({ content: 'Hi' }, 'stop'),
      '[DONE]',
    ]);
    const request = gatewayChatRequest({ stream: true });
    const answer = (await invokeOpenAiWire(
      { request, target, signal: new AbortController().signal },
      { url: `${raw.baseUrl}/chat/completions` },
      sharedUpstreamAgent(),
    )) as StreamAnswer;
    const chunks = await collectStream(answer);
    assert.equal(streamedText(chunks), 'Hi');
    const usage = await answer.usage;
    assert.equal(usage.source, 'estimated');
    assert.equal(usage.outputTokens, countTokens(`${reasoning.join('')}Hi`));
  });
  it('counts delta.reasoning (vLLM from 0.11, Groq, Ollama) as output in the estimate, once', async () => {
    // vLLM renamed reasoning_content to reasoning; Groq and Ollama stream it by that name. A
    // chunk carrying both (vLLM's transition) holds the same text twice: it is counted once.
    const reasoning = ['The user wants a greeting.', ' A short one will do.'];
    raw.next([
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning: reasoning[0], content: null }),
      chunk({ reasoning: reasoning[1], reasoning_content: reasoning[1], content: null }),
      chunk({ content: 'Hi' }, 'stop'),
      '[DONE]',
    ]);
    const request = gatewayChatRequest({ stream: true });
    const answer = (await invokeOpenAiWire(
      { request, target, signal: new AbortController().signal },
      { url: `${raw.baseUrl}/chat/completions` },
      sharedUpstreamAgent(),
    )) as StreamAnswer;
    await collectStream(answer);
    const usage = await answer.usage;
    assert.equal(usage.source, 'estimated');
    assert.equal(usage.outputTokens, countTokens(`${reasoning.join('')}Hi`));
  });

  it("counts a streamed tool call's name and arguments as output in the estimate", async () => {
    // A backend that reports no usage, or a stream cut before it: an answer that only
    // called tools generated the call all the same, as a translated stream counts it.
    raw.next([
      chunk({ role: 'assistant', content: null }),
      chunk({
        tool_calls: [
          {
            index: 0,
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '' },
          },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Par' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'is, France"}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]);
    const request = gatewayChatRequest({ stream: true });
    const answer = (await invokeOpenAiWire(
      { request, target, signal: new AbortController().signal },
      { url: `${raw.baseUrl}/chat/completions` },
      sharedUpstreamAgent(),
    )) as StreamAnswer;
    await collectStream(answer);
    const usage = await answer.usage;
    assert.equal(usage.source, 'estimated');
    assert.equal(usage.outputTokens, countTokens('get_weather{"city": "Paris, France"}'));
  });
  // Found by the fuzz suite: the Gemini edge's stream translator read each fragment and
  // failed with a TypeError (an internal error) on a null one.
  it('interrupts a stream whose tool call fragment is not an object', async () => {
    for (const calls of [[null], [{ index: 0, function: 5 }], ['x']]) {
      raw.next([
        chunk({ role: 'assistant', content: null }),
        chunk({ tool_calls: calls }),
        '[DONE]',
      ]);
      const request = gatewayChatRequest({ stream: true });
      const answer = (await invokeOpenAiWire(
        { request, target, signal: new AbortController().signal },
        { url: `${raw.baseUrl}/chat/completions` },
        sharedUpstreamAgent(),
      )) as StreamAnswer;
      await assert.rejects(
        collectStream(answer),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.StreamInterrupted &&
          /tool call fragment/.test(error.message),
        JSON.stringify(calls),
      );
    }
    raw.next([
      chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f' } }] }, 'tool_calls'),
      '[DONE]',
    ]);
    const request = gatewayChatRequest({ stream: true });
    const answer = (await invokeOpenAiWire(
      { request, target, signal: new AbortController().signal },
      { url: `${raw.baseUrl}/chat/completions` },
      sharedUpstreamAgent(),
    )) as StreamAnswer;
    assert.equal((await collectStream(answer)).length, 1);
  });
});

describe('invokeOpenAiWire on a stream whose choice never finished, or failed', () => {
  const raw = new RawSseUpstream({ basePath: '/v1' });
  let target: UpstreamTarget;

  before(async () => {
    await raw.start();
    target = upstreamTarget({ provider: 'vllm', model: 'm', baseUrl: raw.baseUrl }, KEY);
  });
  after(() => raw.stop());

  const chunk = (index: number, delta: JsonObject, finish: string | null = null) => ({
    id: 'c1',
    object: 'chat.completion.chunk',
    model: 'm',
    choices: [{ index, delta, finish_reason: finish }],
  });
  const invoke = async () =>
    (await invokeOpenAiWire(
      {
        request: gatewayChatRequest({ stream: true }),
        target,
        signal: new AbortController().signal,
      },
      { url: `${raw.baseUrl}/chat/completions` },
      sharedUpstreamAgent(),
    )) as StreamAnswer;
  const cut = (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.StreamInterrupted &&
    /ended the stream without a finish_reason/.test(error.message);

  it('interrupts it after relaying what came, and estimates the usage of that text', async () => {
    raw.next([
      chunk(0, { role: 'assistant', content: '' }),
      chunk(0, { content: 'Half an' }),
      '[DONE]',
    ]);
    const answer = await invoke();
    const relayed: JsonObject[] = [];
    await assert.rejects(async () => {
      for await (const event of answer.events) relayed.push(event);
    }, cut);
    assert.equal(streamedText(relayed), 'Half an');
    const usage = await answer.usage;
    assert.equal(usage.source, 'estimated');
    assert.equal(usage.outputTokens, countTokens('Half an'));
  });

  it('interrupts it at a choice finished as failed (finish_reason "error", or an error on it)', async () => {
    const failed = [
      chunk(0, {}, 'error'),
      { ...chunk(0, {}), choices: [{ index: 0, delta: {}, error: { message: 'upstream died' } }] },
      // DeepSeek's: generation cut for want of inference resources.
      chunk(0, {}, 'insufficient_system_resource'),
    ];
    for (const last of failed) {
      raw.next([chunk(0, { content: 'Half an' }), last, '[DONE]']);
      const answer = await invoke();
      const relayed: JsonObject[] = [];
      await assert.rejects(
        async () => {
          for await (const event of answer.events) relayed.push(event);
        },
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.StreamInterrupted &&
          /finished a choice with an error/.test(error.message),
      );
      assert.equal(streamedText(relayed), 'Half an', JSON.stringify(last));
      assert.equal((await answer.usage).outputTokens, countTokens('Half an'));
    }
  });

  it('answers an error object before the first chunk with the status its code or type means', async () => {
    const before: [unknown, DataPlaneErrorCode, number][] = [
      // OpenAI's own rate limit: its type names the limit, its code says what it is.
      [
        {
          message: 'Rate limit reached',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
        DataPlaneErrorCode.UpstreamRateLimited,
        429,
      ],
      [{ type: 'rate_limit_error', code: null }, DataPlaneErrorCode.UpstreamRateLimited, 429],
      [
        { type: 'insufficient_quota', code: 'insufficient_quota' },
        DataPlaneErrorCode.UpstreamRateLimited,
        429,
      ],
      [
        {
          message: 'too long',
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
        DataPlaneErrorCode.UpstreamRejected,
        400,
      ],
      [
        { message: 'The server had an error', type: 'server_error', param: null, code: null },
        DataPlaneErrorCode.UpstreamError,
        500,
      ],
      // vLLM's and OpenRouter's: the HTTP status as the code.
      [
        { object: 'error', type: 'BadRequestError', code: 400 },
        DataPlaneErrorCode.UpstreamRejected,
        400,
      ],
      [{ code: 503, message: 'overloaded' }, DataPlaneErrorCode.UpstreamError, 503],
      [{ type: 'constructor' }, DataPlaneErrorCode.UpstreamError, 500],
      ['broken', DataPlaneErrorCode.UpstreamError, 500],
    ];
    for (const [error, code, status] of before) {
      raw.next([{ error }, chunk(0, { content: 'never' }, 'stop'), '[DONE]']);
      const answer = await invoke();
      const relayed: JsonObject[] = [];
      await assert.rejects(
        async () => {
          for await (const event of answer.events) relayed.push(event);
        },
        (thrown: unknown) =>
          thrown instanceof DataPlaneError &&
          thrown.code === code &&
          thrown.upstreamStatus === status &&
          /before its answer started$/.test(thrown.message),
        JSON.stringify(error),
      );
      assert.equal(relayed.length, 0);
    }
  });

  it('interrupts it at an error object after the first chunk went out, whatever its type', async () => {
    raw.next([
      chunk(0, { role: 'assistant', content: '' }),
      { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } },
      '[DONE]',
    ]);
    const answer = await invoke();
    await assert.rejects(
      collectStream(answer),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.StreamInterrupted &&
        /reported an error mid-stream/.test(error.message),
    );
  });

  it('interrupts it when one of several choices never finished', async () => {
    raw.next([
      chunk(0, { content: 'A' }),
      chunk(1, { content: 'B' }),
      chunk(0, {}, 'stop'),
      '[DONE]',
    ]);
    await assert.rejects(collectStream(await invoke()), cut);
  });

  // A backend answering [DONE] and nothing else (an overloaded proxy's empty 200): relayed, it
  // reached every edge as a finished empty answer, with no failover to a backend that answers.
  it('interrupts it, relaying nothing, when it reaches [DONE] without any choice', async () => {
    const usageOnly = {
      id: 'c1',
      object: 'chat.completion.chunk',
      model: 'm',
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 0, total_tokens: 3 },
    };
    for (const events of [['[DONE]'], [usageOnly, '[DONE]']]) {
      raw.next(events);
      const answer = await invoke();
      const relayed: JsonObject[] = [];
      await assert.rejects(
        async () => {
          for await (const event of answer.events) relayed.push(event);
        },
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.StreamInterrupted &&
          /ended the stream without any choice/.test(error.message),
        JSON.stringify(events),
      );
      assert.deepEqual(relayed, []);
      await answer.usage;
    }
  });

  it('ends it cleanly when every choice finished, annotations after a finish included', async () => {
    raw.next([
      chunk(0, { content: 'A' }),
      chunk(1, { content: 'B' }),
      chunk(1, {}, 'length'),
      chunk(0, {}, 'stop'),
      // Azure's content filter results may follow a choice's finish, finish_reason null.
      {
        ...chunk(0, {}),
        choices: [{ index: 0, delta: {}, finish_reason: null, content_filter_results: {} }],
      },
      '[DONE]',
    ]);
    assert.equal((await collectStream(await invoke())).length, 5);
  });
});

describe('invokeOpenAiWire on a stream that sends a tool name in pieces', () => {
  const raw = new RawSseUpstream({ basePath: '/v1' });
  let target: UpstreamTarget;
  /** A Claude Code MCP tool's name: past OpenAI's 64, so it goes as an alias. */
  const LONG = `mcp__plugin_marketplace_docs__${'search_the_documentation_'.repeat(3)}`;
  const ALIAS = toolNameAlias(LONG);

  before(async () => {
    await raw.start();
    target = upstreamTarget({ provider: 'vllm', model: 'qwen', baseUrl: raw.baseUrl }, KEY);
  });
  after(() => raw.stop());

  const chunk = (delta: JsonObject, finish: string | null = null) => ({
    id: 'c1',
    object: 'chat.completion.chunk',
    model: 'qwen',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  /** A call's name in three pieces, then its arguments, the way vLLM continues a call. */
  const splitCall = (name: string) => [
    chunk({ role: 'assistant', content: 'Looking.' }),
    chunk({
      tool_calls: [
        {
          index: 0,
          id: 'call_1',
          type: 'function',
          function: { name: name.slice(0, 7), arguments: '' },
        },
      ],
    }),
    chunk({ tool_calls: [{ index: 0, id: '', function: { name: name.slice(7, 40) } }] }),
    chunk({ tool_calls: [{ index: 0, id: '', function: { name: name.slice(40) } }] }),
    chunk({ tool_calls: [{ index: 0, id: '', function: { name: null, arguments: '{"q":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }),
    chunk({}, 'tool_calls'),
    '[DONE]',
  ];
  const invoke = async (tools: string[]) =>
    (await invokeOpenAiWire(
      {
        request: gatewayChatRequest({
          stream: true,
          tools: tools.map((name) => ({ type: 'function', function: { name } })),
        }),
        target,
        signal: new AbortController().signal,
      },
      { url: `${raw.baseUrl}/chat/completions` },
      sharedUpstreamAgent(),
    )) as StreamAnswer;
  const toolDeltas = (chunks: JsonObject[]) =>
    chunks.flatMap((each) =>
      (each.choices as JsonObject[]).flatMap(
        (choice) => ((choice.delta as JsonObject).tool_calls ?? []) as JsonObject[],
      ),
    );

  it("relays the client's long name, whole, in the call's delta before its arguments", async () => {
    raw.next(splitCall(ALIAS));
    const chunks = await collectStream(await invoke([LONG]));
    const deltas = toolDeltas(chunks);
    const names = deltas.map((delta) => (delta.function as JsonObject).name).filter(Boolean);
    assert.deepEqual(names, [LONG]);
    assert.deepEqual(deltas[0], {
      index: 0,
      id: 'call_1',
      type: 'function',
      function: { name: LONG, arguments: '' },
    });
    const args = deltas
      .map((delta) => ((delta.function as JsonObject).arguments as string | undefined) ?? '')
      .join('');
    assert.equal(args, '{"q":"x"}');
    assert.equal(streamedText(chunks), 'Looking.');
    assert.equal((chunks.at(-1)?.choices as JsonObject[])[0].finish_reason, 'tool_calls');
  });

  it('hands a name sent in pieces on whole without aliases too, in the delta before its arguments', async () => {
    // The edges that translate a stream (Messages, Responses, Gemini) read a call's name
    // from its first delta.
    raw.next(splitCall('search_the_docs_for_everything'));
    const chunks = await collectStream(await invoke(['search_the_docs_for_everything']));
    const deltas = toolDeltas(chunks);
    assert.deepEqual(deltas[0], {
      index: 0,
      id: 'call_1',
      type: 'function',
      function: { name: 'search_the_docs_for_everything', arguments: '' },
    });
    const names = deltas.map((delta) => (delta.function as JsonObject).name).filter(Boolean);
    assert.deepEqual(names, ['search_the_docs_for_everything']);
    assert.equal(chunks.length, 6, 'the first piece went on with the second, no chunk of its own');
  });

  it('relays a stream whose calls are named whole chunk for chunk, as the very objects', async () => {
    const whole = [
      chunk({ role: 'assistant', content: '' }),
      chunk({
        tool_calls: [
          { index: 0, id: 'a', type: 'function', function: { name: 'get_time', arguments: '' } },
        ],
      }),
      chunk({
        tool_calls: [
          { index: 1, id: 'b', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ];
    raw.next([...whole, '[DONE]']);
    const chunks = await collectStream(await invoke(['get_time', 'get_weather']));
    assert.deepEqual(chunks, whole);
  });
});

describe('invokeOpenAiWire on a gpt-audio chat answer', () => {
  const upstream = new FakeOpenAiUpstream();
  const usage = {
    prompt_tokens: 1_020,
    completion_tokens: 2_050,
    total_tokens: 3_070,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 1_000 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 2_000 },
  };
  let target: UpstreamTarget;
  const invoke = (stream: boolean) =>
    invokeOpenAiWire(
      {
        request: gatewayChatRequest({
          model: 'gpt-audio',
          modalities: ['text', 'audio'],
          audio: { voice: 'alloy', format: 'wav' },
          stream,
          messages: [
            {
              role: 'user',
              content: [{ type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }],
            },
          ],
        }),
        target,
        signal: new AbortController().signal,
      },
      { url: `${upstream.baseUrl}/chat/completions` },
      sharedUpstreamAgent(),
    );

  before(async () => {
    await upstream.start();
    upstream.reportUsage(usage);
    target = upstreamTarget(
      { provider: 'openai', model: 'gpt-audio', baseUrl: upstream.baseUrl },
      KEY,
    );
  });
  after(() => upstream.stop());

  for (const stream of [false, true]) {
    it(`bills its audio in and out at gpt-audio's audio rates, not its text rates (stream: ${stream})`, async () => {
      const answer = await invoke(stream);
      if (answer.kind === 'stream') await collectStream(answer);
      const counted = await answer.usage;
      assert.equal(counted.audioInputTokens, 1_000);
      assert.equal(counted.audioOutputTokens, 2_000);
      // OpenAI's list price of gpt-audio (the catalog's too): text $2.50/$10, audio $32/$64
      // per 1M tokens.
      const price = {
        inputPer1k: 0.0025,
        outputPer1k: 0.01,
        audioInputPer1k: 0.032,
        audioOutputPer1k: 0.064,
      };
      const dollars = dollarsAt(price, counted);
      const expected = (20 * 2.5 + 1_000 * 32 + 50 * 10 + 2_000 * 64) / 1e6;
      assert.ok(Math.abs(dollars - expected) < 1e-12, `${dollars} != ${expected}`);
    });
  }
});

describe("invokeOpenAiWire on a stream's service tier", () => {
  const raw = new RawSseUpstream({ basePath: '/v1' });
  let target: UpstreamTarget;

  before(async () => {
    await raw.start();
    target = upstreamTarget({ provider: 'openai', model: 'gpt-5', baseUrl: raw.baseUrl }, KEY);
  });
  after(() => raw.stop());

  const chunk = (serviceTier: string | null, extra: JsonObject) => ({
    id: 'c1',
    object: 'chat.completion.chunk',
    model: 'gpt-5',
    service_tier: serviceTier,
    ...extra,
  });
  const usageOf = async (events: readonly (JsonObject | string)[]) => {
    raw.next(events);
    const answer = (await invokeOpenAiWire(
      {
        request: gatewayChatRequest({ stream: true }),
        target,
        signal: new AbortController().signal,
      },
      { url: `${raw.baseUrl}/chat/completions` },
      sharedUpstreamAgent(),
    )) as StreamAnswer;
    await collectStream(answer);
    return answer.usage;
  };
  const usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };

  it('keeps the tier a chunk named when a later one names none (null)', async () => {
    // The tier is billed (priority at twice gpt-5's price): a later chunk's null must not
    // turn a priority call into a standard one.
    const served = await usageOf([
      chunk('priority', { choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] }),
      chunk('priority', { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      chunk(null, { choices: [], usage }),
      '[DONE]',
    ]);
    assert.equal(served.serviceTier, 'priority');
  });

  it('takes the tier the usage chunk alone names', async () => {
    const served = await usageOf([
      chunk(null, { choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }] }),
      chunk('flex', { choices: [], usage }),
      '[DONE]',
    ]);
    assert.equal(served.serviceTier, 'flex');
  });
});
