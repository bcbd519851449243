// A service opening its budget store on a real Redis reads that Redis's maxmemory-policy:
// a policy that may evict keys is warned about (naming it and what can be lost) and
// exported as 0; noeviction as 1, with no warning. The start succeeds either way.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { engineSkipReason, eventually, startRedis, type RealService } from '@aigw/testing';
import { openBudgetStore } from './budget-runtime';
import { ServiceRuntime } from './service-runtime';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

// The suite changes the server's maxmemory-policy: always a Redis of its own.
const skip = engineSkipReason('a Redis of its own to set maxmemory-policy on');

const dir = mkdtempSync(join(tmpdir(), 'aigw-eviction-policy-'));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

/** The gauge's lines and the log lines naming maxmemory-policy of a service opening `url`. */
async function openOn(url: string): Promise<{ gauge: string[]; logs: string[] }> {
  const runtime = await ServiceRuntime.open(
    {
      AI_GATEWAY_CONFIG: configPath,
      AI_GATEWAY_DATA_DIR: mkdtempSync(join(dir, 'data-')),
      AI_GATEWAY_LOG_LEVEL: 'info',
      REDIS_URL: url,
    },
    { app: 'budget', missingSecrets: 'not-needed' },
  );
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  try {
    await openBudgetStore(runtime);
    // Read once the connection is open, off the start's path.
    const gauge = await eventually(
      'the eviction policy gauge is set',
      async () => {
        const lines = (await runtime.metrics.metrics())
          .split('\n')
          .filter((line) => line.startsWith('ai_gateway_redis_eviction_policy_safe'));
        return lines.length === 0 ? undefined : lines;
      },
      { everyMs: 20 },
    );
    return { gauge, logs: lines.filter((line) => line.includes('maxmemory-policy')) };
  } finally {
    process.stdout.write = write;
    await runtime.close();
  }
}

describe('the budget store Redis’s maxmemory-policy (real Redis)', { skip }, () => {
  let redis: RealService;
  let admin: Redis;
  let original: string;

  before(async () => {
    redis = await startRedis({ env: { ...process.env, REDIS_URL: undefined } });
    admin = new Redis(redis.url);
    const reply = (await admin.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
    original = reply[1];
  });
  after(async () => {
    await admin?.call('CONFIG', 'SET', 'maxmemory-policy', original);
    admin?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns about allkeys-lru, naming it and what can be lost, and exports 0', async () => {
    await admin.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    const { gauge, logs } = await openOn(redis.url);
    assert.deepEqual(gauge, ['ai_gateway_redis_eviction_policy_safe{policy="allkeys-lru"} 0']);
    assert.equal(logs.length, 1, logs.join(''));
    const line = JSON.parse(logs[0]) as { level: string; msg: string; policy: string };
    assert.equal(line.level, 'warn');
    assert.equal(line.policy, 'allkeys-lru');
    assert.match(line.msg, /maxmemory-policy is allkeys-lru, not noeviction/);
    assert.match(line.msg, /budget balances and applied-event markers/);
    assert.match(line.msg, /run Redis with maxmemory-policy noeviction/);
  });

  it('says nothing of noeviction and exports 1', async () => {
    await admin.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    const { gauge, logs } = await openOn(redis.url);
    assert.deepEqual(gauge, ['ai_gateway_redis_eviction_policy_safe{policy="noeviction"} 1']);
    assert.deepEqual(logs, []);
  });
});
