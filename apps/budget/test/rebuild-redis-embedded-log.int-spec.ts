import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Topic } from '@aigw/contracts';
import { SqliteEventLog } from '@aigw/embedded';
import { startRedis, until, type RealService } from '@aigw/testing';
import { budgetRebuildOutcome, perUserBudgetConfig, startApp } from '@aigw/testing/processes';

/** The rebuild CLI's output and exit code, kept on failure. */
const rebuild = budgetRebuildOutcome;

// An all-in-one gateway given REDIS_URL but no KAFKA_BROKERS keeps its events in the embedded
// log and its balances in Redis. The rebuild compared them with budget.db, which that gateway
// never writes: every balance differed (live 0), and --restore wrote there, exit 0.
describe('budget:rebuild for an all-in-one gateway with Redis and the embedded event log', () => {
  let redis: RealService;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('compares with the balances in Redis and restores there', { timeout: 180_000 }, async (t) => {
    const { dir, config } = perUserBudgetConfig('aigw-rebuild-redis-log-');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const user = `u-${randomUUID()}`;
    const env = {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      REDIS_URL: redis.url,
    };
    const client = new Redis(redis.url);
    after(() => client.disconnect());
    const gateway = await startApp('gateway', env);
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
        assert.equal(response.status, 200, await response.text());
      }
      // Settled before the stop (a call left unsettled is settled at the next start, and a
      // restore refuses until then): the settler has committed the log past all three.
      const log = new SqliteEventLog(join(dir, 'data', 'events.db'));
      try {
        await until('the gateway settled the three calls', () => {
          const usage = log.read([Topic.UsageRecorded], 0, 10);
          return usage.length === 3 && log.committed('budget') >= usage[2].seq;
        });
      } finally {
        log.close();
      }
    } finally {
      await gateway.stop();
    }
    const matched = await rebuild(env);
    assert.equal(matched.code, 0, matched.stdout + matched.stderr);
    assert.match(
      matched.stdout,
      /rebuilt 1 balances from 3 usage events and 0 adjustments: 0 mismatches/,
    );

    // Redis loses the balance; the event log still holds the spend.
    {
      const [key] = await client.keys(`aigw:budget:{${user}}*`);
      assert.ok(key, 'the gateway kept the balance in Redis');
      const spent = Number(await client.hget(key, 'used'));
      await client.del(key);
      const restored = await rebuild(env, '--restore', '--catch-up-wait', '5');
      assert.equal(restored.code, 0, restored.stdout + restored.stderr);
      assert.match(restored.stdout, new RegExp(`restored .*: added ${spent}\\b`));
      assert.equal(Number(await client.hget(key, 'used')), spent, 'given back in Redis');
    }
  });
});
