// A Gemini API function-calling loop on DeepSeek's thinking mode (V3.2 and later, on by
// default). DeepSeek answers 400 "The reasoning_content in the thinking mode must be passed
// back to the API" when an assistant turn that called tools comes back without its
// reasoning_content. A Gemini client sends back the model's content as it came, and the
// request side reads no thought part as input, so the reasoning must ride where Gemini's
// clients keep it: the first function call's `thoughtSignature` (as a Claude backend's
// signed thinking does). Plain and streamed, with and without thought summaries, with
// Google's SDK against the fake OpenAI tool upstream in DeepSeek's thinking mode.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI, type Content, type Part } from '@google/genai';
import { FakeOpenAiToolUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const THINKING = 'The user wants the weather in Paris; I will call get_weather.';

const QUESTION: Content = { role: 'user', parts: [{ text: 'Weather in Paris?' }] };

const TOOLS = [
  {
    functionDeclarations: [
      {
        name: 'get_weather',
        description: 'The weather in a city',
        parametersJsonSchema: {
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        },
      },
    ],
  },
];

/** The function's answer to the call among `parts`, as a user turn. */
function toolResult(parts: readonly Part[]): Content {
  const call = parts.find((part) => part.functionCall)?.functionCall;
  assert.ok(call?.name, JSON.stringify(parts));
  return {
    role: 'user',
    parts: [{ functionResponse: { id: call.id, name: call.name, response: { output: 'Sunny' } } }],
  };
}

describe('the Gemini API on DeepSeek thinking mode, in a function-calling loop', () => {
  const upstream = new FakeOpenAiToolUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await upstream.start();
    upstream.thinking = THINKING;
    gateway = await startGatewayWithConfig(
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: gemini-deepseek}
spec:
  backends:
  - name: deepseek
    provider: deepseek
    baseUrl: ${upstream.baseUrl}
    model: deepseek-v4-pro
    modelNameOverride: deepseek-thinker
`,
    );
    client = new GoogleGenAI({ apiKey: 'client-key', httpOptions: { baseUrl: gateway.baseUrl } });
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  /** The assistant turn that called the tool, as DeepSeek got it on the last call. */
  function toolTurnSent(): Record<string, unknown> {
    const messages = upstream.calls.at(-1)?.body.messages as Record<string, unknown>[];
    const turn = messages.find((message) => Array.isArray(message.tool_calls));
    assert.ok(turn, JSON.stringify(messages));
    return turn;
  }

  for (const includeThoughts of [false, true]) {
    const config = { tools: TOOLS, thinkingConfig: { includeThoughts } };

    it(`plain${includeThoughts ? ', with thought summaries' : ''}: the model turn sent back gives DeepSeek its reasoning_content`, async () => {
      upstream.reset();
      const first = await client.models.generateContent({
        model: 'deepseek-thinker',
        contents: [QUESTION],
        config,
      });
      const turn = first.candidates?.[0]?.content;
      assert.ok(turn?.parts, JSON.stringify(first));
      const thoughts = turn.parts.filter((part) => part.thought === true);
      assert.deepEqual(
        thoughts.map((part) => part.text),
        includeThoughts ? [THINKING] : [],
      );

      const next = await client.models.generateContent({
        model: 'deepseek-thinker',
        contents: [QUESTION, turn, toolResult(turn.parts)],
        config,
      });
      assert.equal(next.text, 'The tool said: {"output":"Sunny"}');
      assert.equal(toolTurnSent().reasoning_content, THINKING);
      assert.equal('thinking_blocks' in toolTurnSent(), false);
    });

    it(`streamed${includeThoughts ? ', with thought summaries' : ''}: the parts sent back give DeepSeek its reasoning_content`, async () => {
      upstream.reset();
      const stream = await client.models.generateContentStream({
        model: 'deepseek-thinker',
        contents: [QUESTION],
        config,
      });
      const parts: Part[] = [];
      for await (const chunk of stream)
        parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []));
      assert.equal(upstream.calls[0]?.body.stream, true);

      const turn: Content = { role: 'model', parts };
      const next = await client.models.generateContent({
        model: 'deepseek-thinker',
        contents: [QUESTION, turn, toolResult(parts)],
        config,
      });
      assert.equal(next.text, 'The tool said: {"output":"Sunny"}');
      assert.equal(toolTurnSent().reasoning_content, THINKING);
    });
  }
});
