import { it } from 'node:test';
import assert from 'node:assert/strict';
import { cacheDirectives, onlyIfCached } from './cache-control';

it('reads no-cache, no-store and max-age from Cache-Control', () => {
  assert.deepEqual(cacheDirectives(undefined), { lookup: true, store: true });
  assert.deepEqual(cacheDirectives('no-cache'), { lookup: false, store: true });
  assert.deepEqual(cacheDirectives('No-Store'), { lookup: false, store: false });
  assert.deepEqual(cacheDirectives('max-age=0'), { lookup: false, store: true });
  assert.deepEqual(cacheDirectives('max-age = 0'), { lookup: false, store: true });
  assert.deepEqual(cacheDirectives('max-age=60'), { lookup: true, store: true, maxAgeMs: 60_000 });
  assert.deepEqual(cacheDirectives('private, Max-Age=5'), {
    lookup: true,
    store: true,
    maxAgeMs: 5_000,
  });
  assert.deepEqual(cacheDirectives('max-age=soon'), { lookup: true, store: true });
  assert.deepEqual(cacheDirectives(['private', 'no-store']), { lookup: false, store: false });
});

it('reads Pragma: no-cache as no-cache when there is no Cache-Control (RFC 9111 5.4)', () => {
  assert.deepEqual(cacheDirectives(undefined, 'no-cache'), { lookup: false, store: true });
  assert.deepEqual(cacheDirectives(undefined, ['x-foo', 'No-Cache']), {
    lookup: false,
    store: true,
  });
  assert.deepEqual(cacheDirectives(undefined, 'x-no-cache'), { lookup: true, store: true });
  // Cache-Control present and understood: Pragma is ignored.
  assert.deepEqual(cacheDirectives('max-age=60', 'no-cache'), {
    lookup: true,
    store: true,
    maxAgeMs: 60_000,
  });
});

it('reads only-if-cached beside the other directives (RFC 9111 5.2.1.7)', () => {
  assert.deepEqual(cacheDirectives('only-if-cached'), {
    lookup: true,
    store: true,
    onlyIfCached: true,
  });
  assert.deepEqual(cacheDirectives('max-age=60, Only-If-Cached'), {
    lookup: true,
    store: true,
    maxAgeMs: 60_000,
    onlyIfCached: true,
  });
  assert.equal(onlyIfCached(['no-cache', 'only-if-cached']), true);
  assert.equal(onlyIfCached('no-cache'), false);
  assert.equal(onlyIfCached(undefined), false);
});
