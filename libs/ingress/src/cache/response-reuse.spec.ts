import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayEvent } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { InProcessFlightCoordinator } from '../dedup/domain/flight-coordinator';
import { MemoryResponseCacheStore } from './domain/memory-cache-store';
import { parseReuseBilling } from './domain/reuse-billing';
import { ResponseReuse, type ServedAnswer } from './response-reuse';
import { ReusePublisher } from './reuse-publisher';
import {
  reuseChunk as chunk,
  reuseJsonAnswer as jsonAnswer,
  reuseRoute as config,
  REUSE_SERVED as SERVED,
  REUSE_USAGE as USAGE,
} from './testing/reuse-route';

/** `now`: the flights' clock (a test can move it past a dedup window without waiting). */
function setup(route: string, billing = 'none', now: () => number = Date.now) {
  const cfg = config(route);
  const events: GatewayEvent[] = [];
  const metrics = new MetricsRegistry();
  const store = new MemoryResponseCacheStore(1 << 20);
  const reuse = new ResponseReuse({
    config: () => cfg,
    cacheStore: () => store,
    flights: (() => {
      const flights = new InProcessFlightCoordinator(now);
      return () => flights;
    })(),
    publisher: new ReusePublisher(
      () => cfg,
      { publish: (e) => void events.push(e), flush: async () => undefined },
      metrics,
      parseReuseBilling(billing),
    ),
    billing: parseReuseBilling(billing),
    now,
  });
  return { reuse, store, events, metrics };
}

function request(stream = false, content = 'hi'): GatewayRequest {
  return {
    requestId: `req-${Math.random()}`,
    operation: 'chat',
    requestedModel: 'gpt-4o',
    stream,
    clientWantsStreamUsage: false,
    body: { model: 'gpt-4o', messages: [{ role: 'user', content }], stream },
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

function streamAnswer(chunks: JsonObject[], fail?: DataPlaneError): GatewayAnswer {
  const usage = fail ? Promise.reject(fail) : Promise.resolve(USAGE);
  usage.catch(() => undefined);
  return {
    kind: 'stream',
    status: 200,
    servedBy: SERVED,
    usage,
    events: (async function* () {
      for (const c of chunks) {
        await new Promise((resolve) => setImmediate(resolve));
        yield c;
      }
      if (fail) throw fail;
    })(),
  };
}

async function text(served: ServedAnswer): Promise<string> {
  const answer = await served.answer;
  if (answer.kind === 'json') return JSON.stringify(answer.body);
  let out = '';
  for await (const c of answer.events) {
    out += ((c.choices as JsonObject[])[0].delta as JsonObject).content as string;
  }
  return out;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
const never = new AbortController().signal;

/** What the edge does: a reuse found, else a call. */
async function serve(
  reuse: ResponseReuse,
  req: GatewayRequest,
  invoke: () => Promise<GatewayAnswer>,
  headers: Record<string, string> = {},
): Promise<ServedAnswer> {
  const plan = reuse.plan(req, headers);
  assert.ok(plan);
  return (await reuse.find(plan, req)) ?? reuse.call(plan, invoke, never);
}

/** A provider call that answers once `release` is called, counting how often it was made. */
function heldCall(answer: () => GatewayAnswer) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const upstream = {
    calls: 0,
    release: () => release(),
    invoke: async () => {
      upstream.calls++;
      await gate;
      return answer();
    },
  };
  return upstream;
}

describe('response cache', () => {
  it('stores a completed stream, replays it as a stream, and counts hits and misses', async () => {
    const { reuse, metrics } = setup('  caching: {ttl: 1h}\n');
    let calls = 0;
    const invoke = async () => (calls++, streamAnswer([chunk('a'), chunk('b'), chunk('', 'stop')]));
    const first = await serve(reuse, request(true), invoke);
    assert.equal(first.headers['x-ai-gateway-cache'], 'miss');
    assert.equal(await text(first), 'ab');
    await tick();
    const second = await serve(reuse, request(true), invoke);
    assert.equal(second.source, 'cache');
    assert.equal(second.headers['x-ai-gateway-cache'], 'hit');
    assert.equal(await text(second), 'ab');
    assert.equal(calls, 1);
    const out = await metrics.metrics();
    assert.match(out, /ai_gateway_cache_hits_total\{model="gpt-4o"\} 1/);
    assert.match(out, /ai_gateway_cache_misses_total\{model="gpt-4o"\} 1/);
  });

  it('never stores errors, broken or unfinished streams', async () => {
    const { reuse, store } = setup('  caching: {ttl: 1h}\n');
    const broken = new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'cut');
    await assert.rejects(
      text(await serve(reuse, request(true), async () => streamAnswer([chunk('a')], broken))),
      /cut/,
    );
    await text(await serve(reuse, request(true), async () => streamAnswer([chunk('a')])));
    await assert.rejects(
      text(
        await serve(reuse, request(false), async () => {
          throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'down');
        }),
      ),
      /down/,
    );
    await tick();
    assert.equal(store.bytesIn('r'), 0);
  });

  it('never stores an answer a content filter withheld, streamed or JSON', async () => {
    const { reuse, store } = setup('  caching: {ttl: 1h}\n');
    await text(
      await serve(reuse, request(true), async () =>
        streamAnswer([chunk('a'), chunk('', 'content_filter')]),
      ),
    );
    await text(
      await serve(reuse, request(false), async () => ({
        ...jsonAnswer(),
        body: {
          object: 'chat.completion',
          choices: [{ message: { content: null }, finish_reason: 'content_filter' }],
        },
      })),
    );
    await tick();
    assert.equal(store.bytesIn('r'), 0);
  });

  it('honours no-store (no lookup, no store) and no-cache (no lookup, store)', async () => {
    const { reuse, store } = setup('  caching: {ttl: 1h}\n');
    let calls = 0;
    const invoke = async () => (calls++, jsonAnswer());
    await text(await serve(reuse, request(), invoke, { 'cache-control': 'no-store' }));
    await tick();
    assert.equal(store.bytesIn('r'), 0);
    await text(await serve(reuse, request(), invoke, { 'cache-control': 'no-cache' }));
    await tick();
    assert.ok(store.bytesIn('r') > 0);
    const again = await serve(reuse, request(), invoke, { 'cache-control': 'no-cache' });
    assert.equal(again.source, 'call');
    await text(again);
    assert.equal((await serve(reuse, request(), invoke)).source, 'cache');
    assert.equal(calls, 3);
  });

  it('reads Pragma: no-cache, sent without Cache-Control, as no-cache', async () => {
    const { reuse } = setup('  caching: {ttl: 1h}\n');
    let calls = 0;
    const invoke = async () => (calls++, jsonAnswer());
    await text(await serve(reuse, request(), invoke));
    await tick();
    const fresh = await serve(reuse, request(), invoke, { pragma: 'no-cache' });
    assert.equal(fresh.source, 'call', 'an HTTP/1.0 client asked for a fresh answer');
    await text(fresh);
    assert.equal(calls, 2);
  });

  it('honours a client max-age: an entry stored longer ago is a miss, and is replaced', async () => {
    let clock = 1_000_000;
    const { reuse } = setup('  caching: {ttl: 1h}\n', 'none', () => clock);
    let calls = 0;
    const invoke = async () => (calls++, jsonAnswer());
    await text(await serve(reuse, request(), invoke));
    await tick();
    clock += 60_000;
    const fresh = { 'cache-control': 'max-age=60' };
    assert.equal((await serve(reuse, request(), invoke, fresh)).source, 'cache', 'exactly 60 s');
    clock += 1;
    const stale = await serve(reuse, request(), invoke, fresh);
    assert.equal(stale.source, 'call', 'older than max-age: not an answer for this client');
    await text(stale);
    await tick();
    assert.equal(calls, 2);
    // Its fresh answer replaced the old entry; clients without max-age take any within TTL.
    assert.equal((await serve(reuse, request(), invoke, fresh)).source, 'cache');
    clock += 30 * 60_000;
    assert.equal((await serve(reuse, request(), invoke)).source, 'cache');
    assert.equal(calls, 2);
  });

  it('does not reuse for a caller whose plan does not allow the model', () => {
    const { reuse } = setup('  caching: {ttl: 1h}\n');
    assert.equal(reuse.plan({ ...request(), allowedModels: ['other'] }, {}), undefined);
  });

  it('never serves a caller an answer a model its tier may not use could have made', async () => {
    // gpt-4o falls back to gpt-4o-mini: a free caller may use gpt-4o only, so its chain
    // stops there, and an answer stored from an unrestricted caller's chain (maybe the
    // mini's) is not its to reuse, from the cache or from a shared call.
    const route =
      '  - {name: mini, provider: local, model: gpt-4o-mini}\n' +
      '  retry: {fallbackStrategy: cheaperModel, fallbackOrder: [gpt-4o, gpt-4o-mini]}\n';
    const restricted = (r: GatewayRequest): GatewayRequest => ({ ...r, allowedModels: ['gpt-4o'] });
    for (const feature of ['  caching: {ttl: 1h}\n', '  deduplication: {window: 30s}\n']) {
      const { reuse } = setup(route + feature);
      let calls = 0;
      const fromMini = async (): Promise<GatewayAnswer> => (
        calls++,
        { ...jsonAnswer(), servedBy: { ...SERVED, model: 'gpt-4o-mini' } }
      );
      await text(await serve(reuse, request(), fromMini));
      await tick();
      const free = await serve(reuse, restricted(request()), async () => (calls++, jsonAnswer()));
      assert.ok(free.source === 'call' || free.source === 'leader', `${feature}: ${free.source}`);
      assert.equal((await free.answer).servedBy.model, 'gpt-4o');
      // Callers with the same chain still share: another free caller, and the unrestricted.
      const again = await serve(reuse, restricted(request()), fromMini);
      assert.ok(again.source === 'cache' || again.source === 'follower', feature);
      assert.equal(calls, 2, feature);
    }
  });

  it('publishes a cached usage event billed by the rule', () => {
    for (const [rule, tokens] of [
      ['none', 0],
      ['full', 18],
    ] as const) {
      const { reuse, events } = setup('  caching: {ttl: 1h}\n', rule);
      reuse.reused(request(), SERVED, USAGE);
      const event = events[0] as unknown as Record<string, unknown>;
      assert.equal(event.type, 'usage.recorded');
      assert.equal(event.cacheHit, true);
      assert.equal(Number(event.inputTokens) + Number(event.outputTokens), tokens);
    }
  });
});

describe('request deduplication (in process)', () => {
  it('makes one call for identical concurrent requests; a late joiner reads from the start, and each joiner is counted', async () => {
    const { reuse, metrics } = setup('  deduplication: {window: 30s}\n');
    const upstream = heldCall(() => streamAnswer([chunk('x'), chunk('y'), chunk('', 'stop')]));
    const { invoke, release } = upstream;
    const served = await Promise.all(
      Array.from({ length: 5 }, () => serve(reuse, request(true), invoke)),
    );
    assert.deepEqual(served.map((s) => s.source).sort(), [
      'follower',
      'follower',
      'follower',
      'follower',
      'leader',
    ]);
    // The leader's own client reads nothing and leaves: the others still get everything.
    const texts = served.filter((s) => s.source === 'follower').map(text);
    release();
    assert.deepEqual(await Promise.all(texts), ['xy', 'xy', 'xy', 'xy']);
    const late = await serve(reuse, request(true), invoke);
    assert.equal(late.source, 'follower');
    assert.equal(await text(late), 'xy');
    assert.equal(upstream.calls, 1);
    // Four joined the running call, one the finished one: five requests with no call of their own.
    assert.match(await metrics.metrics(), /ai_gateway_dedup_followers_total\{model="gpt-4o"\} 5\n/);
  });

  it('shares the answer of a no-store leader only while it runs, then neither keeps nor serves it', async () => {
    const { reuse, store } = setup('  caching: {ttl: 1h}\n  deduplication: {window: 30s}\n');
    const upstream = heldCall(() => jsonAnswer());
    const { invoke, release } = upstream;
    const noStore = { 'cache-control': 'no-store' };
    const leader = await serve(reuse, request(), invoke, noStore);
    const onIt = await serve(reuse, request(), invoke);
    assert.deepEqual([leader.source, onIt.source], ['leader', 'follower']);
    release();
    assert.equal(await text(onIt), await text(leader));
    await tick();
    assert.equal(store.bytesIn('r'), 0, 'nothing stored');
    // Over, within the window: an identical request makes its own call.
    const later = await serve(reuse, request(), invoke);
    assert.equal(later.source, 'leader');
    await text(later);
    assert.equal(upstream.calls, 2);
  });

  it('gives a no-store follower the answer of the leader, stored as the leader allowed', async () => {
    // RFC 9111 no-store binds what is kept of this request's exchange; the answer is the
    // leader's, stored or not whether this follower came or not.
    const { reuse, store } = setup('  caching: {ttl: 1h}\n  deduplication: {window: 30s}\n');
    const upstream = heldCall(() => jsonAnswer());
    const { invoke, release } = upstream;
    const leader = await serve(reuse, request(), invoke);
    const noStore = await serve(reuse, request(), invoke, { 'cache-control': 'no-store' });
    assert.deepEqual([leader.source, noStore.source], ['leader', 'follower']);
    release();
    assert.equal(await text(noStore), await text(leader));
    await tick();
    assert.ok(store.bytesIn('r') > 0);
    assert.equal(upstream.calls, 1);
  });

  it('joins an identical request within the window; after it, makes a new call', async () => {
    let clock = 1_000_000;
    const { reuse } = setup('  deduplication: {window: 5s}\n', 'none', () => clock);
    let calls = 0;
    const invoke = async () => (calls++, streamAnswer([chunk('w'), chunk('', 'stop')]));
    const first = await serve(reuse, request(true), invoke);
    assert.equal(first.source, 'leader');
    assert.equal(await text(first), 'w');
    // The call is over, but its window is not: the same request joins it.
    clock += 4_999;
    const within = await serve(reuse, request(true), invoke);
    assert.equal(within.source, 'follower');
    assert.equal(await text(within), 'w');
    assert.equal(calls, 1, 'a request within the window makes no call');
    // Past the window (counted from the leader's start): a new call, which leads.
    clock += 2;
    const after = await serve(reuse, request(true), invoke);
    assert.equal(after.source, 'leader');
    assert.equal(await text(after), 'w');
    assert.equal(calls, 2, 'a request after the window makes its own call');
  });

  it('gives every caller the error of a failed shared call', async () => {
    const { reuse } = setup('  deduplication: {window: 30s}\n');
    const invoke = async () => {
      await tick();
      throw new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down', {
        retryAfterMs: 5,
      });
    };
    const served = await Promise.all([1, 2, 3].map(() => serve(reuse, request(), invoke)));
    for (const s of served) {
      await assert.rejects(
        s.answer,
        (error: DataPlaneError) =>
          error.code === DataPlaneErrorCode.UpstreamRateLimited && error.retryAfterMs === 5,
      );
    }
  });

  it('is not joined once it failed: an identical request within the window calls again', async () => {
    const { reuse } = setup('  deduplication: {window: 30s}\n');
    let calls = 0;
    const failing = async (): Promise<GatewayAnswer> => {
      calls++;
      throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'down');
    };
    await assert.rejects((await serve(reuse, request(), failing)).answer, /down/);
    // A broken stream is a failed call too.
    const broken = new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'cut');
    const cut = await serve(
      reuse,
      request(true),
      async () => (calls++, streamAnswer([chunk('a')], broken)),
    );
    await assert.rejects(text(cut), /cut/);
    await tick();
    const again = await serve(reuse, request(), async () => (calls++, jsonAnswer()));
    assert.equal(again.source, 'leader', 'the failed call is not replayed');
    assert.match(await text(again), /ok/);
    const streamAgain = await serve(
      reuse,
      request(true),
      async () => (calls++, streamAnswer([chunk('b'), chunk('', 'stop')])),
    );
    assert.equal(streamAgain.source, 'leader');
    assert.equal(await text(streamAgain), 'b');
    assert.equal(calls, 4);
  });
});

describe('reuse of calls a client narrowed (x-ai-gateway-* overrides)', () => {
  const narrowed = (overrides: GatewayRequest['overrides']): GatewayRequest => ({
    ...request(),
    overrides,
  });

  it('neither joins nor leads a shared call', async () => {
    const { reuse } = setup('  deduplication: {window: 30s}\n');
    let calls = 0;
    const invoke = async () => (calls++, jsonAnswer());
    const leader = await serve(reuse, request(), invoke);
    assert.equal(leader.source, 'leader');
    // Joining, its deadline would not bind the shared call: it makes its own.
    assert.equal(reuse.plan(narrowed({ timeoutMs: 500 }), {}), undefined);
    // Nor does the narrowed call become one that others join.
    assert.equal(reuse.plan(narrowed({ fallback: false }), {}), undefined);
    assert.equal(calls, 1);
  });

  it('with fallback none, does not answer from the cache but still stores its answer', async () => {
    const { reuse } = setup('  caching: {enabled: true, ttl: 60s}\n');
    const stored = await serve(reuse, request(), async () => jsonAnswer());
    await stored.answer;
    await tick();
    const plan = reuse.plan(narrowed({ fallback: false }), {});
    assert.ok(plan?.cache);
    assert.equal(plan.cache.lookup, false);
    assert.equal(plan.cache.keep, true);
    // Other overrides leave the cache as it is: a hit is an answer within any deadline.
    assert.equal(reuse.plan(narrowed({ retries: 0, timeoutMs: 500 }), {})?.cache?.lookup, true);
  });
});
