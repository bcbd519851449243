// Tool use over several turns with a Gemini 3 backend, through the all-in-one gateway, with
// the official openai client. Gemini 3 signs each function call it makes and refuses its
// calls back in the history without the signature: the gateway hands it to the client on
// the tool call (extra_content.google.thought_signature, as Google's own OpenAI-compatible
// endpoint does) and in the tool call's id, so a client that appends the assistant message it
// got, one that rebuilt it from id, type and function, and a Messages or Responses client all
// send it back; a call under an id of the client's own gets Google's documented bypass
// instead of a 400.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type {
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { FAKE_GEMINI_SIGNATURE, FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const WEATHER_TOOL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const ASK: ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris?' };

/** What the gateway sent Gemini: its contents. */
interface SentBody {
  contents: { role: string; parts: Record<string, unknown>[] }[];
}

/** The all-in-one gateway with one Gemini 3 backend, the fake Gemini API `upstream`. */
function startOnGeminiBackend(upstream: FakeGeminiUpstream): Promise<AppProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-backend-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `kind: AIGatewayRoute
metadata: {name: gemini-backend}
spec:
  backends:
  - name: gemini
    provider: google-gemini
    baseUrl: ${upstream.baseUrl}
    model: gemini-3-flash-preview
    modelNameOverride: gemini
    auth:
      apiKeyRef: {name: gemini-key}
`,
  );
  return startApp('gateway', {
    AI_GATEWAY_CONFIG: config,
    AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaTestKey',
  });
}

describe('all-in-one gateway: tool use over several turns on a Gemini 3 backend', () => {
  const upstream = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await upstream.start();
    gateway = await startOnGeminiBackend(upstream);
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  beforeEach(() => upstream.reset());

  /** The second turn: the assistant message as the client keeps it, and the call's result. */
  async function answerTheCall(assistant: ChatCompletionMessageParam, callId: string) {
    const completion = await client.chat.completions.create({
      model: 'gemini',
      messages: [ASK, assistant, { role: 'tool', tool_call_id: callId, content: '{"celsius":18}' }],
      tools: [WEATHER_TOOL],
    });
    const sent = upstream.calls.at(-1)?.body as unknown as SentBody;
    assert.equal(sent.contents[1].role, 'model');
    const sentCall = sent.contents[1].parts.find((part) => 'functionCall' in part);
    return { completion, sentCall };
  }

  function onlyFunctionCall(message: ChatCompletionMessage): ChatCompletionMessageFunctionToolCall {
    assert.equal(message.tool_calls?.length, 1);
    const call = message.tool_calls[0];
    if (call.type !== 'function') return assert.fail('expected a function call');
    return call;
  }

  it('continues the loop when the client appends the assistant message it got, sending Gemini its own signature back', async () => {
    const first = await client.chat.completions.create({
      model: 'gemini',
      messages: [ASK],
      tools: [WEATHER_TOOL],
    });
    const message = first.choices[0].message;
    const call = onlyFunctionCall(message);
    assert.deepEqual((call as unknown as Record<string, unknown>).extra_content, {
      google: { thought_signature: FAKE_GEMINI_SIGNATURE },
    });

    const { completion, sentCall } = await answerTheCall(message, call.id);
    assert.equal(completion.choices[0].message.content, 'It is 18°C in Paris.');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.equal(sentCall?.thoughtSignature, FAKE_GEMINI_SIGNATURE);
  });

  it("continues the loop from a streamed answer, whose signature the client's stream helper keeps", async () => {
    const stream = client.chat.completions.stream({
      model: 'gemini',
      messages: [ASK],
      tools: [WEATHER_TOOL],
    });
    const message = await stream.finalMessage();
    const call = onlyFunctionCall(message);

    const { completion, sentCall } = await answerTheCall(message, call.id);
    assert.equal(completion.choices[0].message.content, 'It is 18°C in Paris.');
    assert.equal(sentCall?.thoughtSignature, FAKE_GEMINI_SIGNATURE);
  });

  it('brings Gemini its own signature back when the client rebuilt the assistant message from id, type and function (the id carries it), and the bypass under an id of its own', async () => {
    const first = await client.chat.completions.create({
      model: 'gemini',
      messages: [ASK],
      tools: [WEATHER_TOOL],
    });
    const call = onlyFunctionCall(first.choices[0].message);
    const rebuilt: ChatCompletionMessageParam = {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: call.id,
          type: 'function',
          function: { name: call.function.name, arguments: call.function.arguments },
        },
      ],
    };

    const { completion, sentCall } = await answerTheCall(rebuilt, call.id);
    assert.equal(completion.choices[0].message.content, 'It is 18°C in Paris.');
    assert.equal(sentCall?.thoughtSignature, FAKE_GEMINI_SIGNATURE);

    // Under an id of the client's own the call has no signature: the bypass, not a 400.
    const renamed: ChatCompletionMessageParam = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'my_call_1', type: 'function', function: call.function }],
    };
    const bypassed = await answerTheCall(renamed, 'my_call_1');
    assert.equal(bypassed.completion.choices[0].message.content, 'It is 18°C in Paris.');
    assert.equal(bypassed.sentCall?.thoughtSignature, 'skip_thought_signature_validator');
  });

  it("keeps Gemini's signature across a Messages API tool loop with the official anthropic client, which has no extra_content", async () => {
    const anthropic = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const tools = [
      {
        name: 'get_weather',
        description: 'The weather in a city',
        input_schema: {
          type: 'object' as const,
          properties: { city: { type: 'string' } },
          required: ['city'],
        },
      },
    ];
    const ask = { role: 'user' as const, content: 'Weather in Paris?' };
    const first = await anthropic.messages.create({
      model: 'gemini',
      max_tokens: 200,
      messages: [ask],
      tools,
    });
    assert.equal(first.stop_reason, 'tool_use');
    const toolUse = first.content.find((block) => block.type === 'tool_use');
    if (toolUse?.type !== 'tool_use') return assert.fail('expected a tool_use block');
    assert.match(toolUse.id, /^[a-zA-Z0-9_-]+$/);

    const second = await anthropic.messages.create({
      model: 'gemini',
      max_tokens: 200,
      messages: [
        ask,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '{"celsius":18}' }],
        },
      ],
      tools,
    });
    const text = second.content.find((block) => block.type === 'text');
    assert.equal(text?.type === 'text' ? text.text : undefined, 'It is 18°C in Paris.');
    const sent = upstream.calls.at(-1)?.body as unknown as SentBody;
    const sentCall = sent.contents[1].parts.find((part) => 'functionCall' in part);
    assert.equal(sentCall?.thoughtSignature, FAKE_GEMINI_SIGNATURE);
  });

  it("keeps Gemini's signature across a Responses API tool loop with the openai client", async () => {
    const tools: OpenAI.Responses.FunctionTool[] = [
      {
        type: 'function',
        name: 'get_weather',
        description: 'The weather in a city',
        parameters: WEATHER_TOOL.function.parameters ?? null,
        strict: false,
      },
    ];
    const first = await client.responses.create({
      model: 'gemini',
      input: 'Weather in Paris?',
      tools,
    });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') return assert.fail('expected a function_call item');

    const second = await client.responses.create({
      model: 'gemini',
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          type: 'function_call',
          call_id: call.call_id,
          name: call.name,
          arguments: call.arguments,
        },
        { type: 'function_call_output', call_id: call.call_id, output: '{"celsius":18}' },
      ],
      tools,
    });
    assert.equal(second.output_text, 'It is 18°C in Paris.');
    const sent = upstream.calls.at(-1)?.body as unknown as SentBody;
    const sentCall = sent.contents[1].parts.find((part) => 'functionCall' in part);
    assert.equal(sentCall?.thoughtSignature, FAKE_GEMINI_SIGNATURE);
  });
});
