import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { defineLuaScript, LuaScriptRegistry, luaReply, type LuaCapableClient } from './lua-scripts';

const incr = defineLuaScript<[key: string], [by: number], number>({
  name: 'incr',
  keyCount: 1,
  source: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  decode: luaReply.integer,
});

class FakeRedis implements LuaCapableClient {
  cached = new Set<string>();
  calls: string[] = [];
  async evalsha(sha: string, _n: number, ..._rest: (string | number)[]): Promise<unknown> {
    this.calls.push('evalsha');
    if (!this.cached.has(sha)) throw new Error('NOSCRIPT No matching script.');
    return 1;
  }
  async eval(script: string, _n: number, ..._rest: (string | number)[]): Promise<unknown> {
    this.calls.push('eval');
    this.cached.add(createHash('sha1').update(script).digest('hex'));
    return 1;
  }
}

test('EVALSHA first, EVAL once on NOSCRIPT, EVALSHA after that', async () => {
  const redis = new FakeRedis();
  assert.equal(await incr.run(redis, ['k'], [1]), 1);
  assert.equal(await incr.run(redis, ['k'], [1]), 1);
  assert.deepEqual(redis.calls, ['evalsha', 'eval', 'evalsha']);
});

test('other errors are not retried; wrong replies are refused', async () => {
  const failing: LuaCapableClient = {
    evalsha: async () => Promise.reject(new Error('WRONGTYPE')),
    eval: async () => assert.fail('no EVAL for other errors'),
  };
  await assert.rejects(incr.run(failing, ['k'], [1]), /WRONGTYPE/);
  assert.throws(() => luaReply.integer('1'), /integer/);
});

test('one name, one source', () => {
  const registry = new LuaScriptRegistry();
  registry.register(incr);
  registry.register(incr);
  const other = defineLuaScript<[string], [], number>({
    name: 'incr',
    keyCount: 1,
    source: 'return 2',
    decode: luaReply.integer,
  });
  assert.throws(() => registry.register(other), /twice/);
  assert.deepEqual(registry.names(), ['incr']);
});
