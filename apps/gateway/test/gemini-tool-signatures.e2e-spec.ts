// Tool use over several turns with a Gemini 3 backend, through the all-in-one gateway, with
// the official openai client. Gemini 3 signs each function call it makes and refuses its
// calls back in the history without the signature: the gateway hands it to the client on
// the tool call (extra_content.google.thought_signature, as Google's own OpenAI-compatible
// endpoint does), so a client that appends the assistant message it got sends it back; a
// client that rebuilt the message gets Google's documented bypass instead of a 400.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
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

  it('continues the loop when the client rebuilt the assistant message without the signature', async () => {
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
    assert.equal(sentCall?.thoughtSignature, 'skip_thought_signature_validator');
  });
});
