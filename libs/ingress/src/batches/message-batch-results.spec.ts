import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BatchUsageTally } from './batch-jsonl';
import { batchUsageEvent } from './batch-settlement';
import { messageBatchResultLine } from './message-batch-results';
import { heldMessageBatch, MESSAGE_BATCH_ROUTE_YAML } from './testing/message-batch-route';
import { parsedConfig } from './testing/one-batch-route';

const identity = {
  sentModel: 'claude-upstream-4-5',
  requestedModel: 'claude-batch',
  baseUrl: 'https://claude.internal.example',
};

const succeeded = (usage: Record<string, unknown>) =>
  JSON.stringify({
    custom_id: 'a',
    result: {
      type: 'succeeded',
      message: { id: 'msg_1', model: 'claude-upstream-4-5', content: [], usage },
    },
  });

describe("a message batch's results line", () => {
  it("names the client's model, keeping the custom_id and the rest", () => {
    const shown = JSON.parse(messageBatchResultLine(identity)(succeeded({ input_tokens: 1 }))!);
    assert.equal(shown.custom_id, 'a');
    assert.equal(shown.result.message.model, 'claude-batch');
    assert.equal(shown.result.message.id, 'msg_1');
  });

  it("keeps the backend's model and host out of an errored request's text", () => {
    const line = JSON.stringify({
      custom_id: 'e',
      result: {
        type: 'errored',
        error: {
          type: 'error',
          error: {
            type: 'invalid_request_error',
            message: 'claude-upstream-4-5 at https://claude.internal.example: prompt is too long',
          },
        },
      },
    });
    const shown = JSON.parse(messageBatchResultLine(identity)(line)!);
    const text = shown.result.error.error.message as string;
    assert.equal(shown.result.error.error.type, 'invalid_request_error');
    assert.ok(!text.includes('claude-upstream-4-5'), text);
    assert.ok(!text.includes('claude.internal.example'), text);
  });

  it('passes canceled and expired results and lines that are not JSON as they are', () => {
    const map = messageBatchResultLine(identity);
    const canceled = JSON.stringify({ custom_id: 'c', result: { type: 'canceled' } });
    assert.deepEqual(JSON.parse(map(canceled)!), JSON.parse(canceled));
    assert.equal(map('not json'), undefined);
  });

  it("sums succeeded requests' usage: the whole prompt, the cache reads its cached part", () => {
    const tally = new BatchUsageTally();
    const map = messageBatchResultLine(identity, tally);
    map(
      JSON.stringify({
        custom_id: 'a',
        result: {
          type: 'succeeded',
          message: {
            model: 'claude-upstream-4-5',
            usage: {
              input_tokens: 10,
              cache_creation_input_tokens: 20,
              cache_creation: { ephemeral_5m_input_tokens: 12, ephemeral_1h_input_tokens: 8 },
              cache_read_input_tokens: 70,
              output_tokens: 5,
            },
          },
        },
      }),
    );
    map(succeeded({ input_tokens: 3, output_tokens: 2 }));
    map(JSON.stringify({ custom_id: 'x', result: { type: 'errored', error: {} } }));
    const usage = tally.usage;
    assert.equal(usage.requests, 2);
    assert.equal(usage.inputTokens, 100 + 3);
    assert.equal(usage.cachedInputTokens, 70);
    assert.equal(usage.cacheWriteInputTokens, 20);
    assert.equal(usage.cacheWrite1hInputTokens, 8);
    assert.equal(usage.outputTokens, 7);
  });

  it('bills cache writes above input and web searches per run, as a single call is billed', () => {
    const config = parsedConfig(`${MESSAGE_BATCH_ROUTE_YAML}  costControl:
    modelPricing:
      up: {inputPer1k: 1, outputPer1k: 2, cachedInputPer1k: 0.1, cacheWritePer1k: 1.25, cacheWrite1hPer1k: 2, webSearchPer1k: 25}
`);
    const tally = new BatchUsageTally();
    messageBatchResultLine(
      identity,
      tally,
    )(
      succeeded({
        input_tokens: 1000,
        cache_creation_input_tokens: 2000,
        cache_read_input_tokens: 3000,
        output_tokens: 1000,
        server_tool_use: { web_search_requests: 4, web_fetch_requests: 2 },
      }),
    );
    const batch = heldMessageBatch('mb1');
    const { event, dollars } = batchUsageEvent(config, batch, tally.usage, 0.5);
    // (1 uncached x 1 + 2 written x 1.25 + 3 read x 0.1 + 1 output x 2 + 4 searches at
    // 25 per 1000) at half price; a fetch has no fee of its own.
    assert.ok(Math.abs(dollars - (1 + 2.5 + 0.3 + 2 + 0.1) * 0.5) < 1e-9, String(dollars));
    assert.equal(event.inputTokens, 6000);
    assert.equal(event.cacheWriteInputTokens, 2000);
    assert.equal(event.cachedInputTokens, 3000);
    assert.equal(event.webSearchRequests, 4);
    assert.equal(event.webFetchRequests, 2);
  });
});
