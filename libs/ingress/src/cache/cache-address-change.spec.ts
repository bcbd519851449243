// A reload that changes caching.backend.address retires the old Redis client: disconnected
// once the read in flight on it has answered; REDIS_URL's client stays.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Redis from 'ioredis';
import { type GatewayConfig } from '@aigw/config';
import { configFromYaml } from '@aigw/testing';
import { openCacheStores } from './cache-stores';

const route = (address: string) =>
  `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: faq\nspec:\n` +
  `  backends:\n  - {name: openai, model: gpt-4o}\n  caching:\n    backend: {type: redis, address: "${address}"}\n`;

/** Enough of a Redis client for the cache store's reads: each waits until released. */
class FakeRedis {
  disconnects = 0;
  readonly pending: (() => void)[] = [];
  constructor(readonly url: string) {}
  get(key: string): Promise<string> {
    return new Promise((resolve) => this.pending.push(() => resolve(`value of ${key}`)));
  }
  disconnect(): void {
    this.disconnects += 1;
  }
}

describe('cache address change on reload', () => {
  it('the old client is disconnected after its in-flight read answers; REDIS_URL stays', async () => {
    const opened = new Map<string, FakeRedis>();
    const reloads: ((config: GatewayConfig) => void)[] = [];
    const stores = openCacheStores(
      {
        settings: { redisUrl: 'redis://shared:6379' },
        onConfigReload: (listener) => reloads.push(listener),
      },
      1024,
      (url) => {
        const redis = new FakeRedis(url);
        opened.set(url, redis);
        return redis as unknown as Redis;
      },
    );
    stores.client('redis://shared:6379');
    const before = configFromYaml(route('cache-a:6379'));
    const reading = stores.cacheStore(before.routes[0]).get('faq', 'k');
    const old = opened.get('redis://cache-a:6379');
    assert.ok(old);

    const after = configFromYaml(route('cache-b:6379'));
    for (const listener of reloads) listener(after);
    assert.equal(old.disconnects, 0, 'kept while the read is in flight');

    old.pending.splice(0).forEach((done) => done());
    assert.match((await reading) ?? '', /^value of /);
    assert.equal(old.disconnects, 1, 'disconnected once it answered');

    void stores.cacheStore(after.routes[0]).get('faq', 'k');
    assert.ok(opened.has('redis://cache-b:6379'));
    assert.equal(opened.get('redis://shared:6379')?.disconnects, 0);
    await stores.close();
    assert.equal(opened.get('redis://cache-b:6379')?.disconnects, 1);
    assert.equal(opened.get('redis://shared:6379')?.disconnects, 1);
    assert.equal(old.disconnects, 1);
  });
});
