import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { geminiDialect } from '../gemini-dialect';
import { geminiFileIdIn, isGeminiFileId, newGeminiFileId } from './gemini-file-names';

const ID = `aigw-${'0a'.repeat(16)}`;

describe('Gemini file names', () => {
  it("makes ids in Google's form: at most 40 lowercase letters, digits and dashes", () => {
    const id = newGeminiFileId();
    assert.match(id, /^[a-z0-9-]{1,40}$/);
    assert.ok(isGeminiFileId(id));
    assert.notEqual(newGeminiFileId(), id);
  });

  it("finds the gateway's file in a fileUri at any host, or its files/ name, and nothing else", () => {
    assert.equal(geminiFileIdIn(`http://gw:8080/v1beta/files/${ID}`), ID);
    assert.equal(geminiFileIdIn(`https://gw.example/v1/files/${ID}?x=1`), ID);
    assert.equal(geminiFileIdIn(`files/${ID}`), ID);
    assert.equal(
      geminiFileIdIn('https://generativelanguage.googleapis.com/v1beta/files/abc123'),
      undefined,
    );
    assert.equal(geminiFileIdIn(`https://x/v1beta/files/${ID}/more`), undefined);
    assert.equal(geminiFileIdIn(`https://x/v1beta/files/${ID.toUpperCase()}`), undefined);
  });

  it('refuses a generateContent naming a gateway file where the Files API is not served', () => {
    const dialect = geminiDialect({ model: 'm', stream: false });
    const body = {
      contents: [
        { role: 'user', parts: [{ fileData: { fileUri: `files/${ID}`, mimeType: 'text/plain' } }] },
      ],
    };
    assert.throws(
      () => dialect.canonicalBody!(body),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 400,
    );
    // An image link is still an image link.
    const link = {
      contents: [
        {
          role: 'user',
          parts: [{ fileData: { fileUri: 'https://x/cat.png', mimeType: 'image/png' } }],
        },
      ],
    };
    assert.ok(dialect.canonicalBody!(link));
  });
});
