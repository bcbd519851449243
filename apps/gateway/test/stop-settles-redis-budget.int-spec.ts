import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, type RealService } from '@aigw/testing';
import { perUserBudgetConfig, startApp } from '@aigw/testing/processes';

// An all-in-one gateway with REDIS_URL (its events in the embedded log) closed Redis at a
// stop without settling the usage still queued: those calls' holds stayed in Redis until they
// lapsed and their spend waited in the log for a next start, which a replica scaled down
// (or one on an emptyDir) never has. The embedded store's stop settled them first.
describe('an all-in-one gateway with its budgets in Redis, stopped', () => {
  let redis: RealService;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('settles every answered call before it closes Redis', { timeout: 120_000 }, async (t) => {
    const { dir, config } = perUserBudgetConfig('aigw-stop-redis-budget-');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const user = `u-${randomUUID()}`;
    const gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      REDIS_URL: redis.url,
    });
    const costs: number[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': user },
          body: JSON.stringify({
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
        const body = (await response.json()) as { usage: { total_tokens: number } };
        assert.equal(response.status, 200);
        costs.push(body.usage.total_tokens);
      }
    } finally {
      await gateway.stop();
    }
    const client = new Redis(redis.url);
    try {
      const [key] = await client.keys(`aigw:budget:{${user}}*`);
      assert.ok(key, 'the balance is in Redis');
      assert.equal(
        Number(await client.hget(key, 'used')),
        costs.reduce((a, b) => a + b, 0),
        'every call settled',
      );
      assert.equal(Number((await client.hget(key, 'reserved')) ?? 0), 0, 'no hold left behind');
    } finally {
      client.disconnect();
    }
  });
});
