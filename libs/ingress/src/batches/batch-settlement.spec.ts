import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateSync } from 'class-validator';
import { parseGatewayConfig } from '@aigw/config';
import { sumBatchUsage } from './batch-jsonl';
import { batchUsageEvent } from './batch-settlement';
import type { HeldRecord } from './held-objects';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, model: gpt-up, modelNameOverride: gpt-virtual}
  costControl:
    modelPricing:
      gpt-up: {inputPer1k: 0.002, outputPer1k: 0.004}
      gpt-long:
        inputPer1k: 0.002
        outputPer1k: 0.004
        tiers: [{aboveInputTokens: 272000, inputPer1k: 0.004, outputPer1k: 0.006}]
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
const config = parsed.config;

const batch = (id: string): HeldRecord => ({
  id,
  kind: 'batch',
  owner: 'alice',
  model: 'gpt-virtual',
  upstreamModel: 'gpt-up',
  route: 'batches',
  backend: 'openai-batch',
  provider: 'openai',
  providerId: 'batch_1',
  createdAt: 0,
  object: {},
});
const usage = {
  inputTokens: 1000,
  outputTokens: 500,
  cachedInputTokens: 0,
  requests: 2,
  perRequest: [
    { inputTokens: 600, outputTokens: 200, cachedInputTokens: 0 },
    { inputTokens: 400, outputTokens: 300, cachedInputTokens: 0 },
  ],
};

describe('batchUsageEvent', () => {
  it('prices the batch at the factor of the model price', () => {
    const { dollars, priced } = batchUsageEvent(config, batch('batch_aigw_a'), usage, 0.5);
    assert.equal(priced, true);
    assert.ok(Math.abs(dollars - (0.002 + 0.002) * 0.5) < 1e-12);
  });

  it('gives one batch one event id, so a second billing of it is settled once', () => {
    // Claims can lapse (their TTL, a memory store's bound) or be given back after a
    // publish: budgets and analytics recognise the same batch by the event id.
    const first = batchUsageEvent(config, batch('batch_aigw_a'), usage, 0.5).event;
    const again = batchUsageEvent(config, batch('batch_aigw_a'), usage, 0.5).event;
    const other = batchUsageEvent(config, batch('batch_aigw_b'), usage, 0.5).event;
    assert.equal(first.eventId, again.eventId);
    assert.notEqual(first.eventId, other.eventId);
    assert.deepEqual(validateSync(first), []);
  });

  it("attributes the usage as a single call's: owner, served backend, and the owner's tier", () => {
    const event = batchUsageEvent(
      config,
      { ...batch('batch_aigw_t'), tier: 'pro' },
      usage,
      0.5,
    ).event;
    assert.deepEqual(
      [event.userId, event.partitionKey, event.backend, event.tier],
      ['alice', 'alice', 'openai-batch', 'pro'],
    );
    assert.deepEqual(validateSync(event), []);
    assert.equal(batchUsageEvent(config, batch('batch_aigw_u'), usage, 0.5).event.tier, undefined);
  });

  it("prices each request at its own prompt's tier, not the whole batch's input at the long-prompt one", () => {
    // Three requests of 200k prompt tokens: each under the 272k tier, together over it.
    const line = JSON.stringify({
      response: { body: { usage: { prompt_tokens: 200_000, completion_tokens: 1_000 } } },
    });
    const output = sumBatchUsage([line, line, line].join('\n'));
    assert.equal(output.inputTokens, 600_000);
    const { dollars } = batchUsageEvent(
      config,
      { ...batch('batch_aigw_l'), upstreamModel: 'gpt-long' },
      output,
      0.5,
    );
    const each = 200 * 0.002 + 1 * 0.004;
    assert.ok(Math.abs(dollars - 3 * each * 0.5) < 1e-9, `${dollars} is not ${3 * each * 0.5}`);
  });
});
