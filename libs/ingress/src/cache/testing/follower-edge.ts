import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import type { GatewayRequest, JsonObject } from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import type { Admission, BudgetAdmission } from '../../admission/budget-admission';
import type { FlightCoordinator } from '../../dedup/domain/flight-coordinator';
import { EdgeExchange } from '../../http/edge-exchange';
import type { IngressPipeline } from '../../ingress-pipeline';
import { NOOP_INGRESS_OBSERVER } from '../../ingress-observer';
import { MemoryResponseCacheStore } from '../domain/memory-cache-store';
import type { ReuseBilling } from '../domain/reuse-billing';
import { ResponseReuse } from '../response-reuse';
import { ReusePublisher } from '../reuse-publisher';
import { listenReuseEdge, reuseChatRequest } from './reuse-edge';
import { reuseRoute } from './reuse-route';

/**
 * For the dedup follower specs: an edge on a route with a 5 s deduplication window whose
 * every request follows a shared call of `flights` (its fake pipeline makes none), each
 * admitted with the hold `admit` gives; released holds and published events collected.
 */
export async function listenFollowerEdge(options: {
  readonly flights: FlightCoordinator;
  readonly billing: ReuseBilling;
  readonly admit: () => Admission;
  readonly released: Admission[];
  readonly events: GatewayEvent[];
}): Promise<{ readonly app: FastifyInstance; readonly url: string }> {
  const { flights, billing, released, events } = options;
  const config = reuseRoute('  deduplication: {window: 5s}\n');
  const bus: EventPublisher = { publish: (event) => events.push(event), flush: async () => {} };
  const reuse = new ResponseReuse({
    config: () => config,
    cacheStore: () => new MemoryResponseCacheStore(1 << 20),
    flights: () => flights,
    publisher: new ReusePublisher(() => config, bus, new MetricsRegistry(), billing),
    billing,
  });
  const admission = {
    admit: async (): Promise<Admission> => options.admit(),
    started: () => undefined,
    ended: () => undefined,
    release: async (held: Admission) => void released.push(held),
  } as unknown as BudgetAdmission;
  const pipeline = {
    prepare: (_operation: unknown, body: JsonObject, _headers: unknown, requestId: string) =>
      reuseChatRequest(body, requestId),
    checkMediaUrls: () => undefined, // the route refuses no media URLs
    redact: (request: GatewayRequest) => request,
    payloadLoggingFor: () => undefined,
    handle: () => assert.fail('a follower makes no call'),
    checkAnswer: (_request: unknown, answer: unknown) => answer,
    dollarsFor: () => undefined,
  } as unknown as IngressPipeline;
  return listenReuseEdge(new EdgeExchange(pipeline, NOOP_INGRESS_OBSERVER, admission, reuse));
}
