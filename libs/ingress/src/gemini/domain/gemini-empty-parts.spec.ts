import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { translateGeminiRequest } from './gemini-request';

// A content with no parts is Google's 400 naming it ("contents.parts must not be empty").
// The gateway left it out, and a request of nothing else reached the canonical check,
// whose 400 named `messages`, a field a Gemini client never sent.

const call = { model: 'my-virtual', stream: false };

function refusedAt(body: unknown): string {
  try {
    translateGeminiRequest(body, call);
  } catch (error) {
    assert.ok(error instanceof DataPlaneError && error.httpStatus === 400);
    return error.message;
  }
  return assert.fail('expected a 400');
}

describe('Gemini request translation: a content without parts', () => {
  it('is a 400 naming the content, alone or in a history', () => {
    assert.match(
      refusedAt({ contents: [{ role: 'user', parts: [] }] }),
      /contents\[0\]\.parts.*must not be empty/,
    );
    assert.match(
      refusedAt({
        contents: [
          { role: 'user', parts: [{ text: 'a' }] },
          { role: 'model' },
          { role: 'user', parts: [{ text: 'b' }] },
        ],
      }),
      /contents\[1\]\.parts.*must not be empty/,
    );
  });
});
