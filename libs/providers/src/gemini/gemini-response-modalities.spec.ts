import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { parseChatRequest } from '../core/chat-request';
import { withoutGatewayExtensions } from '../core/openai-extensions';
import { toGeminiRequest } from './gemini-request';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';

// A Gemini client's responseModalities (provider_extras.response_modalities): sent to
// Gemini as generationConfig.responseModalities, as it came; IMAGE refused, never dropped,
// by every backend that answers text only (the image asked for would be left out).

const IMAGE_AND_TEXT = { provider_extras: { response_modalities: ['TEXT', 'IMAGE'] } };

function isImageRefusal(error: unknown): boolean {
  return (
    error instanceof DataPlaneError &&
    error.httpStatus === 400 &&
    error.message.includes('generationConfig.responseModalities IMAGE')
  );
}

describe('responseModalities on a Gemini backend', () => {
  const { upstream, invoke } = fakeGeminiBackend();

  it('goes in generationConfig as sent', async () => {
    await invoke(gatewayChatRequest({ ...IMAGE_AND_TEXT, temperature: 0.5 }));
    assert.deepEqual(upstream.calls[0].body.generationConfig, {
      temperature: 0.5,
      responseModalities: ['TEXT', 'IMAGE'],
    });
  });

  it('is built into the request from the parsed prompt, TEXT alone too', () => {
    const prompt = parseChatRequest(
      gatewayChatRequest({ provider_extras: { response_modalities: ['TEXT'] } }).body,
      { imageOutput: true },
    );
    const generation = toGeminiRequest(prompt).generationConfig as JsonObject;
    assert.deepEqual(generation.responseModalities, ['TEXT']);
  });

  it('refuses a malformed list before calling Gemini', async () => {
    upstream.calls.length = 0;
    await assert.rejects(
      invoke(gatewayChatRequest({ provider_extras: { response_modalities: ['AUDIO'] } })),
      (error: unknown) =>
        error instanceof DataPlaneError && /response_modalities/.test(error.message),
    );
    assert.equal(upstream.calls.length, 0);
  });
});

describe('responseModalities on Vertex AI', () => {
  const { gemini, claude, target, invoke } = useFakeVertexEndpoints({
    project: 'proj-one',
    location: 'us-central1',
  });

  it('goes to a Gemini model as sent; a Claude model refuses IMAGE, calling nothing', async () => {
    const request = gatewayChatRequest(IMAGE_AND_TEXT);
    await invoke(request, target('gemini-2.5-flash-image', gemini.baseUrl));
    const generation = gemini.calls[0].body.generationConfig as JsonObject;
    assert.deepEqual(generation.responseModalities, ['TEXT', 'IMAGE']);
    await assert.rejects(
      invoke(request, target('claude-sonnet-4-5@20250929', claude.baseUrl)),
      isImageRefusal,
    );
    assert.equal(claude.calls.length, 0);
  });
});

describe('responseModalities on backends that answer text only', () => {
  it('IMAGE is refused by the translating adapters and OpenAI-format backends', () => {
    const body = gatewayChatRequest(IMAGE_AND_TEXT).body;
    assert.throws(() => parseChatRequest(body), isImageRefusal);
    assert.throws(() => withoutGatewayExtensions(body), isImageRefusal);
  });

  it('TEXT alone is their answer anyway: taken, and stripped for OpenAI', () => {
    const body = gatewayChatRequest({ provider_extras: { response_modalities: ['TEXT'] } }).body;
    assert.doesNotThrow(() => parseChatRequest(body));
    assert.equal('provider_extras' in withoutGatewayExtensions(body), false);
  });
});
