// A request on a route with the response cache and deduplication while their Redis is
// connected but silent (it stalled, or the network drops its packets with no reset).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { GatewayEvent } from '@aigw/contracts';
import type { GatewayRequest } from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { startRedis, until, type RealService } from '@aigw/testing';
import { RedisFlightCoordinator } from '../dedup/redis-flight-coordinator';
import { CuttableLink } from '../dedup/testing/cuttable-link';
import { parseReuseBilling } from './domain/reuse-billing';
import { RedisResponseCacheStore } from './redis-cache-store';
import { ResponseReuse } from './response-reuse';
import { ReusePublisher } from './reuse-publisher';
import { ReuseRedisClients, reuseRedisClient } from './reuse-redis-client';
import { reuseJsonAnswer, reuseRoute } from './testing/reuse-route';

function request(): GatewayRequest {
  const content = `silent ${randomUUID()}`;
  return {
    requestId: randomUUID(),
    operation: 'chat',
    requestedModel: 'gpt-4o',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'gpt-4o', messages: [{ role: 'user', content }] },
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

describe('the cache and deduplication while their Redis is silent (real Redis)', () => {
  let redis: RealService;
  let link: CuttableLink;
  let client: Redis;
  let flights: RedisFlightCoordinator;
  const failures: { what: string; message: string }[] = [];
  let reuse: ResponseReuse;

  before(async () => {
    redis = await startRedis();
    link = await CuttableLink.open(redis.url);
    client = reuseRedisClient(link.url);
    client.on('error', () => undefined);
    const onError = (what: string, error: unknown) =>
      failures.push({ what, message: error instanceof Error ? error.message : String(error) });
    flights = new RedisFlightCoordinator(client, { onError });
    const config = reuseRoute(
      '  caching: {enabled: true, ttl: 60s}\n  deduplication: {window: 5s}\n',
    );
    const events: GatewayEvent[] = [];
    const billing = parseReuseBilling('none');
    const store = new RedisResponseCacheStore(client, false);
    reuse = new ResponseReuse({
      config: () => config,
      cacheStore: () => store,
      flights: () => flights,
      publisher: new ReusePublisher(
        () => config,
        { publish: (event) => void events.push(event), flush: async () => undefined },
        new MetricsRegistry(),
        billing,
      ),
      billing,
      onError,
    });
    await until('the client is connected', () => client.status === 'ready', { everyMs: 20 });
  });
  after(async () => {
    await flights.close();
    client.disconnect();
    await link.close();
    await redis.stop();
  });

  /** One request as the edge serves it: a lookup, a call to join, else its own call. */
  async function serve(): Promise<void> {
    const incoming = request();
    const plan = reuse.plan(incoming, {});
    assert.ok(plan?.cache && plan.dedup);
    assert.equal(await reuse.find(plan, incoming), undefined, 'nothing to reuse');
    const served = await reuse.call(
      plan,
      async () => reuseJsonAnswer(),
      new AbortController().signal,
    );
    assert.equal((await served.answer).kind, 'json');
  }

  /** The request path's failures since `from`: what failed, and whether it waited. */
  const requestPathFailures = (from: number) =>
    failures
      .slice(from)
      .filter(({ what }) => ['cache lookup', 'dedup lookup', 'dedup lock'].includes(what))
      .map(
        ({ what, message }) => `${what}: ${message === 'Command timed out' ? 'waited' : 'at once'}`,
      );

  it('a request waits out one command timeout at most; the next ones none, until Redis answers', async () => {
    await serve();
    const clients = new ReuseRedisClients();
    clients.add(client);
    assert.deepEqual(clients.readiness(), { ready: true, state: 'connected' });

    link.holdReplies(); // Redis runs what it is sent; no reply comes back
    let from = failures.length;
    await serve();
    // Its lookup waited out the timeout; joining and leading were then not sent.
    assert.deepEqual(requestPathFailures(from), [
      'cache lookup: waited',
      'dedup lookup: at once',
      'dedup lock: at once',
    ]);
    assert.deepEqual(clients.readiness(), {
      ready: false,
      state: 'unreachable (1 of 1 clients)',
    });
    from = failures.length;
    await serve();
    assert.deepEqual(requestPathFailures(from), [
      'cache lookup: at once',
      'dedup lookup: at once',
      'dedup lock: at once',
    ]);

    link.releaseReplies(); // Redis answers again: so does the probe, and reuse resumes
    await until('no longer silent once Redis answers', () => clients.readiness().ready, {
      everyMs: 20,
    });
    from = failures.length;
    await serve();
    assert.deepEqual(requestPathFailures(from), []);
  });
});
