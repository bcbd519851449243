import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  type GatewayRequest,
  type JsonObject,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';
import {
  collectStream,
  FAKE_CODE_RESULT,
  FAKE_EXECUTABLE_CODE,
  FAKE_GROUNDING_METADATA,
  FAKE_TOOL_TEXT_AFTER,
  FAKE_TOOL_TEXT_BEFORE,
  FAKE_URL_CONTEXT_METADATA,
  gatewayChatRequest,
  streamedText,
} from '@aigw/testing/fake-provider';
import { parseChatRequest } from '../core/chat-request';
import { withoutGatewayExtensions } from '../core/openai-extensions';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';

// Gemini's built-in tools through the Gemini adapter: sent as the client's Tool objects,
// their answer parts and metadata carried in extra_content.google, their prompt tokens
// billed as input; refused by every adapter that cannot run them.

const BUILT_IN = [{ googleSearch: {} }, { codeExecution: {} }, { urlContext: {} }];
const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
};

function asking(extra: JsonObject = {}): GatewayRequest {
  return gatewayChatRequest({ provider_extras: { gemini_tools: BUILT_IN }, ...extra });
}

function isToolRefusal(tool: string) {
  return (error: unknown) =>
    error instanceof DataPlaneError &&
    error.httpStatus === 400 &&
    error.message.includes(`the ${tool} tool is run by Gemini and Vertex Gemini backends only`);
}

describe('Gemini built-in tools on a Gemini backend', () => {
  const { upstream, invoke } = fakeGeminiBackend();

  it('sends the tools after the function declarations, as they came', async () => {
    await invoke(asking({ tools: [WEATHER_TOOL] }));
    const tools = upstream.calls[0].body.tools as JsonObject[];
    assert.deepEqual(tools.slice(1), BUILT_IN);
    assert.equal((tools[0].functionDeclarations as JsonObject[])[0].name, 'get_weather');
  });

  it('answers the code, its result and the metadata in extra_content.google, and bills the tool-use tokens as input', async () => {
    const answer = await invoke(asking());
    if (answer.kind !== 'json') return assert.fail('expected json');
    const [choice] = answer.body.choices as JsonObject[];
    const message = choice.message as JsonObject;
    assert.equal(message.content, FAKE_TOOL_TEXT_BEFORE + FAKE_TOOL_TEXT_AFTER);
    const at = FAKE_TOOL_TEXT_BEFORE.length;
    assert.deepEqual(message.extra_content, {
      google: {
        tool_parts: [
          { at, part: FAKE_EXECUTABLE_CODE },
          { at, part: FAKE_CODE_RESULT },
        ],
        grounding_metadata: FAKE_GROUNDING_METADATA,
        url_context_metadata: FAKE_URL_CONTEXT_METADATA,
      },
    });
    // 30 of the prompt's and 25 of the tools'.
    assert.equal(answer.usage.inputTokens, 55);
    assert.equal(answer.usage.outputTokens, 12);
    assert.deepEqual((answer.body.usage as JsonObject).extra_content, {
      google: { tool_use_prompt_token_count: 25 },
    });
  });

  it('streams the code and its result on the event they came in, the metadata and tool-use tokens at the finish', async () => {
    const answer = (await invoke(asking({ stream: true }))) as StreamAnswer;
    const chunks = await collectStream(answer);
    assert.equal(streamedText(chunks), FAKE_TOOL_TEXT_BEFORE + FAKE_TOOL_TEXT_AFTER);
    const extras = chunks
      .map((chunk) => ((chunk.choices as JsonObject[])[0]?.delta as JsonObject)?.extra_content)
      .filter((extra) => extra !== undefined) as JsonObject[];
    assert.deepEqual(extras, [
      {
        google: {
          tool_parts: [
            { at: 0, part: FAKE_EXECUTABLE_CODE },
            { at: 0, part: FAKE_CODE_RESULT },
          ],
        },
      },
      {
        google: {
          grounding_metadata: FAKE_GROUNDING_METADATA,
          url_context_metadata: FAKE_URL_CONTEXT_METADATA,
        },
      },
      { google: { tool_use_prompt_token_count: 25 } },
    ]);
    const usage = await answer.usage;
    assert.equal(usage.inputTokens, 55);
  });

  it('refuses a malformed gemini_tools before calling Gemini', async () => {
    await assert.rejects(
      invoke(gatewayChatRequest({ provider_extras: { gemini_tools: [{ googleMaps: {} }] } })),
      (error: unknown) => error instanceof DataPlaneError && /gemini_tools/.test(error.message),
    );
    assert.equal(upstream.calls.length, 0);
  });
});

describe('Gemini built-in tools on backends that cannot run them', () => {
  it('are refused by the translating adapters (Anthropic, Bedrock, Cohere, Claude on Vertex), naming the tool', () => {
    assert.throws(() => parseChatRequest(asking().body), isToolRefusal('googleSearch'));
    assert.equal(parseChatRequest(asking().body, { geminiTools: true }).geminiTools?.length, 3);
  });

  it('are refused on OpenAI-format backends rather than stripped', () => {
    assert.throws(() => withoutGatewayExtensions(asking().body), isToolRefusal('googleSearch'));
    // Other extras are still only stripped.
    const plain = withoutGatewayExtensions(
      gatewayChatRequest({ provider_extras: { top_k: 3 } }).body,
    );
    assert.equal(plain.provider_extras, undefined);
  });
});
