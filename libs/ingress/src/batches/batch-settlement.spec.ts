import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateSync } from 'class-validator';
import { parseGatewayConfig } from '@aigw/config';
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
const usage = { inputTokens: 1000, outputTokens: 500, cachedInputTokens: 0, requests: 2 };

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
});
