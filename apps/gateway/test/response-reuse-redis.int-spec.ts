import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { createRedisClient } from '@aigw/infra';
import { startRedis, type RealService } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { answerText, chat, FULL_ANSWER, reuseConfig } from './reuse-helpers';

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Two all-in-one gateway processes sharing one real Redis, as two ingress replicas
// would: deduplication and the cache work across them.

describe('response cache and deduplication across two replicas sharing Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-reuse-int-'));
  const cachedUpstream = new FakeOpenAiUpstream('cached');
  const dedupUpstream = new FakeOpenAiUpstream('deduped');
  let redis: RealService;
  let replicas: AppProcess[] = [];
  let client: Redis;
  /** Entries of the `cached` route's namespace in Redis. */
  const entries = async () => (await client.keys('aigw:rc:v1:{cached}:e:*')).length;

  before(async () => {
    redis = await startRedis();
    client = createRedisClient(redis.url);
    await Promise.all([cachedUpstream.start(), dedupUpstream.start()]);
    const config = join(dir, 'reuse.yaml');
    writeFileSync(config, reuseConfig(cachedUpstream, dedupUpstream));
    replicas = await Promise.all(
      ['a', 'b'].map((name) =>
        startApp('gateway', {
          AI_GATEWAY_CONFIG: config,
          AI_GATEWAY_DATA_DIR: join(dir, name),
          REDIS_URL: redis.url,
        }),
      ),
    );
  });
  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await Promise.all([cachedUpstream.stop(), dedupUpstream.stop()]);
    client.disconnect();
    await redis.stop();
  });

  for (const stream of [false, true]) {
    it(`5 concurrent identical requests over both replicas make 1 upstream call (${stream ? 'streaming' : 'plain'})`, async () => {
      dedupUpstream.reset();
      dedupUpstream.always({ kind: 'delay', ms: 2_000 });
      const prompt = `Shared question ${randomUUID()}`;
      const responses = await Promise.all(
        [0, 1, 2, 3, 4].map((i) =>
          chat(replicas[i % 2].baseUrl, {
            model: 'dedup-model',
            prompt,
            stream,
            user: `user-${i}`,
          }),
        ),
      );
      const roles = responses.map((r) => r.headers.get('x-ai-gateway-dedup')).sort();
      assert.deepEqual(roles, ['follower', 'follower', 'follower', 'follower', 'leader']);
      for (const response of responses) assert.equal(await answerText(response), FULL_ANSWER);
      // A late joiner on either replica still gets the whole answer from the shared call.
      for (const replica of replicas) {
        const late = await chat(replica.baseUrl, { model: 'dedup-model', prompt, stream });
        assert.equal(late.headers.get('x-ai-gateway-dedup'), 'follower');
        assert.equal(await answerText(late), FULL_ANSWER);
      }
      assert.equal(dedupUpstream.calls.length, 1, 'exactly one upstream call');
      dedupUpstream.reset();
    });
  }

  it('a response cached by replica A is a hit on replica B, plain and streaming', async () => {
    const [a, b] = replicas;
    for (const stream of [false, true]) {
      const prompt = `Cached across replicas ${randomUUID()}`;
      const before = cachedUpstream.calls.length;
      const entriesBefore = await entries();
      const first = await chat(a.baseUrl, { model: 'cached-model', prompt, stream });
      assert.equal(first.headers.get('x-ai-gateway-cache'), 'miss');
      assert.equal(await answerText(first), FULL_ANSWER);
      // Stored once the answer completed, just after A's client got it: wait for the entry.
      await waitFor(async () => (await entries()) > entriesBefore);
      const hit = await chat(b.baseUrl, { model: 'cached-model', prompt, stream });
      assert.equal(hit.headers.get('x-ai-gateway-cache'), 'hit');
      assert.equal(await answerText(hit), FULL_ANSWER);
      assert.equal(cachedUpstream.calls.length, before + 1, 'B made no upstream call');
    }
  });
});
