import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractsErrorCode } from '../contracts.errors';
import { Topic } from '../topics';
import { UsageSource } from './event-enums';
import { decodeEvent } from './event-codec';
import { createTokenUsageRecorded } from './event-factories';

// Consumers read `occurredAt` with Date.parse: the budget settler binds windows to it, the
// usage sink writes it as a ClickHouse DateTime (seconds 1970-2106). An event whose time
// they cannot read would fail its handler on every retry, holding its partition (and the
// sink's batches of every partition) forever; it must be refused at decoding, where the bus
// moves it to the dead-letter topic.

const usageWith = (occurredAt: string) =>
  JSON.stringify({
    ...createTokenUsageRecorded({
      requestId: 'req-1',
      partitionKey: 'alice',
      userId: 'alice',
      inputTokens: 1,
      outputTokens: 1,
      cachedInputTokens: 0,
      usageSource: UsageSource.Reported,
      modelRequested: 'gpt-4',
      modelServed: 'gpt-4',
      provider: 'openai',
      backend: 'b',
      costDollars: 0,
      weightedTokenCost: 2,
      cacheHit: false,
    }),
    occurredAt,
  });

describe('event time', () => {
  for (const occurredAt of ['2026-339T10:00:00Z', '2026-W49-6T10:00:00Z', '2200-01-01T00:00:00Z']) {
    it(`refuses ${occurredAt}, which ISO 8601 allows but consumers cannot store`, () => {
      const decoded = decodeEvent(Topic.UsageRecorded, usageWith(occurredAt));
      assert.equal(decoded.ok, false, 'decoded');
      if (!decoded.ok) assert.equal(decoded.error.code, ContractsErrorCode.InvalidPayload);
    });
  }

  for (const occurredAt of ['2026-12-05T10:00:00.123Z', '2026-12-05T11:00:00+01:00']) {
    it(`reads ${occurredAt}`, () => {
      const decoded = decodeEvent(Topic.UsageRecorded, usageWith(occurredAt));
      assert.ok(decoded.ok);
      assert.equal(decoded.value.occurredAt, occurredAt);
    });
  }
});
