import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  collectStream,
  FakeAnthropicUpstream,
  gatewayChatRequest,
  streamedText,
  streamedToolCalls,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';
import { AnthropicAdapter } from './anthropic.adapter';

// Anthropic refuses a request whose messages carry tool_use or tool_result blocks and that
// defines no tools ("Requests which include `tool_use` or `tool_result` blocks must define
// tools"), where OpenAI takes one: an agent loop's last turn asking for an answer without
// tools, a summariser sending a transcript. Claude on Vertex is the same API.

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

/** A question, the assistant's two tool calls and their results, and a follow-up. */
const TOOL_HISTORY = [
  { role: 'user', content: 'Weather in Paris, and the time?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
      { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
  { role: 'tool', tool_call_id: 'call_2', content: '12:00' },
  { role: 'user', content: 'Sum that up in one line.' },
];

/** The tools a Messages body defines, and its tool_choice. */
function toolsOf(body: JsonObject): { names: string[]; choice: unknown } {
  const tools = (body.tools ?? []) as { name: string }[];
  return { names: tools.map((tool) => tool.name), choice: body.tool_choice };
}

function sharedCases(
  invoke: (request: GatewayRequest) => ReturnType<AnthropicAdapter['invoke']>,
  lastBody: () => JsonObject,
  callCount: () => number,
): void {
  it('answers a tool history sent without tools; the history is kept, no tool can be called', async () => {
    const answer = await invoke(gatewayChatRequest({ messages: TOOL_HISTORY }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, { role: 'assistant', content: 'Hello from Claude.' });
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(answer.usage?.outputTokens, 9);
    const body = lastBody();
    // The calls and results stay tool blocks; their tools are declared and ruled out.
    const kinds = (body.messages as { content: { type: string }[] }[]).flatMap((message) =>
      message.content.map((block) => block.type),
    );
    assert.deepEqual(kinds, ['text', 'tool_use', 'tool_use', 'tool_result', 'tool_result', 'text']);
    assert.deepEqual(toolsOf(body), {
      names: ['get_weather', 'get_time'],
      choice: { type: 'none' },
    });
  });

  it('does the same streaming', async () => {
    const answer = await invoke(gatewayChatRequest({ messages: TOOL_HISTORY, stream: true }));
    if (answer.kind !== 'stream') return assert.fail('expected a stream');
    const chunks = await collectStream(answer);
    assert.equal(streamedText(chunks), 'Hello from Claude.');
    assert.deepEqual(streamedToolCalls(chunks), []);
    assert.deepEqual(toolsOf(lastBody()).choice, { type: 'none' });
  });

  it('answers tool_choice none beside a tool history without tools the same way', async () => {
    const answer = await invoke(
      gatewayChatRequest({ messages: TOOL_HISTORY, tool_choice: 'none' }),
    );
    if (answer.kind !== 'json') return assert.fail('expected json');
    const message = (answer.body.choices as { message: JsonObject }[])[0].message;
    assert.equal(message.tool_calls, undefined);
    assert.deepEqual(toolsOf(lastBody()), {
      names: ['get_weather', 'get_time'],
      choice: { type: 'none' },
    });
  });

  it('sends the client tools with tool_choice none, and no tool is called', async () => {
    const answer = await invoke(
      gatewayChatRequest({ messages: TOOL_HISTORY, tools: [WEATHER_TOOL], tool_choice: 'none' }),
    );
    if (answer.kind !== 'json') return assert.fail('expected json');
    const message = (answer.body.choices as { message: JsonObject }[])[0].message;
    assert.equal(message.tool_calls, undefined);
    assert.deepEqual(toolsOf(lastBody()), { names: ['get_weather'], choice: { type: 'none' } });
  });

  it("sends only the client's tools when it offers some, though the history called others", async () => {
    // Tools defined, the Messages API takes the history's blocks: no tool is declared in
    // the client's name, nor is a call it allows ruled out.
    const answer = await invoke(
      gatewayChatRequest({ messages: TOOL_HISTORY, tools: [WEATHER_TOOL] }),
    );
    if (answer.kind !== 'json') return assert.fail('expected json');
    const message = (answer.body.choices as { message: JsonObject }[])[0].message;
    assert.equal(
      (message.tool_calls as { function: { name: string } }[])[0].function.name,
      'get_weather',
    );
    assert.deepEqual(toolsOf(lastBody()), { names: ['get_weather'], choice: undefined });
  });

  for (const choice of ['none', 'auto']) {
    it(`answers tool_choice ${choice} sent without tools or tool history, sending no tool_choice`, async () => {
      const answer = await invoke(gatewayChatRequest({ tool_choice: choice }));
      if (answer.kind !== 'json') return assert.fail('expected json');
      const message = (answer.body.choices as { message: JsonObject }[])[0].message;
      assert.deepEqual(message, { role: 'assistant', content: 'Hello from Claude.' });
      assert.deepEqual(toolsOf(lastBody()), { names: [], choice: undefined });
    });
  }

  it('refuses a forced call without tools as OpenAI does, calling no backend', async () => {
    // tool_choice required with no tools asks for the impossible: the history's tools,
    // ruled out, must not turn it into a text answer, nor Claude's refusal cost a call.
    await assert.rejects(
      invoke(gatewayChatRequest({ messages: TOOL_HISTORY, tool_choice: 'required' })),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'tool_choice',
    );
    assert.equal(callCount(), 0);
  });

  it('declares nothing for a conversation without tool blocks', async () => {
    await invoke(gatewayChatRequest());
    assert.deepEqual(toolsOf(lastBody()), { names: [], choice: undefined });
  });
}

describe('Claude on the Messages API: a tool history sent without tools', () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  let target: UpstreamTarget;

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
      { headerName: 'x-api-key', value: 'sk-ant-secret' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  sharedCases(
    (request) => adapter.invoke({ request, target, signal: new AbortController().signal }),
    () => upstream.calls.at(-1)!.body,
    () => upstream.calls.length,
  );
});

describe('Claude on Vertex AI: a tool history sent without tools', () => {
  const { claude, target, invoke } = useFakeVertexEndpoints({
    project: 'proj-1',
    location: 'us-east5',
  });
  sharedCases(
    (request) => invoke(request, target('claude-sonnet-4-5@20250929', claude.baseUrl)),
    () => claude.calls.at(-1)!.body,
    () => claude.calls.length,
  );
});
