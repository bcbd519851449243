// The budget store's Redis is checked for a maxmemory-policy that may evict keys: a
// warning and a gauge, never a failed start; a Redis refusing CONFIG is only noted.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { Logger, MetricsRegistry } from '@aigw/observability';
import { checkRedisEvictionPolicy, watchRedisEvictionPolicy } from './redis-eviction-policy';

function capture() {
  const lines: { level: string; msg: string; policy?: string }[] = [];
  const logger = new Logger({
    level: 'debug',
    write: (line) => void lines.push(JSON.parse(line) as (typeof lines)[number]),
  });
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const gauge = async () =>
    (await metrics.metrics())
      .split('\n')
      .filter((line) => line.startsWith('ai_gateway_redis_eviction_policy_safe'));
  return { lines, logger, metrics, gauge };
}

const answering = (policy: string) => ({
  call: async (...args: string[]) => {
    assert.deepEqual(args, ['CONFIG', 'GET', 'maxmemory-policy']);
    return ['maxmemory-policy', policy];
  },
});

describe('checkRedisEvictionPolicy', () => {
  it('warns about a policy that may evict, naming it and what can be lost, and exports 0', async () => {
    const { lines, logger, metrics, gauge } = capture();
    assert.equal(
      await checkRedisEvictionPolicy(answering('allkeys-lru'), logger, metrics),
      'allkeys-lru',
    );
    const warnings = lines.filter((line) => line.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].msg, /maxmemory-policy is allkeys-lru, not noeviction/);
    assert.match(warnings[0].msg, /budget balances/);
    assert.match(warnings[0].msg, /client secrets and deduplication locks/);
    assert.deepEqual(await gauge(), [
      'ai_gateway_redis_eviction_policy_safe{policy="allkeys-lru"} 0',
    ]);
  });

  it('says nothing of noeviction and exports 1', async () => {
    const { lines, logger, metrics, gauge } = capture();
    await checkRedisEvictionPolicy(answering('noeviction'), logger, metrics);
    assert.deepEqual(lines, []);
    assert.deepEqual(await gauge(), [
      'ai_gateway_redis_eviction_policy_safe{policy="noeviction"} 1',
    ]);
  });

  it('folds a policy Redis does not document into other', async () => {
    const { logger, metrics, gauge } = capture();
    await checkRedisEvictionPolicy(answering('made-up'), logger, metrics);
    assert.deepEqual(await gauge(), ['ai_gateway_redis_eviction_policy_safe{policy="other"} 0']);
  });

  it('notes at info a Redis that refuses CONFIG, leaves the gauge unset and does not throw', async () => {
    const { lines, logger, metrics, gauge } = capture();
    const refusing = {
      call: async () => {
        throw new Error("ERR unknown command 'CONFIG'");
      },
    };
    assert.equal(await checkRedisEvictionPolicy(refusing, logger, metrics), undefined);
    assert.deepEqual(
      lines.map((line) => [line.level, line.msg]),
      [['info', 'could not check the Redis maxmemory-policy (CONFIG GET refused or failed)']],
    );
    assert.deepEqual(await gauge(), []);
  });
});

describe('watchRedisEvictionPolicy', () => {
  it('checks at each connection, replacing the series, and warns once per policy', async () => {
    const { lines, logger, metrics, gauge } = capture();
    let policy = 'volatile-lru';
    const client = Object.assign(new EventEmitter(), {
      status: 'connecting',
      call: async () => ['maxmemory-policy', policy],
    });
    watchRedisEvictionPolicy(client, logger, metrics);
    const connect = async () => {
      client.emit('ready');
      await new Promise((resolve) => setImmediate(resolve));
    };
    assert.deepEqual(await gauge(), [], 'nothing before the connection opens');
    await connect();
    await connect(); // a reconnect to the same server: no second warning
    assert.equal(lines.filter((line) => line.level === 'warn').length, 1);
    assert.deepEqual(await gauge(), [
      'ai_gateway_redis_eviction_policy_safe{policy="volatile-lru"} 0',
    ]);
    policy = 'noeviction'; // a failover to a server set right
    await connect();
    assert.deepEqual(await gauge(), [
      'ai_gateway_redis_eviction_policy_safe{policy="noeviction"} 1',
    ]);
    assert.equal(lines.filter((line) => line.level === 'warn').length, 1);
  });

  it('checks at once a client already connected', async () => {
    const { metrics, logger, gauge } = capture();
    const client = Object.assign(new EventEmitter(), {
      status: 'ready',
      call: async () => ['maxmemory-policy', 'noeviction'],
    });
    watchRedisEvictionPolicy(client, logger, metrics);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await gauge(), [
      'ai_gateway_redis_eviction_policy_safe{policy="noeviction"} 1',
    ]);
  });
});
