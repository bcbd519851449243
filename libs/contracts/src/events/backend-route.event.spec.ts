// Usage and completed-request events name the route of their backend (backend names are
// unique only within a route). Events of older builds, already in the log and on Kafka,
// name none and must still decode, at the same version.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Topic } from '../topics';
import { decodeEvent, encodeEvent } from './event-codec';
import { CompletionStatus, GatewayEndpoint, UsageSource } from './event-enums';
import { createRequestCompleted, createTokenUsageRecorded } from './event-factories';

/** A usage event exactly as a build before routes wrote it to the log. */
const OLD_USAGE = JSON.stringify({
  eventId: '0190a000-0000-7000-8000-000000000001',
  type: 'usage.recorded',
  version: 1,
  occurredAt: '2026-03-01T10:00:01.999Z',
  partitionKey: 'alice',
  requestId: 'req-1',
  userId: 'alice',
  inputTokens: 4,
  outputTokens: 0,
  cachedInputTokens: 0,
  usageSource: 'reported',
  modelRequested: 'text-embedding-3-small',
  modelServed: 'text-embedding-3-small',
  provider: 'openai',
  backend: 'openai',
  costDollars: 0.002,
  weightedTokenCost: 4,
  cacheHit: false,
  operation: 'embeddings',
});

/** A completed request exactly as a build before routes wrote it. */
const OLD_COMPLETED = JSON.stringify({
  eventId: '0190a000-0000-7000-8000-000000000002',
  type: 'request.completed',
  version: 1,
  occurredAt: '2026-03-01T10:00:02.000Z',
  partitionKey: 'alice',
  requestId: 'req-1',
  userId: 'alice',
  endpoint: 'embeddings',
  status: 'success',
  httpStatus: 200,
  latencyMs: 12,
  provider: 'openai',
  backend: 'openai',
  modelRequested: 'text-embedding-3-small',
  modelServed: 'text-embedding-3-small',
  stream: false,
  cached: false,
  attempts: 1,
});

const usage = (route?: string) =>
  createTokenUsageRecorded({
    requestId: 'req-2',
    partitionKey: 'alice',
    userId: 'alice',
    inputTokens: 4,
    outputTokens: 0,
    cachedInputTokens: 0,
    usageSource: UsageSource.Reported,
    modelRequested: 'text-embedding-3-small',
    modelServed: 'text-embedding-3-small',
    provider: 'openai',
    backend: 'openai',
    route,
    costDollars: 0.002,
    weightedTokenCost: 4,
    cacheHit: false,
  });

const completed = (route?: string) =>
  createRequestCompleted({
    requestId: 'req-2',
    partitionKey: 'alice',
    userId: 'alice',
    endpoint: GatewayEndpoint.Embeddings,
    status: CompletionStatus.Success,
    httpStatus: 200,
    latencyMs: 12,
    provider: 'openai',
    backend: 'openai',
    route,
    modelRequested: 'text-embedding-3-small',
    stream: false,
    cached: false,
    attempts: 1,
  });

describe('the route of a usage event', () => {
  it("decodes an older build's event, which names no route, at the same version", () => {
    const decoded = decodeEvent(Topic.UsageRecorded, OLD_USAGE);
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
    assert.equal(decoded.value.route, undefined);
    assert.equal(decoded.value.backend, 'openai');
    assert.equal(decoded.value.version, 1);
  });

  it('carries the route through encoding and decoding, and leaves it out when unknown', () => {
    const decoded = decodeEvent(
      Topic.UsageRecorded,
      encodeEvent(usage('embed'), { validate: true }).value,
    );
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
    assert.equal(decoded.value.route, 'embed');
    const json = JSON.parse(encodeEvent(usage()).value.toString()) as Record<string, unknown>;
    assert.ok(!('route' in json), 'no route key in an event that knows none');
  });

  it('refuses a route that is no name', () => {
    for (const bad of ['', 7, 'x'.repeat(257)]) {
      const old = JSON.parse(OLD_USAGE) as Record<string, unknown>;
      const refused = decodeEvent(Topic.UsageRecorded, JSON.stringify({ ...old, route: bad }));
      assert.ok(!refused.ok, JSON.stringify(bad));
      assert.deepEqual([...new Set(refused.error.details.issues?.map((i) => i.path))], ['route']);
    }
  });
});

describe('the route of a completed request', () => {
  it("decodes an older build's event without one, and this build's with one", () => {
    const old = decodeEvent(Topic.RequestCompleted, OLD_COMPLETED);
    assert.ok(old.ok, old.ok ? '' : old.error.message);
    assert.equal(old.value.route, undefined);
    assert.equal(old.value.version, 1);

    const decoded = decodeEvent(
      Topic.RequestCompleted,
      encodeEvent(completed('chat'), { validate: true }).value,
    );
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
    assert.equal(decoded.value.route, 'chat');
  });

  it('refuses an empty route', () => {
    const old = JSON.parse(OLD_COMPLETED) as Record<string, unknown>;
    const refused = decodeEvent(Topic.RequestCompleted, JSON.stringify({ ...old, route: '' }));
    assert.ok(!refused.ok);
    assert.deepEqual([...new Set(refused.error.details.issues?.map((i) => i.path))], ['route']);
  });
});
