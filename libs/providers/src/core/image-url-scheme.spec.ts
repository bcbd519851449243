import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { parseChatRequest } from './chat-request';
import { withoutGatewayExtensions } from './openai-extensions';

// An image URL of a scheme other than http(s) or data went on to OpenAI-format backends as
// sent (the translating adapters refused it): a `file:///etc/passwd` image reached a
// self-hosted server that fetches image URLs itself.

function imageBody(url: string): JsonObject {
  return {
    model: 'm',
    messages: [
      { role: 'user', content: 'First look.' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url } }] },
    ],
  };
}

const PARAM = 'messages[1].content[0].image_url.url';

function isRefusal(error: unknown): boolean {
  return (
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    error.param === PARAM &&
    /http\(s\) or base64 data URL/.test(error.message)
  );
}

describe('an image URL of another scheme', () => {
  it('is a 400 naming it on an OpenAI-format backend, as on the translating ones', () => {
    for (const url of ['file:///etc/passwd', 'gopher://127.0.0.1:6379/_', 'ftp://host/a.png']) {
      assert.throws(() => withoutGatewayExtensions(imageBody(url)), isRefusal, url);
      assert.throws(() => parseChatRequest(imageBody(url)), isRefusal, url);
    }
  });

  it('leaves http(s) and data URLs, and the body, as they came', () => {
    for (const url of ['https://example.com/a.png', 'HTTP://x/y', 'data:image/png;base64,AA']) {
      const body = imageBody(url);
      assert.equal(withoutGatewayExtensions(body), body, url);
    }
  });
});
