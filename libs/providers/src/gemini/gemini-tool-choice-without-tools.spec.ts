import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';

// The Gemini API (2.5 and earlier) refuses a functionCallingConfig with no function
// declarations for it to govern ("Function calling config is set without
// function_declarations"): an OpenAI client's tool_choice with no tools, as an agent
// loop's last turn or a summariser sends, must not become one.

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

/** A question, the assistant's tool call and its result, and a follow-up. */
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
  { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
  { role: 'user', content: 'Sum that up in one line.' },
];

describe('Gemini: tool_choice with no tools, and none with tools', () => {
  const { upstream, invoke } = fakeGeminiBackend();
  const message = async (body: JsonObject) => {
    const answer = await invoke(gatewayChatRequest(body));
    if (answer.kind !== 'json') return assert.fail('expected json');
    return (answer.body.choices as { message: JsonObject }[])[0].message;
  };

  for (const choice of ['none', 'auto']) {
    it(`answers tool_choice ${choice} sent without tools after tool calls, with no calling config`, async () => {
      const answer = await message({ messages: TOOL_HISTORY, tool_choice: choice });
      assert.equal(typeof answer.content, 'string');
      assert.equal(answer.tool_calls, undefined);
      const body = upstream.calls[0].body;
      assert.equal(body.toolConfig, undefined);
      assert.equal(body.tools, undefined);
      // The history's call and result stay as Gemini's own parts.
      const parts = (body.contents as { parts: JsonObject[] }[]).flatMap((c) => c.parts);
      assert.ok(parts.some((part) => 'functionCall' in part));
      assert.ok(parts.some((part) => 'functionResponse' in part));
    });
  }

  it('sends tool_choice none with tools as mode NONE, and no tool is called', async () => {
    const answer = await message({
      messages: TOOL_HISTORY,
      tools: [WEATHER_TOOL],
      tool_choice: 'none',
    });
    assert.equal(answer.tool_calls, undefined);
    assert.deepEqual(upstream.calls[0].body.toolConfig, {
      functionCallingConfig: { mode: 'NONE' },
    });
  });
});
