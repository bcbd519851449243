import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { messagesError } from './anthropic-errors';

const rendered = (error: DataPlaneError) => {
  const { status, body } = messagesError(error);
  return [status, body.error.type];
};

describe("Messages errors in Anthropic's statuses and types", () => {
  it("answers a backend's 529 as overloaded_error, plain or cut mid-stream", () => {
    const overloaded = new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'answered 529', {
      upstreamStatus: 529,
    });
    assert.deepEqual(rendered(overloaded), [529, 'overloaded_error']);
    const cut = new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'cut', {
      upstreamCode: 'overloaded_error',
    });
    assert.deepEqual(rendered(cut), [529, 'overloaded_error']);
  });

  it("keeps a backend's other failures the gateway's api_error", () => {
    const failed = new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'answered 500', {
      upstreamStatus: 500,
    });
    assert.deepEqual(rendered(failed), [502, 'api_error']);
    assert.deepEqual(rendered(new DataPlaneError(DataPlaneErrorCode.NoBackendAvailable, 'none')), [
      529,
      'overloaded_error',
    ]);
  });
});
