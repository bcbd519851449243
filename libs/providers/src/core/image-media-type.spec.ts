import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequest, JsonObject, UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  FakeAnthropicUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { AnthropicAdapter } from '../anthropic/anthropic.adapter';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';
import { imageMediaType } from './image-media-type';

// An inline image's media type reached Anthropic and Gemini as the client labelled it: an
// `image/jpg` data URL (a common spelling, which OpenAI and Bedrock take) or a JPEG labelled
// `image/png` was the backend's 400 for an image OpenAI would have read.

const JPEG = '/9j/4AAQSkZJRgABAQ==';
const PNG = 'iVBORw0KGgoAAAANSUhEUg==';
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00', 'latin1').toString('base64');
const WEBP = Buffer.from('RIFF\x1a\x00\x00\x00WEBPVP8L', 'latin1').toString('base64');

function imageRequest(dataUrl: string): GatewayRequest {
  return gatewayChatRequest({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: dataUrl } },
        ],
      },
    ],
  });
}

describe('imageMediaType', () => {
  it("takes the type the image's bytes show, whatever the label", () => {
    assert.equal(imageMediaType('image/png', JPEG), 'image/jpeg');
    assert.equal(imageMediaType('image/jpeg', PNG), 'image/png');
    assert.equal(imageMediaType('image/png', GIF), 'image/gif');
    assert.equal(imageMediaType('image/png', WEBP), 'image/webp');
  });

  it('keeps the label of bytes it does not know, image/jpg spelled image/jpeg', () => {
    assert.equal(imageMediaType('image/jpg', 'AAAA'), 'image/jpeg');
    assert.equal(imageMediaType('image/heic', 'AAAAHGZ0eXBoZWljAAAAAA=='), 'image/heic');
    assert.equal(imageMediaType('image/png', 'not base64 at all'), 'image/png');
  });
});

describe('an inline image labelled otherwise than its bytes', () => {
  const anthropic = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  let target: UpstreamTarget;
  before(async () => {
    await anthropic.start();
    target = upstreamTarget(
      { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: anthropic.baseUrl },
      { headerName: 'x-api-key', value: 'sk-ant-secret' },
    );
  });
  after(() => anthropic.stop());
  beforeEach(() => anthropic.reset());
  const gemini = fakeGeminiBackend();

  it('reaches Anthropic with the media type of its bytes', async () => {
    for (const dataUrl of [`data:image/JPG;base64,${JPEG}`, `data:image/png;base64,${JPEG}`]) {
      anthropic.reset();
      await adapter.invoke({
        request: imageRequest(dataUrl),
        target,
        signal: new AbortController().signal,
      });
      const [message] = anthropic.calls[0].body.messages as JsonObject[];
      assert.deepEqual((message.content as JsonObject[])[1].source, {
        type: 'base64',
        media_type: 'image/jpeg',
        data: JPEG,
      });
    }
  });

  it('reaches Gemini with the media type of its bytes', async () => {
    await gemini.invoke(imageRequest(`data:image/jpg;base64,${JPEG}`));
    const [content] = gemini.upstream.calls[0].body.contents as JsonObject[];
    assert.deepEqual((content.parts as JsonObject[])[1], {
      inlineData: { mimeType: 'image/jpeg', data: JPEG },
    });
  });
});
