// The in-memory store openCacheStores hands out reports what the cache metrics read: the
// bytes it holds and the entries it evicts (ai_gateway_cache_memory_bytes, _evictions_total).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { configFromYaml } from '@aigw/testing';
import { openCacheStores } from './cache-stores';
import { ENTRY_OVERHEAD_BYTES } from './domain/memory-cache-store';

const config = configFromYaml(
  `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: faq\nspec:\n` +
    `  backends:\n  - {name: openai, model: gpt-4o}\n  caching: {enabled: true, maxSize: 100B}\n`,
);

it('reports the in-memory store’s bytes and the entries it evicted, as memory', async () => {
  const evicted: unknown[] = [];
  const stores = openCacheStores(
    { settings: {}, onConfigReload: () => undefined },
    1024,
    () => assert.fail('no Redis without an address or REDIS_URL'),
    (...eviction) => void evicted.push(eviction),
  );
  assert.equal(stores.memoryBytes(), 0, 'no store yet');
  const [route] = config.routes;
  assert.ok(route);
  const store = stores.cacheStore(route);
  const maxBytes = route.caching.maxSizeBytes;
  for (const key of ['a', 'b', 'c']) await store.set('faq', key, 'x'.repeat(40), 60_000, maxBytes);
  assert.equal(stores.memoryBytes(), 2 * (40 + 1 + ENTRY_OVERHEAD_BYTES)); // b and c
  assert.deepEqual(evicted, [['memory', 'max_size', 1]]);
  await stores.close();
});
