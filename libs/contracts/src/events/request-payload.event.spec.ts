import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Topic, TOPIC_SETTINGS } from '../topics';
import { decodeEvent, encodeEvent } from './event-codec';
import { GatewayEndpoint } from './event-enums';
import { createRequestPayloadLogged } from './event-factories';
import { MAX_PAYLOAD_BYTES } from './request-payload.event';

const logged = (changes: Record<string, unknown> = {}) =>
  Object.assign(
    createRequestPayloadLogged({
      requestId: 'req-1',
      partitionKey: 'alice',
      userId: 'alice',
      endpoint: GatewayEndpoint.ChatCompletions,
      modelRequested: 'gpt-4o',
      stream: true,
      httpStatus: 502,
      errorCode: 'UPSTREAM_ERROR',
      startedAt: '2025-06-30T12:00:00.000Z',
      requestBody: '{"model":"gpt-4o"}',
      requestTruncated: false,
      requestBytes: 18,
      responseBody: '',
      responseTruncated: false,
      responseBytes: 0,
      latencyMs: 5,
    }),
    changes,
  );

describe('request.payload event', () => {
  it('goes on its own short-lived topic, keyed by the user, and round-trips', () => {
    const event = logged();
    const encoded = encodeEvent(event, { validate: true });
    assert.equal(encoded.topic, Topic.RequestPayload);
    assert.equal(encoded.key, 'alice');
    const decoded = decodeEvent(Topic.RequestPayload, encoded.value);
    assert.ok(decoded.ok);
    assert.deepEqual({ ...decoded.value }, { ...event });
    assert.ok(TOPIC_SETTINGS[Topic.RequestPayload].retentionMs <= 7 * 86_400_000);
  });

  it('refuses a body past the largest maxBytes and a missing start', () => {
    const big = logged({ responseBody: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) });
    assert.throws(() => encodeEvent(big, { validate: true }), /responseBody/);
    const noStart = logged({ startedAt: undefined });
    assert.throws(() => encodeEvent(noStart, { validate: true }), /startedAt/);
  });
});
