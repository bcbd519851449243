import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serializeEvent } from './event-codec';
import type { EventEnvelope } from './event-envelope';
import {
  createRequestAccepted,
  createRequestCompleted,
  createTokenUsageRecorded,
  type EventMeta,
} from './event-factories';
import { REQUEST_ACCEPTED, RequestAccepted } from './request-accepted.event';
import { REQUEST_COMPLETED, RequestCompleted } from './request-completed.event';
import { TokenUsageRecorded, USAGE_RECORDED } from './token-usage-recorded.event';

const ENVELOPE_SET_BY_FACTORY = new Set(['eventId', 'type', 'version', 'occurredAt']);
const META: EventMeta = {
  eventId: '019aea5c-1f2e-7abc-8def-0123456789ab',
  occurredAt: '2026-12-04T23:40:00.123Z',
};

/** A value in every field the producer supplies, each different, read off the class itself. */
function everyField(cls: new () => EventEnvelope): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const key of Object.keys(new cls())) {
    if (!ENVELOPE_SET_BY_FACTORY.has(key)) init[key] = `value of ${key}`;
  }
  return init;
}

/** What the generic copy (Object.assign onto the instance) makes of the same init. */
function assigned<E extends EventEnvelope>(
  cls: new () => E,
  id: { type: string; version: number },
  init: Record<string, unknown>,
): E {
  return Object.assign(new cls(), init, {
    eventId: META.eventId,
    type: id.type,
    version: id.version,
    occurredAt: META.occurredAt,
  });
}

describe('the per-request event factories', () => {
  const cases = [
    { cls: RequestAccepted, id: REQUEST_ACCEPTED, create: createRequestAccepted },
    { cls: RequestCompleted, id: REQUEST_COMPLETED, create: createRequestCompleted },
    { cls: TokenUsageRecorded, id: USAGE_RECORDED, create: createTokenUsageRecorded },
  ] as const;

  for (const { cls, id, create } of cases) {
    it(`copy every field of ${cls.name}, as the generic copy would`, () => {
      const init = everyField(cls);
      const made = (create as (init: unknown, meta: EventMeta) => EventEnvelope)(init, META);
      const reference = assigned(cls as new () => EventEnvelope, id, init);
      assert.ok(made instanceof cls);
      assert.deepStrictEqual(made, reference);
      assert.equal(JSON.stringify(made), JSON.stringify(reference));
    });
  }

  it('leave absent optional fields out of the JSON, in the class order', () => {
    const event = createRequestCompleted(
      {
        requestId: 'r1',
        partitionKey: 'alice',
        userId: 'alice',
        endpoint: 'chat.completions' as RequestCompleted['endpoint'],
        status: 'success' as RequestCompleted['status'],
        httpStatus: 200,
        latencyMs: 12,
        modelRequested: 'gpt-4o-mini',
        stream: false,
        cached: false,
        attempts: 1,
      },
      META,
    );
    assert.equal(
      serializeEvent(event).json,
      '{"eventId":"019aea5c-1f2e-7abc-8def-0123456789ab","type":"request.completed","version":1,' +
        '"occurredAt":"2026-12-04T23:40:00.123Z","partitionKey":"alice","requestId":"r1",' +
        '"userId":"alice","endpoint":"chat.completions","status":"success","httpStatus":200,' +
        '"latencyMs":12,"modelRequested":"gpt-4o-mini","stream":false,"cached":false,"attempts":1}',
    );
  });
});
