import { it } from 'node:test';
import assert from 'node:assert/strict';
import { cacheDirectives } from './cache-control';

it('reads no-cache, no-store and max-age=0 from Cache-Control', () => {
  assert.deepEqual(cacheDirectives(undefined), { lookup: true, store: true });
  assert.deepEqual(cacheDirectives('no-cache'), { lookup: false, store: true });
  assert.deepEqual(cacheDirectives('No-Store'), { lookup: false, store: false });
  assert.deepEqual(cacheDirectives('max-age=0'), { lookup: false, store: true });
  assert.deepEqual(cacheDirectives('max-age=60'), { lookup: true, store: true });
  assert.deepEqual(cacheDirectives(['private', 'no-store']), { lookup: false, store: false });
});
