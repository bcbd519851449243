import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { reuseStoreOperation } from './reuse-store-failures';

describe('the reuse store failure a cache or dedup error is counted as', () => {
  it('counts a follower given up on apart from the stream commands that failed', () => {
    assert.equal(reuseStoreOperation('dedup follow'), 'dedup_follow');
    assert.equal(reuseStoreOperation('dedup read'), 'dedup_stream');
    assert.equal(reuseStoreOperation('dedup publish'), 'dedup_stream');
  });

  it('counts a lock settled at a call’s end as a stream command, a renewal in its own metric only', () => {
    assert.equal(reuseStoreOperation('dedup settle'), 'dedup_stream');
    assert.equal(reuseStoreOperation('dedup renew'), undefined);
  });

  it('counts no connection error (readiness reports those)', () => {
    assert.equal(reuseStoreOperation('dedup reader'), undefined);
    assert.equal(reuseStoreOperation('cache redis connection'), undefined);
  });
});
