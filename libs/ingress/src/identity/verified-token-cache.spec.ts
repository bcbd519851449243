import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedTokenCache } from './verified-token-cache';

describe('VerifiedTokenCache', () => {
  it('serves an entry until the token expires or the max age passes, whichever is first', () => {
    let now = 1_000_000;
    const cache = new VerifiedTokenCache<string>(10, 60_000, () => now);
    cache.set('short', 'p', { exp: (now + 10_000) / 1000 }, 0);
    cache.set('long', 'p', { exp: (now + 3_600_000) / 1000 }, 0);
    assert.equal(cache.get('short')?.provider, 'p');
    now += 10_000;
    assert.equal(cache.get('short'), undefined, 'expired with the token');
    assert.ok(cache.get('long'));
    now += 50_000;
    assert.equal(cache.get('long'), undefined, 'capped by the max age');
  });

  it('only hits on the identical token and stays within its size', () => {
    const cache = new VerifiedTokenCache<string>(2, 60_000);
    const exp = Date.now() / 1000 + 3600;
    cache.set('a.b.c', 'p', { exp }, 0);
    assert.equal(cache.get('a.b.d'), undefined);
    cache.set('t2', 'p', { exp }, 0);
    cache.set('t3', 'p', { exp }, 0);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a.b.c'), undefined, 'the oldest entry went first');
  });

  it('never stores a token that is already past its expiry', () => {
    const cache = new VerifiedTokenCache<string>();
    cache.set('old', 'p', { exp: Date.now() / 1000 - 60 }, 0);
    assert.equal(cache.size, 0);
  });
});
