// A request that missed the cache and found no shared call, was admitted, then lost the race
// to lead (another identical request took the key first): it follows that call. Under
// AI_GATEWAY_REUSE_BILLING=none its hold is given back, and its reused answer's usage event
// must not name that hold: settled, a released hold reads as one that lapsed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import type { GatewayRequest, JsonObject } from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import type { Admission, BudgetAdmission } from '../admission/budget-admission';
import { Flight, pumpIntoFlight } from '../dedup/domain/flight';
import type { FlightCoordinator } from '../dedup/domain/flight-coordinator';
import { EdgeExchange } from '../http/edge-exchange';
import type { IngressPipeline } from '../ingress-pipeline';
import { NOOP_INGRESS_OBSERVER } from '../ingress-observer';
import { MemoryResponseCacheStore } from './domain/memory-cache-store';
import { parseReuseBilling } from './domain/reuse-billing';
import { ResponseReuse } from './response-reuse';
import { ReusePublisher } from './reuse-publisher';
import { listenReuseEdge, reuseChatRequest } from './testing/reuse-edge';
import { reuseJsonAnswer, reuseRoute } from './testing/reuse-route';

describe('a request that lost the race to lead a shared call (reuse not billed)', () => {
  const events: GatewayEvent[] = [];
  const released: Admission[] = [];
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    const config = reuseRoute('  deduplication: {window: 5s}\n');
    const bus: EventPublisher = { publish: (event) => events.push(event), flush: async () => {} };
    const billing = parseReuseBilling('none');
    // The winner's call, already answered: this request finds no call when it looks (the
    // winner had not taken the key yet), then loses the lock to it.
    const winner = new Flight();
    await pumpIntoFlight(Promise.resolve(reuseJsonAnswer()), winner);
    const flights: FlightCoordinator = {
      join: async () => undefined,
      lead: async () => ({ follower: winner }),
      close: async () => undefined,
    };
    const reuse = new ResponseReuse({
      config: () => config,
      cacheStore: () => new MemoryResponseCacheStore(1 << 20),
      flights: () => flights,
      publisher: new ReusePublisher(() => config, bus, new MetricsRegistry(), billing),
      billing,
    });
    const admission = {
      admit: async (): Promise<Admission> => ({ reservationId: 'hold-1', headers: {} }),
      started: () => undefined,
      ended: () => undefined,
      release: async (held: Admission) => void released.push(held),
    } as unknown as BudgetAdmission;
    const pipeline = {
      prepare: (_operation: unknown, body: JsonObject, _headers: unknown, requestId: string) =>
        reuseChatRequest(body, requestId),
      redact: (request: GatewayRequest) => request,
      payloadLoggingFor: () => undefined,
      handle: () => assert.fail('a follower makes no call'),
      dollarsFor: () => undefined,
    } as unknown as IngressPipeline;
    const exchange = new EdgeExchange(pipeline, NOOP_INGRESS_OBSERVER, admission, reuse);
    ({ app, url } = await listenReuseEdge(exchange));
  });
  after(async () => {
    await app.close();
  });

  it('gives its hold back once, and its usage event names no hold', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get('x-ai-gateway-dedup'), 'follower');
    await response.json();
    assert.deepEqual(
      released.map((held) => held.reservationId),
      ['hold-1'],
    );
    const reused = events.filter((event) => (event as { cacheHit?: unknown }).cacheHit === true);
    assert.equal(reused.length, 1);
    const event = reused[0] as { reservationId?: string; inputTokens: number };
    assert.equal(event.inputTokens, 0, 'not billed');
    assert.equal(event.reservationId, undefined, 'the released hold is not settled again');
  });
});
