import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { parseCacheControl } from './cache-control';

test("reads Anthropic's caching breakpoint, with or without a ttl", () => {
  assert.equal(parseCacheControl(undefined, 'p'), undefined);
  assert.equal(parseCacheControl(null, 'p'), undefined);
  assert.deepEqual(parseCacheControl({ type: 'ephemeral' }, 'p'), { type: 'ephemeral' });
  assert.deepEqual(parseCacheControl({ type: 'ephemeral', ttl: '1h', extra: 1 }, 'p'), {
    type: 'ephemeral',
    ttl: '1h',
  });
  for (const bad of ['ephemeral', { type: 'persistent' }, { type: 'ephemeral', ttl: '2h' }, []]) {
    assert.throws(
      () => parseCacheControl(bad, 'tools[0].cache_control'),
      (error: unknown) =>
        error instanceof DataPlaneError && error.param === 'tools[0].cache_control',
    );
  }
});
