// A cache Redis no route names after a reload is disconnected once the commands sent to
// it have finished; a read in flight still gets its answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRedisPool } from './cache-redis-pool';
import type { ResponseCacheStore } from './domain/response-cache-store';

class FakeClient {
  disconnects = 0;
  constructor(readonly url: string) {}
  disconnect(): void {
    this.disconnects += 1;
  }
}

/** A store whose reads wait until released. */
function slowStore(calls: string[]) {
  const pending: (() => void)[] = [];
  const store: ResponseCacheStore = {
    get: (_namespace, key) =>
      new Promise((resolve) => {
        calls.push(`get ${key}`);
        pending.push(() => resolve(`answer for ${key}`));
      }),
    set: (_namespace, key) => {
      calls.push(`set ${key}`);
      return Promise.resolve(true);
    },
    close: () => Promise.resolve(),
  };
  return { store, release: () => pending.splice(0).forEach((done) => done()) };
}

describe('CacheRedisPool', () => {
  it('a retired client closes after its in-flight read, which still answers', async () => {
    const opened: FakeClient[] = [];
    const pool = new CacheRedisPool((url) => {
      const client = new FakeClient(url);
      opened.push(client);
      return client;
    });
    const calls: string[] = [];
    const slow = slowStore(calls);
    const old = pool.store('redis://old:6379', () => slow.store);
    const reading = old.get('r', 'k1');

    pool.retainOnly(new Set(['redis://new:6379']));
    assert.equal(opened[0].disconnects, 0, 'not while a read is in flight');

    slow.release();
    assert.equal(await reading, 'answer for k1');
    assert.equal(opened[0].disconnects, 1, 'closed once the read finished');

    // A request that took the store before the reload: a miss and a skipped write.
    assert.equal(await old.get('r', 'k2'), undefined);
    assert.equal(await old.set('r', 'k2', 'v', 1000), false);
    assert.deepEqual(calls, ['get k1']);
    assert.equal(opened[0].disconnects, 1);

    // The new address gets a client of its own.
    pool.store('redis://new:6379', () => slowStore([]).store);
    assert.deepEqual(
      opened.map((c) => c.url),
      ['redis://old:6379', 'redis://new:6379'],
    );
  });

  it('an idle retired client closes at once; a pinned or still-named one stays', () => {
    const opened = new Map<string, FakeClient>();
    const pool = new CacheRedisPool(
      (url) => {
        const client = new FakeClient(url);
        opened.set(url, client);
        return client;
      },
      ['redis://shared:6379'],
    );
    for (const url of ['redis://a:6379', 'redis://b:6379', 'redis://shared:6379']) {
      pool.store(url, () => slowStore([]).store);
    }
    pool.retainOnly(new Set(['redis://b:6379']));
    assert.equal(opened.get('redis://a:6379')?.disconnects, 1);
    assert.equal(opened.get('redis://b:6379')?.disconnects, 0);
    assert.equal(opened.get('redis://shared:6379')?.disconnects, 0);
    pool.closeAll();
    assert.equal(opened.get('redis://b:6379')?.disconnects, 1);
    assert.equal(opened.get('redis://shared:6379')?.disconnects, 1);
    assert.equal(opened.get('redis://a:6379')?.disconnects, 1, 'never closed twice');
  });
});
