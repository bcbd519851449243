import assert from 'node:assert/strict';
import type { FakeGeminiFilesUpstream } from './fake-gemini-files-upstream';

/**
 * Checks that the one file the SDK uploaded reached `holder` whole in its two resumable
 * steps (`upload`, then `upload, finalize`), every call with the backend's key and never
 * the client's, and that `other` was not called at all.
 */
export function assertUploadedInTwoSteps(
  holder: FakeGeminiFilesUpstream,
  other: FakeGeminiFilesUpstream,
  upload: { bytes: Buffer; backendKey: string; clientKey: string },
): void {
  assert.equal(holder.files.size, 1);
  assert.deepEqual([...holder.files.values()][0].bytes, upload.bytes);
  const steps = holder.calls.filter((call) => call.path.includes('upload_id='));
  assert.deepEqual(
    steps.map((call) => call.headers['x-goog-upload-command']),
    ['upload', 'upload, finalize'],
  );
  for (const call of holder.calls) {
    assert.equal(call.headers['x-goog-api-key'], upload.backendKey);
    assert.ok(!JSON.stringify(call.headers).includes(upload.clientKey));
  }
  assert.equal(other.calls.length, 0);
}

/**
 * Checks that a resumable start whose file content type no HTTP header value carries (a
 * tab, a Latin-1 character, more than 255 characters) is refused with Google's 400 naming
 * X-Goog-Upload-Header-Content-Type. `caller`: the key, user and model headers.
 */
export async function assertUncarriableContentTypesRefused(
  baseUrl: string,
  caller: Record<string, string>,
): Promise<void> {
  for (const type of ['text/plain;\tcharset=utf-8', 'text/caf\u00e9', `text/${'x'.repeat(251)}`]) {
    const response = await fetch(`${baseUrl}/upload/v1beta/files`, {
      method: 'POST',
      headers: {
        ...caller,
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-type': type,
        'content-type': 'application/json',
      },
      body: '{"file":{"displayName":"typed"}}',
    });
    const text = await response.text();
    assert.equal(response.status, 400, text);
    const body = JSON.parse(text) as { error: { status: string; message: string } };
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
    assert.match(body.error.message, /X-Goog-Upload-Header-Content-Type/);
  }
}
