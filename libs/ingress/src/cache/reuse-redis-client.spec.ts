import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { freeLoopbackPort } from '@aigw/testing';
import { ReuseRedisClients, reuseRedisClient } from './reuse-redis-client';

describe('the cache and deduplication Redis client', () => {
  it('fails commands at once when Redis was never reached, not after the command timeout', async () => {
    // Free now: nothing listens on it, so a connection is refused at once.
    const redis = reuseRedisClient(`redis://127.0.0.1:${await freeLoopbackPort()}`);
    redis.on('error', () => undefined);
    try {
      // Sent while the first connection is being made: queued, and failed with it.
      const started = performance.now();
      await assert.rejects(redis.get('some-key'));
      const queued = performance.now() - started;
      assert.ok(queued < 500, `the queued command failed after ${Math.round(queued)} ms`);
      // Its first connection attempt failed (events.once would reject on its 'error').
      await new Promise((resolve) => redis.once('reconnecting', resolve));
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await assert.rejects(redis.get('some-key'));
        const waited = performance.now() - started;
        assert.ok(waited < 500, `command ${i} failed after ${Math.round(waited)} ms`);
      }
    } finally {
      redis.disconnect();
    }
  });
});

/** Enough of a client for readiness: a status that changes, and its events. */
class FakeClient extends EventEmitter {
  constructor(public status: string) {
    super();
  }
}

describe('the reuse Redis clients on /readyz', () => {
  it('are unreachable while any client is away, and forget a client once it ended', () => {
    const clients = new ReuseRedisClients();
    assert.deepEqual(clients.readiness(), { ready: true, state: 'unused' });
    const cache = new FakeClient('ready');
    const dedup = new FakeClient('ready');
    clients.add(cache as unknown as Redis);
    clients.add(dedup as unknown as Redis);
    assert.deepEqual(clients.readiness(), { ready: true, state: 'connected' });
    const away = { ready: false, state: 'unreachable (1 of 2 clients)' };
    cache.status = 'reconnecting';
    assert.deepEqual(clients.readiness(), away);
    // Trying again (to a host that drops packets, for the whole connect timeout): not there.
    cache.status = 'connecting';
    assert.deepEqual(clients.readiness(), away);
    cache.status = 'end'; // retired by a reload: disconnected
    cache.emit('end');
    assert.deepEqual(clients.readiness(), { ready: true, state: 'connected' });
  });
});
