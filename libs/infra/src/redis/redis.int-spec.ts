// A typed Lua script on a real Redis through ioredis, including the NOSCRIPT fallback
// after the server's script cache is flushed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type Redis from 'ioredis';
import { startRedis, type RealService } from '@aigw/testing';
import { createRedisClient } from './redis-client';
import { defineLuaScript, LuaScriptRegistry, luaReply } from './lua-scripts';

// Takes `cost` from a balance if it covers it; returns [taken (0/1), balance after].
const takeIfCovered = defineLuaScript<[balanceKey: string], [cost: number], [boolean, number]>({
  name: 'take-if-covered',
  keyCount: 1,
  source: `
    local balance = tonumber(redis.call('GET', KEYS[1]) or '0')
    local cost = tonumber(ARGV[1])
    if balance < cost then return {0, balance} end
    return {1, redis.call('DECRBY', KEYS[1], cost)}
  `,
  decode: (reply) => {
    const [taken, balance] = luaReply.integers(reply);
    return [taken === 1, balance];
  },
});

let server: RealService;
let redis: Redis;

before(async () => {
  server = await startRedis();
  redis = createRedisClient(server.url);
});
after(async () => {
  redis?.disconnect();
  await server?.stop();
});

test('the script runs atomically by SHA and decodes its reply', async () => {
  const key = `it:balance:${randomUUID()}`;
  await redis.set(key, 100);
  const registry = new LuaScriptRegistry();
  registry.register(takeIfCovered);
  await registry.preload(redis);

  assert.deepEqual(await takeIfCovered.run(redis, [key], [60]), [true, 40]);
  assert.deepEqual(await takeIfCovered.run(redis, [key], [60]), [false, 40]);
  assert.equal(await redis.get(key), '40');
});

test('a flushed script cache is refilled through the NOSCRIPT fallback', async () => {
  const key = `it:balance:${randomUUID()}`;
  await redis.set(key, 10);
  await redis.script('FLUSH');
  assert.deepEqual(await redis.script('EXISTS', takeIfCovered.sha1), [0]);
  assert.deepEqual(await takeIfCovered.run(redis, [key], [3]), [true, 7]);
  assert.deepEqual(await redis.script('EXISTS', takeIfCovered.sha1), [1]);
});

test('concurrent callers never overdraw', async () => {
  const key = `it:balance:${randomUUID()}`;
  await redis.set(key, 50);
  const results = await Promise.all(
    Array.from({ length: 20 }, () => takeIfCovered.run(redis, [key], [7])),
  );
  assert.equal(results.filter(([taken]) => taken).length, 7);
  assert.equal(await redis.get(key), '1');
});
