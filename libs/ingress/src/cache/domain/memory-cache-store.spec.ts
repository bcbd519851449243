import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryResponseCacheStore } from './memory-cache-store';
import { billedUsage, parseReuseBilling } from './reuse-billing';

it('expires entries after their TTL', async () => {
  let now = 1_000;
  const store = new MemoryResponseCacheStore(1_000_000, () => now);
  assert.equal(await store.set('r', 'k', 'v', 100), true);
  assert.equal(await store.get('r', 'k'), 'v');
  now += 99;
  assert.equal(await store.get('r', 'k'), 'v');
  now += 1;
  assert.equal(await store.get('r', 'k'), undefined);
  assert.equal(store.bytesIn('r'), 0);
});

it('keeps each namespace within maxBytes, evicting the oldest first', async () => {
  const store = new MemoryResponseCacheStore(1_000_000);
  for (const key of ['a', 'b', 'c']) await store.set('r', key, 'x'.repeat(40), 60_000, 100);
  assert.equal(await store.get('r', 'a'), undefined, 'the oldest went to make room');
  assert.ok(await store.get('r', 'b'));
  assert.ok(await store.get('r', 'c'));
  assert.equal(store.bytesIn('r'), 80);
  assert.equal(await store.set('r', 'huge', 'x'.repeat(101), 60_000, 100), false);
  await store.set('other', 'a', 'x'.repeat(40), 60_000, 100);
  assert.ok(await store.get('r', 'c'), 'namespaces have their own budgets');
  // Replacing a key frees its old size first.
  await store.set('r', 'c', 'y'.repeat(10), 60_000, 100);
  assert.equal(store.bytesIn('r'), 50);
});

it('keeps every namespace together within the process bound, whatever their maxSize', async () => {
  // A maxSize written for Redis (the spec's 10GB) must not grow the heap past the bound.
  const tenGb = 10 * 1024 ** 3;
  const store = new MemoryResponseCacheStore(100);
  await store.set('a', 'k1', 'x'.repeat(40), 60_000, tenGb);
  await store.set('b', 'k1', 'x'.repeat(40), 60_000, tenGb);
  await store.set('a', 'k2', 'x'.repeat(40), 60_000, tenGb);
  assert.equal(store.totalBytes, 80);
  assert.equal(await store.get('a', 'k1'), undefined, 'the first stored, of any route, went');
  assert.ok(await store.get('b', 'k1'));
  assert.ok(await store.get('a', 'k2'));
  assert.deepEqual([store.bytesIn('a'), store.bytesIn('b')], [40, 40]);
  // Larger than the process bound: never stored, nothing evicted for it.
  assert.equal(await store.set('a', 'huge', 'x'.repeat(101), 60_000, tenGb), false);
  assert.equal(store.totalBytes, 80);
  // A route's own smaller maxSize still binds it.
  await store.set('b', 'k2', 'y'.repeat(30), 60_000, 50);
  assert.equal(await store.get('b', 'k1'), undefined);
  assert.equal(store.bytesIn('b'), 30);
  assert.equal(store.totalBytes, 70);
});

it('bills reused answers by the configured rule', () => {
  const usage = {
    inputTokens: 10,
    outputTokens: 5,
    cachedInputTokens: 2,
    source: 'reported' as const,
  };
  assert.deepEqual(billedUsage(parseReuseBilling(undefined), usage), {
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    source: 'reported',
  });
  assert.equal(billedUsage(parseReuseBilling('full'), usage).inputTokens, 10);
  assert.equal(billedUsage(parseReuseBilling('0.5'), usage).outputTokens, 3);
  assert.throws(() => parseReuseBilling('2'), /AI_GATEWAY_REUSE_BILLING/);
});

it('bills a reused answer its other measures in the same share, not its cache use', () => {
  const usage = {
    inputTokens: 10,
    outputTokens: 0,
    cachedInputTokens: 4,
    cacheWriteInputTokens: 3,
    characters: 2001,
    searches: 1,
    images: 3,
    imageVariant: 'high/1024x1024',
    audioSeconds: 3,
    source: 'reported' as const,
  };
  assert.deepEqual(billedUsage(parseReuseBilling('0.5'), usage), {
    inputTokens: 5,
    outputTokens: 0,
    cachedInputTokens: 0,
    characters: 1001,
    searches: 1,
    images: 2,
    imageVariant: 'high/1024x1024',
    audioSeconds: 1.5,
    source: 'reported',
  });
});
