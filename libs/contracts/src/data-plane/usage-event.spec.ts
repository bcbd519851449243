import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeEvent } from '../events/event-codec';
import type { GatewayRequest, TokenUsage } from './data-plane.types';
import { usageRecordedEvent } from './usage-event';

const request: GatewayRequest = {
  requestId: 'req-1',
  operation: 'chat',
  requestedModel: 'claude',
  stream: false,
  clientWantsStreamUsage: false,
  body: {},
  caller: { userKey: 'alice' },
  allowedModels: [],
  forwardHeaders: {},
};
const servedBy = { backend: 'b', provider: 'anthropic', model: 'claude-sonnet-4-5' };
const price = { weightedTokens: 1, dollars: 0.01 };

function recorded(usage: TokenUsage): Record<string, unknown> {
  const event = usageRecordedEvent(request, servedBy, usage, price, false);
  return JSON.parse(encodeEvent(event).value.toString()) as Record<string, unknown>;
}

describe('usageRecordedEvent', () => {
  const base: TokenUsage = {
    inputTokens: 1200,
    outputTokens: 5,
    cachedInputTokens: 100,
    source: 'reported',
  };

  it('records the tokens written to the prompt cache', () => {
    const event = recorded({ ...base, cacheWriteInputTokens: 1000 });
    assert.equal(event.cacheWriteInputTokens, 1000);
    assert.equal(event.inputTokens, 1200);
    assert.equal(event.cachedInputTokens, 100);
  });

  it('leaves the field out when nothing was written, as events of older builds are', () => {
    assert.ok(!('cacheWriteInputTokens' in recorded(base)));
    assert.ok(!('cacheWriteInputTokens' in recorded({ ...base, cacheWriteInputTokens: 0 })));
  });

  it('records the part written for an hour, and leaves it out when there is none', () => {
    const written = { ...base, cacheWriteInputTokens: 1000 };
    const event = recorded({ ...written, cacheWrite1hInputTokens: 600 });
    assert.equal(event.cacheWrite1hInputTokens, 600);
    assert.equal(event.cacheWriteInputTokens, 1000);
    assert.ok(!('cacheWrite1hInputTokens' in recorded(written)));
    assert.ok(!('cacheWrite1hInputTokens' in recorded({ ...written, cacheWrite1hInputTokens: 0 })));
  });
});
