import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { buildGatewayRequest } from './request-builder';

const context = {
  requestId: 'r',
  caller: { userKey: 'u' },
  allowedModels: [],
  forwardHeaders: {},
};
const chat = (model: string) =>
  buildGatewayRequest('chat', { model, messages: [{ role: 'user', content: 'hi' }] }, context);

test('a model name of 256 characters is taken and one of 257 refused, as events carry 256', () => {
  assert.equal(chat('m'.repeat(256)).requestedModel.length, 256);
  assert.throws(
    () => chat('m'.repeat(257)),
    (error: unknown) =>
      error instanceof DataPlaneError &&
      error.code === DataPlaneErrorCode.InvalidRequest &&
      error.param === 'model' &&
      error.message === "'model' must be at most 256 characters",
  );
});

test("'stream' must be a boolean when it is there, so a stream asked for is never answered as JSON", () => {
  const withStream = (stream: unknown) =>
    buildGatewayRequest(
      'chat',
      { model: 'm', stream, messages: [{ role: 'user', content: 'hi' }] },
      context,
    );
  assert.equal(withStream(true).stream, true);
  assert.equal(withStream(false).stream, false);
  assert.equal(withStream(null).stream, false);
  for (const odd of ['true', 1, {}]) {
    assert.throws(
      () => withStream(odd),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'stream',
    );
  }
});
