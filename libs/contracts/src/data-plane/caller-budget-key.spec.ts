// The caller's budget key where users are identified more than one way: carried across
// the split deployment's wire and into the usage event that settles its hold.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEvent, encodeEvent } from '../events/event-codec';
import { Topic } from '../topics';
import type { GatewayRequest } from './data-plane.types';
import { usageRecordedEvent } from './usage-event';
import {
  decodeInvokeRequest,
  decodeRouteRequest,
  encodeInvokeRequest,
  encodeRouteRequest,
} from './wire';

const request = (caller: GatewayRequest['caller']): GatewayRequest => ({
  requestId: 'req-1',
  operation: 'chat',
  requestedModel: 'gpt-4',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'gpt-4', messages: [] },
  caller,
  allowedModels: [],
  forwardHeaders: {},
  reservationId: 'hold-1',
});

const served = { backend: 'b', provider: 'openai', model: 'gpt-4' };
const usage = {
  inputTokens: 3,
  outputTokens: 4,
  cachedInputTokens: 0,
  source: 'reported',
} as const;
const price = { weightedTokens: 7, dollars: 0.01 };

describe('the caller budget key', () => {
  it('travels to the router and the adapter with the user key', () => {
    const qualified = request({ userKey: 'alice', budgetKey: 'jwt:corp:sub:alice', tier: 'pro' });
    assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(qualified))), qualified);
    const target = { backendName: 'b', provider: 'openai', model: 'gpt-4' };
    const invoke = decodeInvokeRequest(JSON.parse(encodeInvokeRequest(qualified, target)));
    assert.deepEqual(invoke.request.caller, qualified.caller);
  });

  it('is the usage event’s budgetKey and partition; userId stays the user id', () => {
    const event = usageRecordedEvent(
      request({ userKey: 'alice', budgetKey: 'header:x-user-id:alice' }),
      served,
      usage,
      price,
      false,
    );
    assert.equal(event.userId, 'alice');
    assert.equal(event.budgetKey, 'header:x-user-id:alice');
    const encoded = encodeEvent(event, { validate: true });
    assert.equal(encoded.key, 'header:x-user-id:alice', 'one budget settles in order');
    const decoded = decodeEvent(Topic.UsageRecorded, encoded.value);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.budgetKey, 'header:x-user-id:alice');
  });

  it('is left out where the user key is the budget key: the event reads as before', () => {
    const event = usageRecordedEvent(request({ userKey: 'alice' }), served, usage, price, false);
    const encoded = encodeEvent(event, { validate: true });
    assert.equal(encoded.key, 'alice');
    assert.ok(!String(encoded.value).includes('budgetKey'), 'no field an older consumer refuses');
  });
});
