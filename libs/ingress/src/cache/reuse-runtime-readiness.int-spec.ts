// /readyz's responseCacheRedis check watches every connection deduplication holds,
// its blocking stream reader included. Real Redis, reached through a link the test cuts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventPublisher } from '@aigw/contracts';
import { Logger, MetricsRegistry } from '@aigw/observability';
import { startRedis, type RealService } from '@aigw/testing';
import { CuttableLink } from '../dedup/testing/cuttable-link';
import { reuseChatRequest } from './testing/reuse-edge';
import { reuseRoute } from './testing/reuse-route';
import { openResponseReuse, type ReuseHost } from './reuse-runtime';

type Check = { name: string; check(): Promise<{ ready: boolean; state: string }> };

/** A service process's part the reuse runtime needs, over `redisUrl`. */
function host(redisUrl: string) {
  const checks: Check[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  const config = reuseRoute('  deduplication: {window: 30s}\n');
  const events: EventPublisher = { publish: () => undefined, flush: async () => undefined };
  const reuseHost: ReuseHost = {
    settings: { redisUrl },
    config: () => config,
    events,
    metrics: new MetricsRegistry({ collectDefaultMetrics: false }),
    logger: new Logger({ level: 'error', write: () => undefined }),
    onClose: (closer) => closers.push(closer),
    onConfigReload: () => undefined,
    addReadinessCheck: (check) => checks.push(check),
  };
  const redisState = () => {
    const check = checks.find((each) => each.name === 'responseCacheRedis');
    assert.ok(check);
    return check.check();
  };
  const close = async () => {
    for (const closer of closers) await closer();
  };
  return { reuseHost, redisState, close };
}

async function until(what: string, ok: () => Promise<boolean>, withinMs = 5_000) {
  const deadline = Date.now() + withinMs;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`not within ${withinMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('readiness of the deduplication Redis connections (real Redis)', () => {
  let redis: RealService;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it('counts the follower’s stream reader as a client of its own', async () => {
    const link = await CuttableLink.open(redis.url);
    const leading = host(redis.url);
    const following = host(link.url);
    try {
      const leaderReuse = openResponseReuse(leading.reuseHost, {});
      const followerReuse = openResponseReuse(following.reuseHost, {});
      const request = reuseChatRequest(
        { model: 'gpt-4o', messages: [{ role: 'user', content: `hi ${Date.now()}` }] },
        'r1',
      );
      const plan = leaderReuse.plan(request, {});
      assert.ok(plan?.dedup);
      // A call that runs until the test ends: the other replica follows it.
      const led = await leaderReuse.call(
        plan,
        () => new Promise(() => undefined),
        new AbortController().signal,
      );
      assert.equal(led.source, 'leader');
      const found = await followerReuse.find(plan, request);
      assert.equal(found?.source, 'follower');
      found?.answer.catch(() => undefined);

      await until('both connections up', async () => (await following.redisState()).ready);
      assert.deepEqual(await following.redisState(), { ready: true, state: 'connected' });

      link.cut();
      await until('seen away', async () => !(await following.redisState()).ready);
      await new Promise((resolve) => setTimeout(resolve, 300)); // every close heard
      assert.deepEqual(await following.redisState(), {
        ready: false,
        state: 'unreachable (2 of 2 clients)',
      });
      link.restore();
      await until('both back', async () => (await following.redisState()).ready, 8_000);
    } finally {
      await following.close();
      await leading.close();
      await link.close();
    }
  });
});
