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
