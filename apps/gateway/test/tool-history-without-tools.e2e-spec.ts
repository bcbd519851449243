// What OpenAI clients send routinely and some backends refuse: a conversation whose
// history holds tool calls and results, on a call that offers no tools. A Responses chain
// (previous_response_id) that continues without tools, and an agent loop's last chat turn
// with tool_choice none, each answered on Claude and on Gemini with the usage reported.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FakeAnthropicUpstream, FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
  strict: false,
};

const CHAT_HISTORY: OpenAI.Chat.ChatCompletionMessageParam[] = [
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

describe('a tool history on a call without tools, through the gateway', () => {
  const claude = new FakeAnthropicUpstream();
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([claude.start(), gemini.start()]);
    gateway = await startGatewayWithConfig(
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: tool-history-without-tools}
spec:
  backends:
  - {name: claude, provider: anthropic, baseUrl: "${claude.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-sonnet-4-5, modelNameOverride: claude}
  - {name: gemini, provider: google-gemini, baseUrl: "${gemini.baseUrl}", auth: {apiKeyRef: {name: gemini-key}}, model: gemini-2.5-flash, modelNameOverride: gemini}
`,
      {
        AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
        AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaTestKey123456',
      },
    );
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([claude.stop(), gemini.stop()]);
  });

  it('continues a Responses chain on Claude without tools after a function call', async () => {
    claude.reset();
    const first = await client.responses.create({
      model: 'claude',
      input: 'Weather in Paris?',
      tools: [WEATHER_TOOL],
    });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.equal(call?.type, 'function_call');
    if (call?.type !== 'function_call') return;
    const second = await client.responses.create({
      model: 'claude',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'Sunny' }],
    });
    assert.equal(second.status, 'completed');
    assert.equal(second.output_text, 'Hello from Claude.');
    assert.ok(second.output.every((item) => item.type !== 'function_call'));
    assert.equal(second.usage?.output_tokens, 9);
    const sent = claude.calls[1].body;
    assert.deepEqual(
      (sent.tools as { name: string }[]).map((tool) => tool.name),
      ['get_weather'],
    );
    assert.deepEqual(sent.tool_choice, { type: 'none' });
  });

  it('answers a Messages client sending a tool history without tools on Claude', async () => {
    // What Anthropic itself refuses; through the gateway the same as an OpenAI client's.
    claude.reset();
    const response = await fetch(`${gateway.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'client-key' },
      body: JSON.stringify({
        model: 'claude',
        max_tokens: 64,
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny' },
              { type: 'text', text: 'Sum that up in one line.' },
            ],
          },
        ],
      }),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    const message = JSON.parse(text) as { content: { type: string }[]; stop_reason: string };
    assert.deepEqual(
      message.content.map((block) => block.type),
      ['text'],
    );
    assert.equal(message.stop_reason, 'end_turn');
    const sent = claude.calls[0].body;
    assert.deepEqual(
      (sent.tools as { name: string }[]).map((tool) => tool.name),
      ['get_weather'],
    );
    assert.deepEqual(sent.tool_choice, { type: 'none' });
  });

  for (const model of ['claude', 'gemini']) {
    it(`answers an agent loop's last turn on ${model}: tool_choice none, no tools`, async () => {
      const completion = await client.chat.completions.create({
        model,
        messages: CHAT_HISTORY,
        tool_choice: 'none',
      });
      const [choice] = completion.choices;
      assert.equal(choice.finish_reason, 'stop');
      assert.equal(choice.message.tool_calls, undefined);
      assert.ok((choice.message.content ?? '').length > 0);
      assert.ok((completion.usage?.completion_tokens ?? 0) > 0);
    });
  }
});
