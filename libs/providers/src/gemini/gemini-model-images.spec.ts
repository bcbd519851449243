import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { parseChatRequest } from '../core/chat-request';
import { withoutGatewayExtensions } from '../core/openai-extensions';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';

// An image model's images sent back in a later turn (the @google/genai chat helper keeps
// the model's answer, its inlineData parts included, in the history): the assistant turn
// carries them as image_url parts. Gemini backends read them as the model's own inlineData
// parts; every other backend takes images in user turns only, so it refuses them by name.

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const HISTORY = {
  messages: [
    { role: 'user', content: 'Draw a cat' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Here it is:' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
      ],
    },
    { role: 'user', content: 'Make it blue' },
  ],
};

const MODEL_TURN = {
  role: 'model',
  parts: [{ text: 'Here it is:' }, { inlineData: { mimeType: 'image/png', data: PNG } }],
};

function isAssistantImageRefusal(error: unknown): boolean {
  return (
    error instanceof DataPlaneError &&
    error.httpStatus === 400 &&
    /image in an assistant \(model\) turn/.test(error.message) &&
    /Gemini/.test(error.message) &&
    (error.param ?? '') === 'messages[1].content[1]'
  );
}

describe("a model turn's images on a Gemini backend", () => {
  const { upstream, invoke } = fakeGeminiBackend();

  it("go back as the model turn's inlineData parts, in order", async () => {
    await invoke(gatewayChatRequest(HISTORY));
    const contents = upstream.calls[0].body.contents as unknown[];
    assert.deepEqual(contents[1], MODEL_TURN);
  });
});

describe("a model turn's images on Vertex AI", () => {
  const { gemini, claude, target, invoke } = useFakeVertexEndpoints({
    project: 'proj-one',
    location: 'us-central1',
  });

  it('reach a Gemini model; a Claude model refuses them, calling nothing', async () => {
    const request = gatewayChatRequest(HISTORY);
    await invoke(request, target('gemini-2.5-flash-image', gemini.baseUrl));
    assert.deepEqual((gemini.calls[0].body.contents as unknown[])[1], MODEL_TURN);
    await assert.rejects(
      invoke(request, target('claude-sonnet-4-5@20250929', claude.baseUrl)),
      isAssistantImageRefusal,
    );
    assert.equal(claude.calls.length, 0);
  });
});

describe("a model turn's images on backends that take images in user turns only", () => {
  it('are refused by name by the translating adapters and OpenAI-format backends', () => {
    const body = gatewayChatRequest(HISTORY).body;
    assert.throws(() => parseChatRequest(body), isAssistantImageRefusal);
    assert.throws(() => withoutGatewayExtensions(body), isAssistantImageRefusal);
  });
});
