// A deduplication follower given up on because Redis was lost (its replica could not read
// the shared call, or the leader's could not publish all of it): under a billing rule it
// was admitted like any request, and its hold must be given back exactly once, with no
// usage event to settle it; the client gets the error in its API's format.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import type { Admission, BudgetAdmission } from '../admission/budget-admission';
import { Flight, flightError } from '../dedup/domain/flight';
import type { FlightCoordinator } from '../dedup/domain/flight-coordinator';
import { EdgeExchange } from '../http/edge-exchange';
import type { IngressPipeline } from '../ingress-pipeline';
import { NOOP_INGRESS_OBSERVER } from '../ingress-observer';
import { MemoryResponseCacheStore } from './domain/memory-cache-store';
import { parseReuseBilling } from './domain/reuse-billing';
import { ResponseReuse } from './response-reuse';
import { ReusePublisher } from './reuse-publisher';
import { listenReuseEdge, reuseChatRequest } from './testing/reuse-edge';
import { REUSE_SERVED, reuseChunk, reuseRoute } from './testing/reuse-route';

const lost = () =>
  flightError(
    new DataPlaneError(
      DataPlaneErrorCode.UpstreamError,
      'this gateway replica lost its connection to Redis while waiting',
    ),
  );

describe('a billed dedup follower given up on because Redis was lost', () => {
  const events: GatewayEvent[] = [];
  const released: Admission[] = [];
  let holds = 0;
  /** The shared call the next request joins. */
  let joined = new Flight();
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    const config = reuseRoute('  deduplication: {window: 5s}\n');
    const bus: EventPublisher = { publish: (event) => events.push(event), flush: async () => {} };
    const billing = parseReuseBilling('full');
    const flights: FlightCoordinator = {
      join: async () => joined,
      lead: async () => assert.fail('a follower does not lead'),
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
      admit: async (): Promise<Admission> => ({ reservationId: `hold-${++holds}`, headers: {} }),
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
      checkAnswer: (_request: unknown, answer: unknown) => answer,
      dollarsFor: () => undefined,
    } as unknown as IngressPipeline;
    const exchange = new EdgeExchange(pipeline, NOOP_INGRESS_OBSERVER, admission, reuse);
    ({ app, url } = await listenReuseEdge(exchange));
  });
  after(async () => {
    await app.close();
  });

  const ask = (stream: boolean) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o',
        stream,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });

  it('before the answer began: a 502 in OpenAI format, the hold given back once', async () => {
    events.length = 0;
    released.length = 0;
    joined = new Flight();
    joined.append(lost());
    const response = await ask(false);
    assert.equal(response.status, 502);
    const body = (await response.json()) as { error: { message: string; type: string } };
    assert.match(body.error.message, /lost its connection to Redis/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      released.map((held) => held.reservationId),
      [`hold-${holds}`],
    );
    assert.equal(events.filter((event) => 'cacheHit' in event).length, 0, 'nothing billed');
  });

  it('mid-stream: an SSE error event ends it, the hold given back once', async () => {
    events.length = 0;
    released.length = 0;
    joined = new Flight();
    joined.append({ t: 'head', kind: 'stream', status: 200, servedBy: REUSE_SERVED });
    joined.append({ t: 'chunk', data: reuseChunk('Hel') });
    const response = await ask(true);
    assert.equal(response.status, 200);
    const reading = response.text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    joined.append(lost());
    const text = await reading;
    assert.match(text, /Hel/);
    assert.match(text, /lost its connection to Redis/);
    assert.doesNotMatch(text, /\[DONE\]/, 'a broken stream never looks finished');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      released.map((held) => held.reservationId),
      [`hold-${holds}`],
    );
    assert.equal(events.filter((event) => 'cacheHit' in event).length, 0, 'nothing billed');
  });
});
