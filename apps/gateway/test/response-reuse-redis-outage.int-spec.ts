import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineSkipReason, startRedis, type RealService } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { chat, reuseConfig } from './reuse-helpers';

// The response cache and deduplication share Redis but only save work: with Redis gone a
// request is still served, as a miss, without waiting through the reconnect backoff.

const skip = engineSkipReason('a Redis of its own to stop');

describe('response cache and deduplication while Redis is gone', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-reuse-outage-'));
  const cachedUpstream = new FakeOpenAiUpstream('cached');
  const dedupUpstream = new FakeOpenAiUpstream('deduped');
  let redis: RealService;
  let gateway: AppProcess;

  before(async () => {
    redis = await startRedis({ env: { ...process.env, REDIS_URL: undefined } });
    await Promise.all([cachedUpstream.start(), dedupUpstream.start()]);
    const config = join(dir, 'reuse.yaml');
    writeFileSync(config, reuseConfig(cachedUpstream, dedupUpstream));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_MISSING_SECRETS: 'warn',
      REDIS_URL: redis.url,
    });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([cachedUpstream.stop(), dedupUpstream.stop()]);
    await redis?.stop();
  });

  it('serves cached and deduplicated routes as misses, promptly, while Redis is gone', async () => {
    const prompt = `Before the outage ${randomUUID()}`;
    assert.equal((await chat(gateway.baseUrl, { model: 'cached-model', prompt })).status, 200);
    await redis.stop();
    const timings: number[] = [];
    for (const model of ['cached-model', 'dedup-model', 'cached-model', 'dedup-model']) {
      const started = Date.now();
      const response = await chat(gateway.baseUrl, { model, prompt: `${model} ${randomUUID()}` });
      assert.equal(response.status, 200, await response.text());
      timings.push(Date.now() - started);
    }
    // Held through the reconnect backoff, these had taken up to 20 s each; then up to the
    // 2 s command timeout. A command to a Redis known to be away now fails at once.
    assert.ok(Math.max(...timings) < 1_500, `served after ${timings.join(', ')} ms`);
  });
});
