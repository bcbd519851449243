import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { translateMessagesRequest } from './anthropic-request';

// A Messages image by URL went on with any scheme (a document's was checked): a
// `file:///etc/passwd` or `gopher://` image reached an OpenAI-format backend, a self-hosted
// server that fetches image URLs itself, where Anthropic would have refused it.

const base = { model: 'claude-sonnet-4', max_tokens: 256 };

function imageByUrl(url: string): JsonObject {
  return translateMessagesRequest({
    ...base,
    messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url } }] }],
  }).chat;
}

describe('a Messages image by URL', () => {
  it('goes on as an image_url part when http(s)', () => {
    const chat = imageByUrl('https://example.com/cat.png');
    assert.deepEqual((chat.messages as JsonObject[])[0].content, [
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
    ]);
  });

  it('is a 400 naming source.url for any other scheme', () => {
    for (const url of [
      'file:///etc/passwd',
      'gopher://127.0.0.1:6379/_',
      'data:image/png;base64,AA',
    ]) {
      assert.throws(
        () => imageByUrl(url),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === 'messages.0.content.0.source.url' &&
          /http\(s\) URL/.test(error.message),
        url,
      );
    }
  });
});
