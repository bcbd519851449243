import type { ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
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
  FakeBedrockUpstream,
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
import { BedrockAdapter } from './bedrock.adapter';
import { bedrockRegion } from './bedrock-signer';
import { documentName } from './bedrock-request';
import { toolNameAlias } from '../core/tool-name-aliases';
import { TEST_AWS_CREDENTIALS, useEnvAwsCredentials } from '../testing/env-aws-credentials';

const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

type StreamEvent = readonly [name: string, payload: JsonObject];

/** The fake Bedrock Runtime, but a queued ConverseStream script is sent instead of its answer. */
class ScriptedBedrockUpstream extends FakeBedrockUpstream {
  private readonly frameCodec = new EventStreamCodec(toUtf8, fromUtf8);
  private readonly scripts: StreamEvent[][] = [];

  /** Answers the next ConverseStream call with these events, as Bedrock frames them. */
  nextStream(...events: StreamEvent[]): this {
    this.scripts.push(events);
    return this;
  }

  override reset(): void {
    super.reset();
    this.scripts.length = 0;
  }

  protected override async answer(
    call: ProviderFakeCall,
    response: ServerResponse,
    mode: AnswerMode,
  ) {
    const script = call.path.endsWith('/converse-stream') ? this.scripts.shift() : undefined;
    if (script === undefined) return super.answer(call, response, mode);
    response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    for (const [name, payload] of script) response.write(this.frame(name, payload));
    response.end();
  }

  private frame(name: string, payload: JsonObject): Uint8Array {
    return this.frameCodec.encode({
      headers: {
        ':message-type': { type: 'string', value: 'event' },
        ':event-type': { type: 'string', value: name },
        ':content-type': { type: 'string', value: 'application/json' },
      },
      body: fromUtf8(JSON.stringify(payload)),
    });
  }
}

/** The deltas that carry something (text, reasoning, tool calls), in order: no role, no finish. */
function contentDeltas(chunks: readonly JsonObject[]): JsonObject[] {
  return chunks
    .map((chunk) => (chunk.choices as JsonObject[] | undefined)?.[0]?.delta as JsonObject)
    .filter((delta) => delta && delta.role === undefined && Object.keys(delta).length > 0);
}

describe('bedrockRegion', () => {
  it('reads the region from a regional endpoint, else from the environment', () => {
    assert.equal(bedrockRegion('https://bedrock-runtime.eu-west-3.amazonaws.com', {}), 'eu-west-3');
    assert.equal(
      bedrockRegion('https://vpce-1.bedrock-runtime.us-gov-west-1.vpce.amazonaws.com', {}),
      'us-gov-west-1',
    );
    assert.equal(bedrockRegion('http://127.0.0.1:9', { AWS_REGION: 'ap-south-1' }), 'ap-south-1');
    assert.equal(bedrockRegion(undefined, { AWS_DEFAULT_REGION: 'us-west-2' }), 'us-west-2');
    assert.equal(bedrockRegion(undefined, {}), undefined);
  });
});

describe('BedrockAdapter against a fake Bedrock Runtime that checks SigV4', () => {
  const upstream = new ScriptedBedrockUpstream(TEST_AWS_CREDENTIALS);
  useEnvAwsCredentials(TEST_AWS_CREDENTIALS);
  let adapter: BedrockAdapter;
  let target: UpstreamTarget;
  const invoke = (request: GatewayRequest) =>
    adapter.invoke({ request, target, signal: new AbortController().signal });

  before(async () => {
    adapter = new BedrockAdapter();
    await upstream.start();
    target = upstreamTarget({ provider: 'bedrock', model: MODEL, baseUrl: upstream.baseUrl });
  });
  after(async () => {
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  it('signs a Converse request the fake verifies, with the model id as one path segment', async () => {
    const answer = await invoke(gatewayChatRequest());
    assert.equal(upstream.lastSignatureProblem, undefined);
    assert.equal(answer.kind, 'json');
    const call = upstream.calls[0];
    assert.equal(call.path, `/model/${encodeURIComponent(MODEL)}/converse`);
    assert.match(
      String(call.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLETEST\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/,
    );
    assert.ok(call.headers['x-amz-date']);
  });

  it('puts a cache point after each block the request marked for caching', async () => {
    await invoke(cacheMarkedChatRequest());
    const body = upstream.calls[0].body as {
      system: unknown;
      messages: { content: unknown }[];
      toolConfig: { tools: unknown[] };
    };
    const point = { cachePoint: { type: 'default' } };
    assert.deepEqual(body.system, [
      { text: 'Stable rules.' },
      point,
      { text: 'Today is Thursday.' },
    ]);
    assert.deepEqual(body.messages[0].content, [{ text: 'A long document.' }, point]);
    assert.deepEqual(body.toolConfig.tools[1], point);
  });

  it('puts a cache point after a marked tool call, as after a marked result', async () => {
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
        tools: [{ type: 'function', function: { name: 'get_weather' } }],
      }),
    );
    const body = upstream.calls[0].body as { messages: { content: unknown[] }[] };
    assert.deepEqual(body.messages[1].content, [
      { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: {} } },
      { cachePoint: { type: 'default' } },
    ]);
  });

  it("sends a mark's ttl as the cache point's ttl, plain and streamed", async () => {
    const hour = { type: 'ephemeral', ttl: '1h' };
    const fiveMinutes = { type: 'ephemeral', ttl: '5m' };
    const request = (stream: boolean) =>
      gatewayChatRequest({
        stream,
        messages: [
          {
            role: 'system',
            content: [
              { type: 'text', text: 'Stable rules.', cache_control: hour },
              { type: 'text', text: 'Today is Thursday.', cache_control: fiveMinutes },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'A long document.', cache_control: hour },
              { type: 'text', text: 'A question.', cache_control: { type: 'ephemeral' } },
            ],
          },
        ],
        tools: [{ ...WEATHER_TOOL, cache_control: hour }],
      });
    for (const stream of [false, true]) {
      upstream.reset();
      const answer = await invoke(request(stream));
      if (answer.kind === 'stream') await collectStream(answer);
      const body = upstream.calls[0].body as {
        system: JsonObject[];
        messages: { content: JsonObject[] }[];
        toolConfig: { tools: JsonObject[] };
      };
      const hourPoint = { cachePoint: { type: 'default', ttl: '1h' } };
      assert.deepEqual(body.toolConfig.tools[1], hourPoint);
      assert.deepEqual(body.system, [
        { text: 'Stable rules.' },
        hourPoint,
        { text: 'Today is Thursday.' },
        { cachePoint: { type: 'default', ttl: '5m' } },
      ]);
      assert.deepEqual(body.messages[0].content, [
        { text: 'A long document.' },
        hourPoint,
        { text: 'A question.' },
        { cachePoint: { type: 'default' } },
      ]);
      assert.equal(upstream.lastSignatureProblem, undefined);
    }
  });

  it("flags a failed tool's result with status error for Claude, and says so in text elsewhere", async () => {
    const failed = gatewayChatRequest({
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'tooluse_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'tooluse_1', content: 'service down', is_error: true },
      ],
      tools: [WEATHER_TOOL],
    });
    const resultOf = (call: number) =>
      (upstream.calls[call].body as { messages: { content: JsonObject[] }[] }).messages[2]
        .content[0];
    await invoke(failed);
    assert.deepEqual(resultOf(0), {
      toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'service down' }], status: 'error' },
    });
    // Converse takes status only from Claude and Nova.
    await adapter.invoke({
      request: failed,
      target: { ...target, model: 'meta.llama3-1-70b-instruct-v1:0' },
      signal: new AbortController().signal,
    });
    assert.deepEqual(resultOf(1), {
      toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'Error: service down' }] },
    });
  });

  it("sends an inline PDF as Converse's document block, named as Converse allows", async () => {
    const pdf = Buffer.from('%PDF-1.4 fake').toString('base64');
    const file = (filename?: string) => ({
      type: 'file',
      file: { file_data: `data:application/pdf;base64,${pdf}`, ...(filename ? { filename } : {}) },
    });
    await invoke(
      gatewayChatRequest({
        messages: [
          {
            role: 'user',
            content: [file('Q3 report_v2.pdf'), file('Q3 report v2'), file(), file('§§.pdf')],
          },
        ],
      }),
    );
    const sent = (upstream.calls[0].body as { messages: { content: JsonObject[] }[] }).messages[0]
      .content;
    assert.deepEqual(
      sent.map((block) => (block.document as JsonObject).name),
      ['Q3 report v2', 'Q3 report v2 (2)', 'document', 'document (2)'],
    );
    assert.deepEqual(sent[0], {
      document: { format: 'pdf', name: 'Q3 report v2', source: { bytes: pdf } },
    });
    assert.equal(documentName('x'.repeat(300)).length, 200);
  });

  it("sends service_tier as Converse's serviceTier, none for auto", async () => {
    const tierFor = async (service_tier: string) => {
      await invoke(gatewayChatRequest({ service_tier }));
      return (upstream.calls.at(-1)!.body as JsonObject).serviceTier;
    };
    assert.deepEqual(await tierFor('flex'), { type: 'flex' });
    assert.deepEqual(await tierFor('default'), { type: 'default' });
    assert.equal(await tierFor('auto'), undefined);
  });

  it('answers the tier Converse served at as service_tier, plain and on the streamed finish chunk', async () => {
    const plain = await invoke(gatewayChatRequest({ service_tier: 'flex' }));
    if (plain.kind !== 'json') return assert.fail('expected json');
    assert.equal(plain.body.service_tier, 'flex');
    const none = await invoke(gatewayChatRequest({ service_tier: 'auto' }));
    assert.ok(none.kind === 'json' && !('service_tier' in none.body));
    const request = gatewayChatRequest({ stream: true, service_tier: 'priority' });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    // The tier comes in the metadata event, after messageStop: the finish chunk waits for it.
    const finish = chunks.find((chunk) =>
      (chunk.choices as JsonObject[] | undefined)?.some((choice) => choice.finish_reason),
    );
    assert.equal(finish?.service_tier, 'priority');
    assert.equal(streamedText(chunks), 'Hello from Bedrock.');
  });

  it('names no tier OpenAI has no name for (reserved)', async () => {
    upstream.nextStream(
      ['messageStart', { role: 'assistant' }],
      ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }],
      ['messageStop', { stopReason: 'end_turn' }],
      [
        'metadata',
        { usage: { inputTokens: 3, outputTokens: 1 }, serviceTier: { type: 'reserved' } },
      ],
    );
    const chunks = await collectStream(
      (await invoke(gatewayChatRequest({ stream: true }))) as StreamAnswer,
    );
    assert.equal(streamedFinishReason(chunks), 'stop');
    assert.ok(chunks.every((chunk) => !('service_tier' in chunk)));
  });

  it('translates messages, system, tools and inference settings into Converse', async () => {
    await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'system', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0=' } },
            ],
          },
          {
            role: 'assistant',
            content: '',
            tool_calls: [
              {
                id: 'tooluse_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: '18C' },
        ],
        tools: [WEATHER_TOOL],
        tool_choice: 'required',
        max_tokens: 200,
        temperature: 0.1,
        top_p: 0.5,
        stop: ['END'],
      }),
    );
    assert.deepEqual(upstream.calls[0].body, {
      messages: [
        {
          role: 'user',
          content: [
            { text: 'Weather?' },
            { image: { format: 'png', source: { bytes: 'iVBORw0=' } } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } },
          ],
        },
        {
          role: 'user',
          content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: '18C' }] } }],
        },
      ],
      system: [{ text: 'Be brief.' }],
      inferenceConfig: { maxTokens: 200, temperature: 0.1, topP: 0.5, stopSequences: ['END'] },
      additionalModelResponseFieldPaths: ['/stop_sequence'],
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'get_weather',
              inputSchema: { json: WEATHER_TOOL.function.parameters },
            },
          },
        ],
        toolChoice: { any: {} },
      },
    });
    assert.equal(upstream.lastSignatureProblem, undefined);
  });

  it('rewrites tool call ids Converse refuses, the same in the call and its result', async () => {
    // Converse's toolUseId is 1-64 of [a-zA-Z0-9_-]: another provider's ids (Kimi's
    // "functions.get_weather:0") or a framework's long ones are refused as they are.
    const ids = ['functions.get_weather:0', `call_${'x'.repeat(70)}`, 'tooluse_ok-1'];
    const answer = await invoke(
      gatewayChatRequest({
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in three cities?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: ids.map((id) => ({
              id,
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            })),
          },
          ...ids.map((id) => ({ role: 'tool', tool_call_id: id, content: '18C' })),
        ],
      }),
    );
    assert.equal(answer.kind, 'json', JSON.stringify(answer));
    const [, calls, results] = upstream.calls[0].body.messages as { content: JsonObject[] }[];
    const callIds = calls.content.map((block) => (block.toolUse as JsonObject).toolUseId);
    const resultIds = results.content.map((block) => (block.toolResult as JsonObject).toolUseId);
    assert.deepEqual(resultIds, callIds);
    assert.equal(callIds[2], 'tooluse_ok-1');
    assert.equal(new Set(callIds).size, 3);
    for (const id of callIds) assert.match(String(id), /^[a-zA-Z0-9_-]{1,64}$/);
  });

  it('offers no tools for tool_choice none', async () => {
    // Converse has no "none": tools offered may be called, which the client ruled out.
    await invoke(gatewayChatRequest({ tools: [WEATHER_TOOL], tool_choice: 'none' }));
    assert.equal(upstream.calls[0].body.toolConfig, undefined);
    // Nor the history's tools, declared by name, on a request that sends none of its own.
    const answer = await invoke(
      gatewayChatRequest({
        tool_choice: 'none',
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'tooluse_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: '18C' },
        ],
      }),
    );
    assert.equal(answer.kind, 'json', JSON.stringify(answer));
    assert.equal(upstream.calls[1].body.toolConfig, undefined);
    assert.equal(
      ((answer.body.choices as JsonObject[])[0].message as JsonObject).tool_calls,
      undefined,
    );
  });

  it('answers tool_choice none after earlier tool calls in text, their calls and results told as text', async () => {
    // Converse refuses toolUse and toolResult blocks without a toolConfig, and a toolConfig
    // offers tools the model may call (the fake always calls the first): the history's
    // tool blocks go as text instead, and no tool is offered.
    const answer = await invoke(
      gatewayChatRequest({
        tools: [WEATHER_TOOL],
        tool_choice: 'none',
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: 'Looking.',
            tool_calls: [
              {
                id: 'tooluse_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: '18C' },
          { role: 'user', content: 'Sum it up.' },
        ],
      }),
    );
    assert.equal(answer.kind, 'json', JSON.stringify(answer));
    const [choice] = answer.body.choices as JsonObject[];
    assert.equal(choice.finish_reason, 'stop');
    assert.equal((choice.message as JsonObject).tool_calls, undefined);
    const body = upstream.calls[0].body;
    assert.equal(body.toolConfig, undefined);
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ text: 'Weather?' }] },
      {
        role: 'assistant',
        content: [
          { text: 'Looking.' },
          { text: '[tool call tooluse_1: get_weather {"city":"Paris"}]' },
        ],
      },
      {
        role: 'user',
        content: [{ text: '[tool result tooluse_1 (get_weather): 18C]' }, { text: 'Sum it up.' }],
      },
    ]);
  });

  it('answers a request that sends no tools after earlier tool calls in text, as OpenAI would', async () => {
    // A framework summing up drops its tools: OpenAI's model can then call none. Declared
    // again from the history (Converse wants a toolConfig for its tool blocks), they could be.
    const answer = await invoke(
      gatewayChatRequest({
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'tooluse_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: '18C' },
          { role: 'user', content: 'Sum it up.' },
        ],
      }),
    );
    assert.equal(answer.kind, 'json', JSON.stringify(answer));
    const [choice] = answer.body.choices as JsonObject[];
    assert.equal((choice.message as JsonObject).tool_calls, undefined);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(upstream.calls[0].body.toolConfig, undefined);
  });

  it('answers tool_choice none in a stream likewise, a failed or empty result told as such', async () => {
    const answer = await invoke(
      gatewayChatRequest({
        stream: true,
        tools: [WEATHER_TOOL],
        tool_choice: 'none',
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: ['tooluse_1', 'tooluse_2'].map((id) => ({
              id,
              type: 'function',
              function: { name: 'get_weather', arguments: '{}' },
            })),
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: 'no such city', is_error: true },
          { role: 'tool', tool_call_id: 'tooluse_2', content: ' ' },
        ],
      }),
    );
    assert.equal(answer.kind, 'stream', JSON.stringify(answer));
    const chunks = await collectStream(answer);
    assert.ok(
      chunks.every((chunk) => !JSON.stringify(chunk).includes('tool_calls')),
      JSON.stringify(chunks),
    );
    const body = upstream.calls[0].body;
    assert.equal(body.toolConfig, undefined);
    assert.deepEqual((body.messages as JsonObject[]).slice(1), [
      {
        role: 'assistant',
        content: [
          { text: '[tool call tooluse_1: get_weather {}]' },
          { text: '[tool call tooluse_2: get_weather {}]' },
        ],
      },
      {
        role: 'user',
        content: [
          { text: '[tool result tooluse_1 (get_weather): Error: no such city]' },
          { text: '[tool result tooluse_2 (get_weather): (no output)]' },
        ],
      },
    ]);
  });

  it('leaves out an empty tool description, which Converse refuses', async () => {
    const tool = { type: 'function', function: { ...WEATHER_TOOL.function, description: '' } };
    const answer = await invoke(gatewayChatRequest({ tools: [tool] }));
    assert.equal(answer.kind, 'json', JSON.stringify(answer));
    const config = upstream.calls[0].body.toolConfig as { tools: JsonObject[] };
    assert.equal('description' in (config.tools[0].toolSpec as JsonObject), false);
  });

  it('sends a blank tool result as text Converse takes, plain and flagged as failed', async () => {
    // A tool that printed nothing: Converse refuses a blank text block in a toolResult.
    const messages = (isError: boolean) => [
      { role: 'user', content: 'Touch the file' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'tooluse_1', type: 'function', function: { name: 'touch', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'tooluse_1', content: ' \n', is_error: isError },
    ];
    const touch = { type: 'function', function: { name: 'touch', parameters: { type: 'object' } } };
    for (const isError of [false, true]) {
      upstream.reset();
      const answer = await invoke(
        gatewayChatRequest({ tools: [touch], messages: messages(isError) }),
      );
      assert.equal(answer.kind, 'json', JSON.stringify(answer));
      const result = (upstream.calls[0].body.messages as { content: JsonObject[] }[])[2].content[0]
        .toolResult as { content: { text: string }[]; status?: string };
      assert.notEqual(result.content[0].text.trim(), '');
      assert.equal(result.status, isError ? 'error' : undefined);
    }
  });

  describe("with Claude's extended thinking", () => {
    const bodyOf = async (fields: JsonObject) => {
      const answer = await invoke(gatewayChatRequest(fields));
      if (answer.kind === 'stream') await collectStream(answer);
      return upstream.calls.at(-1)!.body;
    };
    const thinkingOf = (body: JsonObject) => ({
      thinking: (body.additionalModelRequestFields as JsonObject | undefined)?.thinking,
      maxTokens: (body.inferenceConfig as JsonObject | undefined)?.maxTokens,
    });
    const enabled = (budget_tokens: number, maxTokens: number) => ({
      thinking: { type: 'enabled', budget_tokens },
      maxTokens,
    });
    // Shaped from the Converse reference: a redacted block's content is base64.
    const SIGNED = { text: 'The user asks about Paris.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA' };
    const REDACTED = 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIw';

    it('sends thinking in additionalModelRequestFields, with maxTokens above its budget', async () => {
      // Without max_tokens, the reasoning default held: 16384 (none on the request, 4096,
      // raised for a request that asks for reasoning), after a client's own budget.
      const cases = [
        ['minimal', 1024],
        ['low', 1024],
        ['medium', 2048],
        ['high', 4096],
      ] as const;
      for (const [reasoning_effort, budget] of cases) {
        const body = await bodyOf({ reasoning_effort });
        assert.deepEqual(thinkingOf(body), enabled(budget, 16384), reasoning_effort);
      }
      const streamed = await bodyOf({ reasoning_effort: 'low', stream: true });
      assert.deepEqual(thinkingOf(streamed), enabled(1024, 16384));
      const explicit = { type: 'enabled', budget_tokens: 3000 };
      assert.deepEqual(thinkingOf(await bodyOf({ thinking: explicit })), enabled(3000, 19384));
      assert.deepEqual(
        thinkingOf(await bodyOf({ thinking: explicit, max_tokens: 2000 })),
        enabled(3000, 2000),
      );
      assert.equal(upstream.lastSignatureProblem, undefined);
    });

    it("sends Claude's thinking to no other model family", async () => {
      for (const other of ['amazon.nova-pro-v1:0', 'us.meta.llama3-3-70b-instruct-v1:0']) {
        const request = gatewayChatRequest({ reasoning_effort: 'high', temperature: 0.4 });
        const model = { ...target, model: other };
        await adapter.invoke({ request, target: model, signal: new AbortController().signal });
        const body = upstream.calls.at(-1)!.body;
        assert.equal(body.additionalModelRequestFields, undefined, other);
        assert.deepEqual(body.inferenceConfig, { temperature: 0.4 }, other);
      }
    });

    it("sends a Gemini client's top_k (provider_extras) to Claude without thinking, and to no other family", async () => {
      const provider_extras = { top_k: 40 };
      const plain = await bodyOf({ reasoning_effort: 'none', provider_extras });
      assert.deepEqual(plain.additionalModelRequestFields, { top_k: 40 });
      assert.equal(plain.provider_extras, undefined);
      const thinking = await bodyOf({ reasoning_effort: 'low', provider_extras });
      assert.equal((thinking.additionalModelRequestFields as JsonObject).top_k, undefined);
      for (const other of [
        'amazon.nova-pro-v1:0',
        'arn:aws:bedrock:us-east-1:1:imported-model/x',
      ]) {
        const request = gatewayChatRequest({ provider_extras });
        const model = { ...target, model: other };
        await adapter.invoke({ request, target: model, signal: new AbortController().signal });
        assert.equal(upstream.calls.at(-1)!.body.additionalModelRequestFields, undefined, other);
      }
    });

    it('asks Claude 4.6 and later on Bedrock for adaptive thinking with output_config.effort', async () => {
      const model = { ...target, model: 'us.anthropic.claude-opus-4-7' };
      const request = gatewayChatRequest({ reasoning_effort: 'medium', temperature: 0.4 });
      await adapter.invoke({ request, target: model, signal: new AbortController().signal });
      const body = upstream.calls.at(-1)!.body;
      assert.deepEqual(body.additionalModelRequestFields, {
        thinking: { type: 'adaptive', display: 'summarized' },
        output_config: { effort: 'medium' },
      });
      assert.deepEqual(body.inferenceConfig, { maxTokens: 16384 });
      assert.equal(upstream.lastSignatureProblem, undefined);
    });

    it('sends Claude only the sampling settings its generation takes, in any naming, and reports the rest', async () => {
      const dropped: string[] = [];
      const asked = { temperature: 0.3, top_p: 0.9, provider_extras: { top_k: 40 } };
      const sent = async (model: string) => {
        const answer = await adapter.invoke({
          request: gatewayChatRequest(asked),
          target: { ...target, model },
          signal: new AbortController().signal,
        });
        for (const { setting, reason } of answer.servedBy.droppedSettings ?? []) {
          dropped.push(`${setting} ${reason}`);
        }
        const body = upstream.calls.at(-1)!.body;
        return {
          inferenceConfig: body.inferenceConfig,
          top_k: (body.additionalModelRequestFields as JsonObject | undefined)?.top_k,
        };
      };
      for (const model of [
        'us.anthropic.claude-opus-4-7',
        'anthropic.claude-opus-4-7-v1:0',
        'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-7',
      ]) {
        assert.deepEqual(
          await sent(model),
          { inferenceConfig: undefined, top_k: undefined },
          model,
        );
      }
      for (const model of [
        'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
        'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0',
      ]) {
        assert.deepEqual(
          await sent(model),
          { inferenceConfig: { temperature: 0.3 }, top_k: 40 },
          model,
        );
      }
      assert.equal(dropped.length, 3 * 3 + 2);
      assert.deepEqual(dropped.slice(-3), ['top_k model', 'top_p model', 'top_p model']);
      dropped.length = 0;
      // Older Claude, an ARN that does not say its model, and other families: as sent.
      for (const model of [
        MODEL,
        'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3',
        'amazon.nova-pro-v1:0',
      ]) {
        const body = await sent(model);
        assert.deepEqual(body.inferenceConfig, { temperature: 0.3, topP: 0.9 }, model);
      }
      assert.deepEqual(dropped, []);
    });

    it("fits an effort's budget under a small max_tokens, or leaves thinking out", async () => {
      const fit = (reasoning_effort: string, max_tokens: number) =>
        bodyOf({ reasoning_effort, max_tokens }).then(thinkingOf);
      assert.deepEqual(await fit('high', 3000), enabled(2999, 3000));
      assert.deepEqual(await fit('medium', 5000), enabled(2048, 5000));
      assert.deepEqual(await fit('low', 1024), { thinking: undefined, maxTokens: 1024 });
    });

    it('leaves the temperature out with thinking on; sends nothing when off or beside the answer tool', async () => {
      const thinking = await bodyOf({ reasoning_effort: 'high', temperature: 0.3 });
      assert.deepEqual(thinking.inferenceConfig, { maxTokens: 16384 });
      // Other model families refuse fields they do not know: "off" sends none.
      for (const off of [{ thinking: { type: 'disabled' } }, { reasoning_effort: 'none' }]) {
        const body = await bodyOf({ ...off, temperature: 0.3 });
        assert.equal(body.additionalModelRequestFields, undefined);
        assert.deepEqual(body.inferenceConfig, { temperature: 0.3 });
      }
      // Claude refuses forced tool use with thinking on, and the answer tool is forced.
      const json = await bodyOf({
        reasoning_effort: 'high',
        temperature: 0.3,
        response_format: WEATHER_FORMAT,
      });
      assert.equal(json.additionalModelRequestFields, undefined);
      assert.deepEqual(json.inferenceConfig, { temperature: 0.3 });
    });

    it('leaves thinking out beside a forced tool call, which Claude refuses with it, and says so', async () => {
      const forced = ['required', { type: 'function', function: { name: 'get_weather' } }] as const;
      for (const tool_choice of forced) {
        for (const stream of [false, true]) {
          const answer = await invoke(
            gatewayChatRequest({
              reasoning_effort: 'high',
              tools: [WEATHER_TOOL],
              tool_choice,
              stream,
            }),
          );
          if (answer.kind === 'stream')
            assert.deepEqual(streamedToolCalls(await collectStream(answer)).length, 1);
          const body = upstream.calls.at(-1)!.body;
          assert.equal(thinkingOf(body).thinking, undefined);
          assert.ok((body.toolConfig as JsonObject).toolChoice);
          // The tool call the client forced, without the reasoning: counted, not silent.
          assert.deepEqual(answer.servedBy.droppedSettings, [
            { setting: 'reasoning', reason: 'model' },
          ]);
        }
      }
      // A choice that forces nothing keeps the thinking.
      const auto = await bodyOf({
        reasoning_effort: 'high',
        tools: [WEATHER_TOOL],
        tool_choice: 'auto',
      });
      assert.ok(thinkingOf(auto).thinking);
    });

    it("sends an assistant turn's reasoning first, signed, and leaves unsigned blocks out", async () => {
      const body = await bodyOf({
        reasoning_effort: 'high',
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: 'Checking.',
            thinking_blocks: [
              { type: 'thinking', thinking: SIGNED.text, signature: SIGNED.signature },
              { type: 'thinking', thinking: 'Another model thought this.' },
              { type: 'redacted_thinking', data: REDACTED },
            ],
            tool_calls: [
              {
                id: 'tooluse_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: '18C' },
        ],
      });
      const messages = body.messages as JsonObject[];
      assert.deepEqual(messages[1].content, [
        { reasoningContent: { reasoningText: SIGNED } },
        { reasoningContent: { redactedContent: REDACTED } },
        { text: 'Checking.' },
        { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } },
      ]);
    });

    it('leaves budget thinking out of a tool loop whose tool-calling turn came back without its thinking, rather than be refused', async () => {
      // An OpenAI SDK client keeps no thinking_blocks: its next call carries the turn
      // without them, which Claude refuses with thinking on (the fake answers its 400).
      const loop = (extra: JsonObject[] = []) => ({
        reasoning_effort: 'high',
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'tooluse_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: '18C' },
          ...extra,
        ],
      });
      const answer = await invoke(gatewayChatRequest(loop()));
      assert.equal(answer.kind, 'json');
      assert.equal(thinkingOf(upstream.calls.at(-1)!.body).thinking, undefined);
      // Answered without the reasoning asked for: reported, so the metrics count it.
      assert.deepEqual(answer.servedBy.droppedSettings, [
        { setting: 'reasoning', reason: 'tool_loop' },
      ]);
      const streamed = await bodyOf({ ...loop(), stream: true });
      assert.equal(thinkingOf(streamed).thinking, undefined);
      // A new question after the loop thinks again: no turn needs its thinking then.
      const next = await bodyOf(
        loop([
          { role: 'assistant', content: 'It is 18C.' },
          { role: 'user', content: 'And in Rome?' },
        ]),
      );
      assert.deepEqual(thinkingOf(next).thinking, { type: 'enabled', budget_tokens: 4096 });
    });

    it('keeps budget thinking on a loop of several calls whose first carried its thinking, as Claude takes it', async () => {
      // Claude thinks at the start of its turn: the loop's later calls come back with none.
      const call = (id: string, city: string) => ({
        id,
        type: 'function',
        function: { name: 'get_weather', arguments: JSON.stringify({ city }) },
      });
      const body = await bodyOf({
        reasoning_effort: 'high',
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [call('tooluse_1', 'Paris')],
            thinking_blocks: [
              { type: 'thinking', thinking: SIGNED.text, signature: SIGNED.signature },
            ],
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: '18C' },
          { role: 'assistant', content: null, tool_calls: [call('tooluse_2', 'Rome')] },
          { role: 'tool', tool_call_id: 'tooluse_2', content: '21C' },
        ],
      });
      assert.deepEqual(thinkingOf(body).thinking, { type: 'enabled', budget_tokens: 4096 });
    });

    it('answers reasoningContent blocks as reasoning_content and thinking_blocks', async () => {
      upstream.next({
        kind: 'json',
        body: {
          output: {
            message: {
              role: 'assistant',
              content: [
                { reasoningContent: { reasoningText: SIGNED } },
                { reasoningContent: { reasoningText: { text: ' Unsigned.' } } },
                { reasoningContent: { redactedContent: REDACTED } },
                { text: 'It is 18C.' },
              ],
            },
          },
          stopReason: 'end_turn',
          usage: { inputTokens: 30, outputTokens: 40, totalTokens: 70 },
          metrics: { latencyMs: 300 },
        },
      });
      const answer = await invoke(gatewayChatRequest({ reasoning_effort: 'low' }));
      if (answer.kind !== 'json') return assert.fail('expected json');
      const choice = (answer.body.choices as JsonObject[])[0];
      assert.deepEqual(choice.message, {
        role: 'assistant',
        content: 'It is 18C.',
        reasoning_content: `${SIGNED.text} Unsigned.`,
        thinking_blocks: [
          { type: 'thinking', thinking: SIGNED.text, signature: SIGNED.signature },
          { type: 'redacted_thinking', data: REDACTED },
        ],
      });
    });

    it('streams reasoning fragments, then the signature and the redacted block, then text', async () => {
      const delta = (contentBlockIndex: number, value: JsonObject): StreamEvent => [
        'contentBlockDelta',
        { contentBlockIndex, delta: value },
      ];
      upstream.nextStream(
        ['messageStart', { role: 'assistant' }],
        delta(0, { reasoningContent: { text: 'The user asks' } }),
        delta(0, { reasoningContent: { text: ' about Paris.' } }),
        delta(0, { reasoningContent: { signature: SIGNED.signature } }),
        ['contentBlockStop', { contentBlockIndex: 0 }],
        delta(1, { reasoningContent: { redactedContent: REDACTED } }),
        ['contentBlockStop', { contentBlockIndex: 1 }],
        delta(2, { text: 'It is 18C.' }),
        ['contentBlockStop', { contentBlockIndex: 2 }],
        ['messageStop', { stopReason: 'end_turn' }],
        ['metadata', { usage: { inputTokens: 30, outputTokens: 40, totalTokens: 70 } }],
      );
      const request = gatewayChatRequest({ stream: true, reasoning_effort: 'low' });
      const chunks = await collectStream((await invoke(request)) as StreamAnswer);
      assert.deepEqual(contentDeltas(chunks), [
        { reasoning_content: 'The user asks' },
        { reasoning_content: ' about Paris.' },
        { thinking_blocks: [{ type: 'thinking', thinking: '', signature: SIGNED.signature }] },
        { thinking_blocks: [{ type: 'redacted_thinking', data: REDACTED }] },
        { content: 'It is 18C.' },
      ]);
      assert.equal(streamedFinishReason(chunks), 'stop');
    });
  });

  it('answers a chat.completion with usage including cache reads and writes', async () => {
    const answer = await invoke(gatewayChatRequest());
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, { role: 'assistant', content: 'Hello from Bedrock.' });
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(answer.body.id, 'chatcmpl-req-bedrock-1');
    assert.deepEqual(answer.usage, {
      inputTokens: 65,
      outputTokens: 6,
      cachedInputTokens: 40,
      cacheWriteInputTokens: 10,
      source: 'reported',
    });
  });

  it('answers toolUse blocks as tool_calls', async () => {
    const answer = await invoke(gatewayChatRequest({ tools: [WEATHER_TOOL] }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.deepEqual((choice.message as JsonObject).tool_calls, [
      {
        id: 'tooluse_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ]);
  });

  it('decodes a ConverseStream event stream into OpenAI chunks with metadata usage', async () => {
    const request = gatewayChatRequest({ stream: true, stream_options: { include_usage: true } });
    const answer = (await invoke(request)) as StreamAnswer;
    const chunks = await collectStream(answer);
    const call = upstream.calls[0];
    assert.equal(call.path, `/model/${encodeURIComponent(MODEL)}/converse-stream`);
    assert.equal(upstream.lastSignatureProblem, undefined);
    assert.equal(streamedText(chunks), 'Hello from Bedrock.');
    assert.equal(streamedFinishReason(chunks), 'stop');
    assert.equal((chunks.at(-1)!.usage as JsonObject).prompt_tokens, 65);
    assert.equal((await answer.usage).source, 'reported');
    assert.equal((await answer.usage).cachedInputTokens, 40);
    assert.equal((await answer.usage).cacheWriteInputTokens, 10);
  });

  it('streams toolUse blocks as tool_call deltas', async () => {
    const request = gatewayChatRequest({ stream: true, tools: [WEATHER_TOOL] });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    assert.deepEqual(streamedToolCalls(chunks), [
      { id: 'tooluse_1', name: 'get_weather', arguments: '{"city": "Paris"}' },
    ]);
    assert.equal(streamedFinishReason(chunks), 'tool_calls');
  });

  it('streams {} as the arguments of a tool call that got no input, as the JSON answer has', async () => {
    // A tool without parameters: Bedrock starts and stops its block with no input, or an
    // empty one, and the JSON answer's toolUse.input is {} for it.
    upstream.nextStream(
      ['messageStart', { role: 'assistant' }],
      [
        'contentBlockStart',
        { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tu_1', name: 'now' } } },
      ],
      ['contentBlockStop', { contentBlockIndex: 0 }],
      [
        'contentBlockStart',
        { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu_2', name: 'now' } } },
      ],
      ['contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '' } } }],
      ['contentBlockStop', { contentBlockIndex: 1 }],
      ['messageStop', { stopReason: 'tool_use' }],
      ['metadata', { usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 } }],
    );
    const now = { type: 'function', function: { name: 'now', parameters: { type: 'object' } } };
    const request = gatewayChatRequest({ stream: true, tools: [now] });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    assert.deepEqual(streamedToolCalls(chunks), [
      { id: 'tu_1', name: 'now', arguments: '{}' },
      { id: 'tu_2', name: 'now', arguments: '{}' },
    ]);
    assert.equal(streamedFinishReason(chunks), 'tool_calls');
  });

  it("sends a long tool name as its alias in tools, tool_choice and history, streaming the client's name back", async () => {
    const long = `mcp__plugin_marketplace_docs__${'search_the_documentation_'.repeat(3)}`;
    const alias = toolNameAlias(long);
    // A short tool of the client's that starts like the alias keeps its own name.
    const short = alias.slice(0, 20);
    const tool = (name: string) => ({
      type: 'function',
      function: { name, parameters: { type: 'object' } },
    });
    const request = gatewayChatRequest({
      stream: true,
      tools: [tool(long), tool(short)],
      tool_choice: { type: 'function', function: { name: long } },
      messages: [
        { role: 'user', content: 'Find it' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'tooluse_0', type: 'function', function: { name: long, arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'tooluse_0', content: 'not found' },
      ],
    });
    // ConverseStream names a toolUse whole, in its contentBlockStart.
    upstream.nextStream(
      ['messageStart', { role: 'assistant' }],
      [
        'contentBlockStart',
        { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tu_1', name: alias } } },
      ],
      ['contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '{"q":"x"}' } } }],
      ['contentBlockStop', { contentBlockIndex: 0 }],
      [
        'contentBlockStart',
        { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu_2', name: short } } },
      ],
      ['contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{}' } } }],
      ['contentBlockStop', { contentBlockIndex: 1 }],
      ['messageStop', { stopReason: 'tool_use' }],
      ['metadata', { usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 } }],
    );
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    assert.deepEqual(streamedToolCalls(chunks), [
      { id: 'tu_1', name: long, arguments: '{"q":"x"}' },
      { id: 'tu_2', name: short, arguments: '{}' },
    ]);
    const sent = upstream.calls[0].body;
    assert.doesNotMatch(JSON.stringify(sent), new RegExp(long));
    const config = sent.toolConfig as { tools: JsonObject[]; toolChoice: JsonObject };
    assert.deepEqual(
      config.tools.map((each) => (each.toolSpec as JsonObject).name),
      [alias, short],
    );
    assert.deepEqual(config.toolChoice, { tool: { name: alias } });
    const history = (sent.messages as { content: JsonObject[] }[])[1].content;
    assert.equal((history[0].toolUse as JsonObject).name, alias);
  });

  describe("Converse's stopReasons beyond end_turn (MessageStopEvent's documented values)", () => {
    const converseAnswer = (stopReason: string): JsonObject => ({
      output: { message: { role: 'assistant', content: [{ text: 'Partial answer' }] } },
      stopReason,
      usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 },
    });
    const streamStoppedWith = (stopReason: string) =>
      upstream.nextStream(
        ['messageStart', { role: 'assistant' }],
        ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Partial answer' } }],
        ['contentBlockStop', { contentBlockIndex: 0 }],
        ['messageStop', { stopReason }],
        ['metadata', { usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 } }],
      );
    const kept: [string, string][] = [
      ['guardrail_intervened', 'content_filter'],
      ['content_filtered', 'content_filter'],
      // Sound text cut where the context window filled: `length`, as for max_tokens.
      ['model_context_window_exceeded', 'length'],
    ];

    it('answers the policy stops as content_filter and a full context window as length', async () => {
      for (const [stopReason, finish] of kept) {
        upstream.next({ kind: 'json', body: converseAnswer(stopReason) });
        const answer = await invoke(gatewayChatRequest());
        if (answer.kind !== 'json') return assert.fail('expected json');
        const choice = (answer.body.choices as JsonObject[])[0];
        assert.equal(choice.finish_reason, finish, stopReason);
        streamStoppedWith(stopReason);
        const streamed = (await invoke(gatewayChatRequest({ stream: true }))) as StreamAnswer;
        const chunks = await collectStream(streamed);
        assert.equal(streamedText(chunks), 'Partial answer', stopReason);
        assert.equal(streamedFinishReason(chunks), finish, stopReason);
      }
    });

    it("names a full context window and the stop sequence hit in the choice's stop_reason, as Anthropic's adapter does", async () => {
      // The Messages edge answers them as stop_reason model_context_window_exceeded and
      // stop_sequence; Converse names the sequence where asked (additionalModelResponseFieldPaths).
      const lastChoice = (chunks: readonly JsonObject[]) =>
        (
          chunks.findLast((chunk) => (chunk.choices as JsonObject[])[0]?.finish_reason)!
            .choices as JsonObject[]
        )[0];
      const cases: [JsonObject, JsonObject, string][] = [
        [{ stopReason: 'model_context_window_exceeded' }, {}, 'model_context_window_exceeded'],
        [
          { stopReason: 'stop_sequence', additionalModelResponseFields: { stop_sequence: 'END' } },
          { stop: ['END', 'STOP'] },
          'END',
        ],
      ];
      for (const [stop, fields, stoppedAt] of cases) {
        upstream.reset();
        upstream.next({ kind: 'json', body: { ...converseAnswer('end_turn'), ...stop } });
        const answer = await invoke(gatewayChatRequest(fields));
        if (answer.kind !== 'json') return assert.fail('expected json');
        assert.equal((answer.body.choices as JsonObject[])[0].stop_reason, stoppedAt);
        upstream.nextStream(
          ['messageStart', { role: 'assistant' }],
          ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Partial answer' } }],
          ['contentBlockStop', { contentBlockIndex: 0 }],
          ['messageStop', stop],
          ['metadata', { usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 } }],
        );
        const streamed = (await invoke(
          gatewayChatRequest({ ...fields, stream: true }),
        )) as StreamAnswer;
        assert.equal(lastChoice(await collectStream(streamed)).stop_reason, stoppedAt);
        // The stop sequence is named only when asked for, and asked for only with stops.
        const asked = fields.stop ? ['/stop_sequence'] : undefined;
        for (const call of upstream.calls) {
          assert.deepEqual(call.body.additionalModelResponseFieldPaths, asked);
        }
      }
    });

    for (const stopReason of ['malformed_model_output', 'malformed_tool_use']) {
      it(`refuses a JSON answer stopped with ${stopReason} as a bad response`, async () => {
        upstream.next({ kind: 'json', body: converseAnswer(stopReason) });
        await assert.rejects(
          invoke(gatewayChatRequest()),
          (error: unknown) =>
            error instanceof DataPlaneError &&
            error.code === DataPlaneErrorCode.UpstreamBadResponse &&
            error.message.endsWith(`stopReason ${stopReason}`),
        );
      });

      it(`ends a stream stopped with ${stopReason} in an error, never a finish`, async () => {
        streamStoppedWith(stopReason);
        const answer = (await invoke(gatewayChatRequest({ stream: true }))) as StreamAnswer;
        const chunks: JsonObject[] = [];
        await assert.rejects(
          async () => {
            for await (const chunk of answer.events) chunks.push(chunk);
          },
          (error: unknown) =>
            error instanceof DataPlaneError &&
            error.code === DataPlaneErrorCode.StreamInterrupted &&
            error.message.endsWith(`stopped with ${stopReason}`),
        );
        assert.equal(streamedText(chunks), 'Partial answer');
        assert.equal(streamedFinishReason(chunks), null);
        assert.equal((await answer.usage).source, 'estimated');
      });
    }
  });

  it('answers a json_schema response_format through a forced tool, as JSON content', async () => {
    const answer = await invoke(gatewayChatRequest({ response_format: WEATHER_FORMAT }));
    const call = upstream.calls[0];
    assert.equal(upstream.lastSignatureProblem, undefined);
    assert.deepEqual(call.body.toolConfig, {
      tools: [
        {
          toolSpec: {
            name: 'weather_report',
            description: 'A weather report',
            inputSchema: { json: WEATHER_FORMAT.json_schema.schema },
          },
        },
      ],
      toolChoice: { tool: { name: 'weather_report' } },
    });
    assert.equal(call.body.outputConfig, undefined);
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    // The fake says "Checking." before the call; that prose would break the JSON.
    assert.deepEqual(choice.message, { role: 'assistant', content: '{"city":"Paris"}' });
    assert.equal(choice.finish_reason, 'stop');
  });

  it('streams a json_object answer as content deltas, with no tool_calls', async () => {
    const request = gatewayChatRequest({ stream: true, response_format: { type: 'json_object' } });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    const toolConfig = upstream.calls[0].body.toolConfig as JsonObject;
    assert.deepEqual(toolConfig.toolChoice, { tool: { name: 'json_response' } });
    assert.deepEqual((toolConfig.tools as JsonObject[])[0].toolSpec, {
      name: 'json_response',
      description: 'Give your whole answer as a JSON object through this tool.',
      inputSchema: { json: { type: 'object' } },
    });
    assertStreamedTextAnswer(chunks, '{"city": "Paris"}');
    assert.deepEqual(JSON.parse(streamedText(chunks)), { city: 'Paris' });
  });

  it('answers a strict json_schema through the same tool on Claude: it works on every tool-calling Claude', async () => {
    // The openai SDKs' parse helpers send every schema as strict; Bedrock's own structured
    // outputs would refuse them on the models it does not list for them.
    const answer = await invoke(gatewayChatRequest({ response_format: STRICT_WEATHER_FORMAT }));
    const call = upstream.calls[0];
    assert.equal(call.body.outputConfig, undefined);
    const toolConfig = call.body.toolConfig as JsonObject;
    assert.deepEqual(toolConfig.toolChoice, { tool: { name: 'weather_report' } });
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, { role: 'assistant', content: '{"city":"Paris"}' });
  });

  describe('JSON on families without a forced tool', () => {
    const QWEN = 'us.qwen.qwen3-32b-v1:0';
    const QWEN_ARN = `arn:aws:bedrock:us-west-2::foundation-model/${QWEN.slice(3)}`;
    const on = (model: string, request: GatewayRequest) =>
      adapter.invoke({
        request,
        target: { ...target, model },
        signal: new AbortController().signal,
      });
    const JSON_TEXT = '{"city":"Paris"}';
    const weatherConfig = {
      textFormat: {
        type: 'json_schema',
        structure: {
          jsonSchema: {
            schema: JSON.stringify(WEATHER_FORMAT.json_schema.schema),
            name: 'weather_report',
            description: 'A weather report',
          },
        },
      },
    };

    it('asks a structured-output family for JSON through outputConfig, the text its content, plain and streamed', async () => {
      for (const model of [QWEN, QWEN_ARN]) {
        upstream.reset();
        upstream.next({
          kind: 'json',
          body: {
            output: { message: { role: 'assistant', content: [{ text: JSON_TEXT }] } },
            stopReason: 'end_turn',
            usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
          },
        });
        const plain = await on(model, gatewayChatRequest({ response_format: WEATHER_FORMAT }));
        if (plain.kind !== 'json') return assert.fail('expected json');
        const choice = (plain.body.choices as JsonObject[])[0];
        assert.deepEqual(choice.message, { role: 'assistant', content: JSON_TEXT });
        upstream.nextStream(
          ['messageStart', { role: 'assistant' }],
          ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: '{"city":' } }],
          ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: '"Paris"}' } }],
          ['contentBlockStop', { contentBlockIndex: 0 }],
          ['messageStop', { stopReason: 'end_turn' }],
          ['metadata', { usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } }],
        );
        const streamed = await on(
          model,
          gatewayChatRequest({ stream: true, response_format: WEATHER_FORMAT }),
        );
        assertStreamedTextAnswer(await collectStream(streamed as StreamAnswer), JSON_TEXT);
        for (const call of upstream.calls) {
          assert.deepEqual(call.body.outputConfig, weatherConfig, model);
          assert.equal(call.body.toolConfig, undefined, model);
        }
        assert.equal(upstream.lastSignatureProblem, undefined);
      }
    });

    it('asks for any object for json_object, and keeps the client tools beside it', async () => {
      await on(
        QWEN,
        gatewayChatRequest({ response_format: { type: 'json_object' }, tools: [WEATHER_TOOL] }),
      );
      const body = upstream.calls[0].body;
      assert.deepEqual(body.outputConfig, {
        textFormat: {
          type: 'json_schema',
          structure: { jsonSchema: { schema: '{"type":"object"}' } },
        },
      });
      const tools = (body.toolConfig as { tools: JsonObject[] }).tools;
      assert.deepEqual(
        tools.map((tool) => (tool.toolSpec as JsonObject).name),
        ['get_weather'],
      );
    });

    it('refuses JSON for a family with neither (Llama, by any name) with a 400 naming response_format, before calling', async () => {
      for (const model of [
        'meta.llama3-3-70b-instruct-v1:0',
        'us.meta.llama3-3-70b-instruct-v1:0',
        'arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-3-70b-instruct-v1:0',
      ]) {
        for (const response_format of [WEATHER_FORMAT, { type: 'json_object' }]) {
          for (const stream of [false, true]) {
            await assert.rejects(
              on(model, gatewayChatRequest({ stream, response_format })),
              (error: unknown) =>
                error instanceof DataPlaneError &&
                error.code === DataPlaneErrorCode.InvalidRequest &&
                error.param === 'response_format' &&
                error.message.includes(model) &&
                /cannot answer in JSON/.test(error.message),
            );
          }
        }
      }
      assert.equal(upstream.calls.length, 0);
      // Prose is still served.
      await on('us.meta.llama3-3-70b-instruct-v1:0', gatewayChatRequest());
      assert.equal(upstream.calls.length, 1);
    });

    it('keeps the forced answer tool for Nova and for an ARN that does not say its model', async () => {
      for (const model of [
        'us.amazon.nova-pro-v1:0',
        'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3',
      ]) {
        upstream.reset();
        const answer = await on(model, gatewayChatRequest({ response_format: WEATHER_FORMAT }));
        const toolConfig = upstream.calls[0].body.toolConfig as JsonObject;
        assert.deepEqual(toolConfig.toolChoice, { tool: { name: 'weather_report' } }, model);
        assert.equal(upstream.calls[0].body.outputConfig, undefined, model);
        if (answer.kind !== 'json') return assert.fail('expected json');
        const choice = (answer.body.choices as JsonObject[])[0];
        assert.deepEqual(choice.message, { role: 'assistant', content: '{"city":"Paris"}' });
      }
    });
  });

  it("answers a response_format beside the client's tools natively on Claude 4.5 and later (outputConfig)", async () => {
    // A Messages client's output_config.format with tools, failed over onto Bedrock.
    const sonnet = { ...target, model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' };
    await adapter.invoke({
      request: gatewayChatRequest({ response_format: WEATHER_FORMAT, tools: [WEATHER_TOOL] }),
      target: sonnet,
      signal: new AbortController().signal,
    });
    const body = upstream.calls[0].body;
    const textFormat = (body.outputConfig as JsonObject).textFormat as JsonObject;
    assert.equal(textFormat.type, 'json_schema');
    const toolConfig = body.toolConfig as JsonObject;
    const tools = toolConfig.tools as JsonObject[];
    // The client's own tool, offered as it is: no forced answer tool beside it.
    assert.deepEqual(
      tools.map((tool) => (tool.toolSpec as JsonObject).name),
      ['get_weather'],
    );
    assert.equal(toolConfig.toolChoice, undefined);
  });

  it('refuses tools beside a response_format it answers through a tool, before calling', async () => {
    for (const response_format of [WEATHER_FORMAT, { type: 'json_object' }]) {
      await assert.rejects(
        invoke(gatewayChatRequest({ response_format, tools: [WEATHER_TOOL] })),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === 'response_format' &&
          /bedrock backend cannot combine tools with response_format/.test(error.message),
      );
    }
    assert.equal(upstream.calls.length, 0);
    await invoke(gatewayChatRequest({ response_format: { type: 'text' } }));
    assert.equal(upstream.calls[0].body.toolConfig, undefined);
    assert.equal(upstream.calls[0].body.outputConfig, undefined);
  });

  it('is refused by the fake when signed with the wrong secret', async () => {
    const wrong = new BedrockAdapter(undefined, {
      ...TEST_AWS_CREDENTIALS,
      secretAccessKey: 'not-the-secret',
    });
    await assert.rejects(
      wrong.invoke({ request: gatewayChatRequest(), target, signal: new AbortController().signal }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        // The gateway's own credential refused: a 502 that fails over, not the client's 400.
        error.code === DataPlaneErrorCode.UpstreamError &&
        error.upstreamStatus === 403,
    );
    assert.equal(upstream.lastSignatureProblem, 'signature does not match');
  });

  it("relays Bedrock's refusal of an assistant prefill as the client's 400, not a backend failure", async () => {
    upstream.next({ kind: 'status', status: 400, body: { message: PREFILL_REFUSAL } });
    const prefill = prefillChatRequest();
    await assert.rejects(
      adapter.invoke({
        request: prefill,
        target: { ...target, model: 'us.anthropic.claude-opus-4-7' },
        signal: new AbortController().signal,
      }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.UpstreamRejected &&
        error.trigger === undefined &&
        error.message.includes(PREFILL_REFUSAL),
    );
    const sent = upstream.calls[0].body.messages as JsonObject[];
    assert.equal(sent.at(-1)?.role, 'assistant');
  });

  it('opens a conversation that starts with the assistant with a user turn, as Converse requires', async () => {
    // OpenAI takes a chat whose first turn after the system prompt is the assistant's
    // greeting; Converse refuses any conversation that does not start with a user message.
    const greeted = gatewayChatRequest({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'assistant', content: 'Hi! How can I help?' },
        { role: 'user', content: 'Weather in Paris?' },
      ],
    });
    for (const stream of [false, true]) {
      upstream.reset();
      const answer = await invoke({ ...greeted, stream });
      if (answer.kind === 'stream') await collectStream(answer);
      const sent = upstream.calls[0].body.messages as { role: string; content: JsonObject[] }[];
      assert.deepEqual(
        sent.map((message) => message.role),
        ['user', 'assistant', 'user'],
      );
      assert.ok(String(sent[0].content[0].text).trim() !== '', 'the opening turn is not blank');
      assert.deepEqual(sent[1].content, [{ text: 'Hi! How can I help?' }]);
    }
  });

  it("fails over on Bedrock's 424 ModelErrorException (the model failed), not a client 400", async () => {
    // Converse, ConverseStream and InvokeModel answer 424 when the model behind them failed.
    const modelError = {
      message: 'Received server error (500) from model. See CloudWatch logs for details.',
      originalStatusCode: 500,
    };
    const headers = { 'x-amzn-errortype': 'ModelErrorException' };
    for (const stream of [false, true]) {
      upstream.next({ kind: 'status', status: 424, body: modelError, headers });
      await assert.rejects(invoke(gatewayChatRequest({ stream })), (error: unknown) => {
        assert.ok(error instanceof DataPlaneError, String(error));
        assert.equal(error.code, DataPlaneErrorCode.UpstreamError, error.message);
        assert.equal(error.upstreamStatus, 424);
        assert.match(error.message, /Received server error \(500\) from model/);
        return true;
      });
    }
  });

  it('fails over on a Converse quota or throttling exception answered as 400, plain and streamed', async () => {
    for (const stream of [false, true]) {
      for (const type of ['ServiceQuotaExceededException', 'ThrottlingException']) {
        upstream.next({
          kind: 'status',
          status: 400,
          body: { message: `${type} for this account` },
          headers: { 'x-amzn-errortype': type, 'retry-after': '5' },
        });
        await assert.rejects(invoke(gatewayChatRequest({ stream })), (error: unknown) => {
          assert.ok(error instanceof DataPlaneError, String(error));
          assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited, error.message);
          assert.equal(error.upstreamStatus, 400);
          assert.equal(error.retryAfterMs, 5000);
          return true;
        });
      }
    }
    // Any other 400 stays the client's.
    upstream.next({
      kind: 'status',
      status: 400,
      body: { message: 'The model returned the following errors: bad input' },
      headers: { 'x-amzn-errortype': 'ValidationException' },
    });
    await assert.rejects(invoke(gatewayChatRequest()), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError, String(error));
      assert.equal(error.code, DataPlaneErrorCode.UpstreamRejected);
      return true;
    });
  });

  it('sends a Bedrock API key as a bearer token instead of signing', async () => {
    const keyed = upstreamTarget(
      { provider: 'bedrock', model: MODEL, baseUrl: upstream.baseUrl },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'bedrock-api-key' },
    );
    await assert.rejects(
      adapter.invoke({
        request: gatewayChatRequest(),
        target: keyed,
        signal: new AbortController().signal,
      }),
      (error: unknown) => error instanceof DataPlaneError && error.upstreamStatus === 403,
    );
    assert.equal(upstream.calls[0].headers.authorization, 'Bearer bedrock-api-key');
    assert.equal(upstream.calls[0].headers['x-amz-date'], undefined);
  });

  it('rejects embeddings on a model that does not embed, and image links, before calling', async () => {
    await assert.rejects(
      invoke(gatewayChatRequest({ input: 'x' }, { operation: 'embeddings' })),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.InvalidRequest,
    );
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
    assert.equal(upstream.calls.length, 0);
  });

  itMapsUpstreamFailures({
    upstream: () => upstream,
    invoke,
    plain: () => gatewayChatRequest(),
    streaming: () => gatewayChatRequest({ stream: true }),
  });
});

describe('BedrockAdapter with temporary AWS credentials (a session token)', () => {
  const upstream = new FakeBedrockUpstream(TEST_AWS_CREDENTIALS);
  const TOKEN = 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN';
  const saved = { ...process.env };
  let adapter: BedrockAdapter;

  before(async () => {
    // What an assumed role, SSO or a pod identity leaves in the environment.
    process.env.AWS_ACCESS_KEY_ID = TEST_AWS_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = TEST_AWS_CREDENTIALS.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = TOKEN;
    delete process.env.AWS_PROFILE;
    adapter = new BedrockAdapter();
    await upstream.start();
  });
  after(async () => {
    process.env = saved;
    await upstream.stop();
  });

  it('sends the session token as X-Amz-Security-Token, inside the signature', async () => {
    const target = upstreamTarget({
      provider: 'bedrock',
      model: MODEL,
      baseUrl: `${upstream.baseUrl}/`,
    });
    // A regional name in the baseUrl is the region signed for: a proxy's host names none.
    process.env.AWS_REGION = 'eu-central-1';
    const answer = await adapter.invoke({
      request: gatewayChatRequest(),
      target,
      signal: new AbortController().signal,
    });
    assert.equal(answer.kind, 'json');
    assert.equal(upstream.lastSignatureProblem, undefined);
    const headers = upstream.calls[0].headers;
    assert.equal(headers['x-amz-security-token'], TOKEN);
    const signed = /SignedHeaders=([^,]+)/.exec(String(headers.authorization))?.[1].split(';');
    assert.ok(signed?.includes('x-amz-security-token'), String(headers.authorization));
    assert.match(String(headers.authorization), /\/eu-central-1\/bedrock\/aws4_request/);
  });
});
