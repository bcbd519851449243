import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeEvent } from '../events/event-codec';
import type { GatewayRequest, Operation, TokenUsage } from './data-plane.types';
import { decodeInvokeRequest, encodeInvokeRequest } from './wire/wire-messages';
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

  const operations: Operation[] = [
    'chat',
    'completions',
    'embeddings',
    'transcriptions',
    'translations',
    'speech',
    'images',
    'image-edits',
    'image-variations',
  ];

  it('names the operation of every call, as the event log carries it', () => {
    for (const operation of operations) {
      const event = usageRecordedEvent({ ...request, operation }, servedBy, base, price, true);
      const json = JSON.parse(encodeEvent(event, { validate: true }).value.toString()) as {
        operation?: string;
      };
      assert.equal(json.operation, operation);
    }
  });

  it('names it in the split deployment too, from the call the router sent over the wire', () => {
    // The provider-adapter meters the request it decoded from the router's message.
    const target = { backendName: 'b', provider: 'openai', model: 'whisper-1' };
    for (const operation of operations) {
      const sent = encodeInvokeRequest({ ...request, operation }, target);
      const { request: received } = decodeInvokeRequest(JSON.parse(sent));
      const event = usageRecordedEvent(received, servedBy, base, price, false);
      assert.equal(event.operation, operation);
    }
  });

  it('records the image input tokens, and leaves them out when there are none', () => {
    const event = recorded({ ...base, imageInputTokens: 1000 });
    assert.equal(event.imageInputTokens, 1000);
    assert.equal(event.inputTokens, 1200);
    assert.ok(!('imageInputTokens' in recorded(base)));
    assert.ok(!('imageInputTokens' in recorded({ ...base, imageInputTokens: 0 })));
  });

  it('records the image output tokens, and leaves them out when there are none', () => {
    const event = recorded({ ...base, imageOutputTokens: 4 });
    assert.equal(event.imageOutputTokens, 4);
    assert.ok(!('imageOutputTokens' in recorded(base)));
    assert.ok(!('imageOutputTokens' in recorded({ ...base, imageOutputTokens: 0 })));
  });

  it('records the server tool runs a provider reported, and leaves them out when none ran', () => {
    const event = recorded({ ...base, serverToolRequests: { web_search: 2, web_fetch: 1 } });
    assert.equal(event.webSearchRequests, 2);
    assert.equal(event.webFetchRequests, 1);
    const searchedOnly = recorded({ ...base, serverToolRequests: { web_search: 1 } });
    assert.equal(searchedOnly.webSearchRequests, 1);
    assert.ok(!('webFetchRequests' in searchedOnly));
    for (const none of [base, { ...base, serverToolRequests: { web_search: 0 } }]) {
      const plain = recorded(none);
      assert.ok(!('webSearchRequests' in plain) && !('webFetchRequests' in plain));
    }
  });
});
