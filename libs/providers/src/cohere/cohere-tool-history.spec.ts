import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequest, JsonObject, UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  FakeCohereUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { CohereAdapter } from './cohere.adapter';

// Cohere's v2 chat documents no rule against a tool history sent without tools, and its
// tool_choice NONE rules calls out beside tools: the history goes as Cohere's own
// tool_calls and tool messages, tools and tool_choice only when the client sent tools.

const TOOL_HISTORY = [
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ],
  },
  { role: 'tool', tool_call_id: 'call_1', content: '18C' },
  { role: 'user', content: 'Sum that up.' },
];

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
};

describe('Cohere: a tool history with no tools offered, and tool_choice none', () => {
  const upstream = new FakeCohereUpstream();
  const adapter = new CohereAdapter();
  let target: UpstreamTarget;
  const message = async (request: GatewayRequest) => {
    const answer = await adapter.invoke({ request, target, signal: new AbortController().signal });
    if (answer.kind !== 'json') return assert.fail('expected json');
    return (answer.body.choices as { message: JsonObject }[])[0].message;
  };

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'cohere', model: 'command-a-03-2025', baseUrl: upstream.baseUrl },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'co-secret' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  for (const choice of [undefined, 'none', 'auto']) {
    it(`sends the history as tool turns with no tools or tool_choice (tool_choice ${choice})`, async () => {
      const answer = await message(
        gatewayChatRequest({ messages: TOOL_HISTORY, ...(choice ? { tool_choice: choice } : {}) }),
      );
      assert.equal(answer.tool_calls, undefined);
      const body = upstream.calls[0].body;
      assert.equal(body.tools, undefined);
      assert.equal(body.tool_choice, undefined);
      const roles = (body.messages as { role: string }[]).map((m) => m.role);
      assert.deepEqual(roles, ['user', 'assistant', 'tool', 'user']);
    });
  }

  it('sends tool_choice none beside tools as NONE, and no tool is called', async () => {
    const answer = await message(
      gatewayChatRequest({ messages: TOOL_HISTORY, tools: [WEATHER_TOOL], tool_choice: 'none' }),
    );
    assert.equal(answer.tool_calls, undefined);
    assert.equal(upstream.calls[0].body.tool_choice, 'NONE');
  });
});
