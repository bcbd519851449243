// AI_GATEWAY_ANSWER_AFTER_RECORD=on at the edge: a cache hit's answer (JSON, or a streamed
// replay's end) and a deduplicated follower's go only once their usage event is durable.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import type { GatewayAnswer, GatewayRequest, JsonObject } from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { InProcessFlightCoordinator } from '../dedup/domain/flight-coordinator';
import { EdgeExchange } from '../http/edge-exchange';
import type { IngressPipeline } from '../ingress-pipeline';
import { NOOP_INGRESS_OBSERVER } from '../ingress-observer';
import { MemoryResponseCacheStore } from './domain/memory-cache-store';
import { parseReuseBilling } from './domain/reuse-billing';
import { ResponseReuse } from './response-reuse';
import { ReusePublisher } from './reuse-publisher';
import { listenReuseEdge, reuseChatRequest } from './testing/reuse-edge';
import {
  reuseChunk as chunk,
  reuseJsonAnswer as jsonAnswer,
  reuseRoute,
  REUSE_SERVED as SERVED,
  REUSE_USAGE as USAGE,
} from './testing/reuse-route';

/** A bus whose `recordBarrier` (when it has one) settles only when the test says so. */
class HeldBus implements EventPublisher {
  readonly events: GatewayEvent[] = [];
  /** Usage events published when each barrier was asked for. */
  readonly publishedAtBarrier: number[] = [];
  private readonly waiting: { pass: () => void; fail: (error: Error) => void }[] = [];
  readonly recordBarrier?: () => Promise<void>;

  constructor(withBarrier: boolean) {
    if (withBarrier) {
      this.recordBarrier = () => {
        this.publishedAtBarrier.push(this.reuseEvents().length);
        return new Promise((pass, fail) => this.waiting.push({ pass, fail }));
      };
    }
  }

  publish(event: GatewayEvent): void {
    this.events.push(event);
  }

  async flush(): Promise<void> {}

  /** The cache-hit usage events published (the fake pipeline publishes none of its own). */
  reuseEvents(): GatewayEvent[] {
    return this.events.filter((event) => (event as { cacheHit?: unknown }).cacheHit === true);
  }

  get barriersWaiting(): number {
    return this.waiting.length;
  }

  passAll(): void {
    this.waiting.splice(0).forEach((barrier) => barrier.pass());
  }

  failAll(): void {
    this.waiting.splice(0).forEach((barrier) => barrier.fail(new Error('disk full')));
  }
}

function streamAnswer(): GatewayAnswer {
  return {
    kind: 'stream',
    status: 200,
    servedBy: SERVED,
    usage: Promise.resolve(USAGE),
    events: (async function* () {
      yield chunk('cached');
      yield chunk(' words', 'stop');
    })(),
  };
}

/** An edge over a real cache and in-process dedup, whose pipeline answers with `upstream`. */
async function edge(route: string, bus: HeldBus) {
  const config = reuseRoute(route);
  const metrics = new MetricsRegistry();
  const store = new MemoryResponseCacheStore(1 << 20);
  const flights = new InProcessFlightCoordinator();
  const billing = parseReuseBilling('none');
  const reuse = new ResponseReuse({
    config: () => config,
    cacheStore: () => store,
    flights: () => flights,
    publisher: new ReusePublisher(() => config, bus, metrics, billing),
    billing,
  });
  const upstream = {
    calls: 0,
    answer: (stream: boolean): Promise<GatewayAnswer> =>
      Promise.resolve(stream ? streamAnswer() : jsonAnswer()),
  };
  const pipeline = {
    prepare: (_operation: unknown, body: JsonObject, _headers: unknown, requestId: string) =>
      reuseChatRequest(body, requestId),
    checkMediaUrls: () => undefined, // the route refuses no media URLs
    redact: (request: GatewayRequest) => request,
    payloadLoggingFor: () => undefined,
    handle: (request: GatewayRequest) => (upstream.calls++, upstream.answer(request.stream)),
    checkAnswer: (_request: GatewayRequest, answer: GatewayAnswer) => answer,
    dollarsFor: () => undefined,
  } as unknown as IngressPipeline;
  const exchange = new EdgeExchange(pipeline, NOOP_INGRESS_OBSERVER, undefined, reuse);
  const { app, url } = await listenReuseEdge(exchange);
  return { app, url, metrics, upstream };
}

function chat(url: string, stream = false): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream }),
  });
}

/** Whether `promise` settled within a few turns of the event loop (and a socket's round trip). */
async function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  return settled;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), `timed out waiting for ${what}`);
}

async function waits(metrics: MetricsRegistry, outcome: 'durable' | 'failed'): Promise<number> {
  const text = await metrics.metrics();
  const line = new RegExp(
    `^ai_gateway_answer_record_wait_seconds_count\\{outcome="${outcome}"\\} (\\d+)$`,
    'm',
  ).exec(text);
  return line ? Number(line[1]) : 0;
}

const reuseEvents = (bus: HeldBus) => bus.reuseEvents();

describe('a cache hit with AI_GATEWAY_ANSWER_AFTER_RECORD=on', () => {
  const bus = new HeldBus(true);
  let served: Awaited<ReturnType<typeof edge>>;
  before(async () => {
    served = await edge('  caching: {ttl: 1h}\n', bus);
  });
  after(async () => served.app.close());

  it('sends a JSON answer only once its usage event is durable', async () => {
    const miss = await chat(served.url);
    assert.equal(miss.headers.get('x-ai-gateway-cache'), 'miss');
    await miss.text();
    // Its own call's record is the metered provider's to wait for, not the edge's.
    assert.equal(bus.barriersWaiting, 0);
    assert.equal(reuseEvents(bus).length, 0);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the answer is stored

    const hit = chat(served.url);
    await until('the barrier is asked for', () => bus.barriersWaiting === 1);
    // The reuse event went first, and nothing of the answer until the barrier passes.
    assert.equal(reuseEvents(bus).length, 1);
    assert.equal(bus.publishedAtBarrier.at(-1), 1);
    assert.equal(await settlesSoon(hit), false, 'the answer went before its record');
    bus.passAll();
    const response = await hit;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-ai-gateway-cache'), 'hit');
    assert.equal(((await response.json()) as { object: string }).object, 'chat.completion');
    assert.equal(reuseEvents(bus).length, 1, 'the reuse event published once');
    assert.equal(await waits(served.metrics, 'durable'), 1);
    assert.equal(served.upstream.calls, 1);
  });

  it("streams a cached replay's chunks at once and its [DONE] only once its usage event is durable", async () => {
    await (await chat(served.url, true)).text(); // the miss that stores the stream
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = reuseEvents(bus).length;

    const response = await chat(served.url, true);
    assert.equal(response.headers.get('x-ai-gateway-cache'), 'hit');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await until('the barrier is asked for', () => bus.barriersWaiting === 1);
    // Everything written so far arrives; the end does not.
    while (!text.includes(' words')) text += decoder.decode((await reader.read()).value);
    assert.equal(reuseEvents(bus).length, before + 1);
    const next = reader.read();
    assert.equal(await settlesSoon(next), false, 'the stream ended before its record');
    assert.doesNotMatch(text, /\[DONE\]/);
    bus.passAll();
    for (let read = await next; !read.done; read = await reader.read()) {
      text += decoder.decode(read.value);
    }
    assert.match(text, /data: \[DONE\]\n\n$/);
    assert.equal(reuseEvents(bus).length, before + 1, 'the reuse event published once');
    assert.equal(await waits(served.metrics, 'durable'), 2);
  });

  it('sends the answer without waiting further when the write fails, counted as failed', async () => {
    const hit = chat(served.url);
    await until('the barrier is asked for', () => bus.barriersWaiting === 1);
    const failedBefore = await waits(served.metrics, 'failed');
    bus.failAll();
    const response = await hit;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-ai-gateway-cache'), 'hit');
    assert.equal(await waits(served.metrics, 'failed'), failedBefore + 1);
    assert.equal(await waits(served.metrics, 'durable'), 2);
  });
});

describe('a deduplicated follower with AI_GATEWAY_ANSWER_AFTER_RECORD=on', () => {
  const bus = new HeldBus(true);
  let served: Awaited<ReturnType<typeof edge>>;
  before(async () => {
    served = await edge('  deduplication: {window: 30s}\n', bus);
  });
  after(async () => served.app.close());

  it("gets the leader's answer once its own usage event is durable; the leader does not wait on it", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    served.upstream.answer = async () => (await released, jsonAnswer());
    const leader = chat(served.url);
    await until('the leader calls', () => served.upstream.calls === 1);
    const follower = chat(served.url);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the follower joins
    release();
    const led = await leader;
    assert.equal(led.headers.get('x-ai-gateway-dedup'), 'leader');
    await until('the follower asks for the barrier', () => bus.barriersWaiting === 1);
    assert.equal(reuseEvents(bus).length, 1);
    assert.equal(await settlesSoon(follower), false, 'the follower answered before its record');
    bus.passAll();
    const followed = await follower;
    assert.equal(followed.status, 200);
    assert.equal(followed.headers.get('x-ai-gateway-dedup'), 'follower');
    assert.equal(served.upstream.calls, 1);
    assert.equal(await waits(served.metrics, 'durable'), 1);
  });
});

describe('a cache hit with AI_GATEWAY_ANSWER_AFTER_RECORD off (the default)', () => {
  const bus = new HeldBus(false);
  let served: Awaited<ReturnType<typeof edge>>;
  before(async () => {
    served = await edge('  caching: {ttl: 1h}\n', bus);
  });
  after(async () => served.app.close());

  it('answers at once and publishes the reuse event after the answer, waiting for nothing', async () => {
    await (await chat(served.url)).text();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const hit = await chat(served.url);
    assert.equal(hit.headers.get('x-ai-gateway-cache'), 'hit');
    await hit.text();
    assert.equal(reuseEvents(bus).length, 1);
    assert.equal(await waits(served.metrics, 'durable'), 0);
    assert.equal(await waits(served.metrics, 'failed'), 0);
  });
});

describe('ReusePublisher.reusedAndRecorded', () => {
  // The edge counts the event published once the call returns, and settles the hold by it
  // rather than releasing it; an event that could not be published must surface there.
  it('throws at the call, not in the promise, when its event cannot be published', () => {
    const config = reuseRoute('  caching: {ttl: 1h}\n');
    const failing: EventPublisher = {
      publish: () => {
        throw new Error('no event');
      },
      flush: async () => undefined,
      recordBarrier: async () => undefined,
    };
    const billing = parseReuseBilling('none');
    const publisher = new ReusePublisher(() => config, failing, new MetricsRegistry(), billing);
    const request = { requestedModel: 'gpt-4o', caller: { userKey: 'u' } } as GatewayRequest;
    assert.throws(() => publisher.reusedAndRecorded(request, SERVED, USAGE), /no event/);
  });
});
