import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type DataPlaneError } from '@aigw/contracts/data-plane';
import { clientSecretRefusal, RealtimeClientSecrets } from './client-secret-grants';
import { MemoryClientSecretStore, type ClientSecretStore } from './client-secret-store';

const GRANT = {
  model: 'voice',
  caller: { userKey: 'alice', budgetKey: 'header:x-user-id:alice' },
  allowedModels: [],
  session: { type: 'realtime', model: 'voice', instructions: 'Be brief' },
};

/** `memory`, telling `onPut` of each put before it is kept. */
function watchedStore(
  memory: MemoryClientSecretStore,
  onPut: (digest: string, grant: string, ttlMs: number) => void,
): ClientSecretStore {
  return {
    put: async (digest, grant, ttl, owner) => {
      onPut(digest, grant, ttl);
      await memory.put(digest, grant, ttl, owner);
    },
    get: (digest) => memory.get(digest),
    close: () => memory.close(),
  };
}

describe('RealtimeClientSecrets', () => {
  it('mints an opaque ek_ secret whose grant it keeps under a digest, never the secret', async () => {
    const kept: string[] = [];
    const store = watchedStore(new MemoryClientSecretStore(), (digest, grant) =>
      kept.push(digest, grant),
    );
    const secrets = new RealtimeClientSecrets(store, () => 1_000_000);
    const { value, grant } = await secrets.mint(GRANT, 60);
    assert.match(value, /^ek_[A-Za-z0-9_-]{43}$/);
    assert.equal(grant.expiresAt, 1_000 + 60);
    assert.ok(!kept.some((text) => text.includes(value.slice(3))), 'the secret is not stored');
    const other = await secrets.mint(GRANT, 60);
    assert.notEqual(other.value, value);
    assert.deepEqual(await secrets.redeem(value, 'voice'), {
      grant: { ...GRANT, expiresAt: 1060 },
    });
    assert.deepEqual((await secrets.redeem(value, undefined)).grant?.model, 'voice');
  });

  it('opens nothing for an unknown secret, another model, or once expired', async () => {
    let now = 5_000_000;
    const storeClock = { now };
    const secrets = new RealtimeClientSecrets(
      // The store's clock stands still: only the grant's own expiry can refuse it.
      new MemoryClientSecretStore(undefined, undefined, () => storeClock.now),
      () => now,
    );
    const { value } = await secrets.mint(GRANT, 10);
    assert.deepEqual(await secrets.redeem('ek_nope', 'voice'), { rejected: 'unknown' });
    assert.deepEqual(await secrets.redeem(value, 'other'), { rejected: 'wrong_model' });
    now += 9_000;
    assert.equal((await secrets.redeem(value, 'voice')).grant?.model, 'voice');
    now += 1_000;
    assert.deepEqual(await secrets.redeem(value, 'voice'), { rejected: 'expired' });
    // The store drops it at its TTL too: then it is unknown.
    storeClock.now = now;
    assert.deepEqual(await secrets.redeem(value, 'voice'), { rejected: 'unknown' });
  });

  it("expires no later than the minting caller's credential, and refuses one already expired", async () => {
    const kept: number[] = [];
    const memory = new MemoryClientSecretStore(undefined, undefined, () => 1_000_500);
    const store = watchedStore(memory, (_digest, _grant, ttl) => kept.push(ttl));
    const secrets = new RealtimeClientSecrets(store, () => 1_000_500);
    // The JWT expires 30 s from now: a secret asked for 7200 s lasts those 30 s.
    const capped = await secrets.mint(GRANT, 7200, 1_030);
    assert.equal(capped.grant.expiresAt, 1_030);
    assert.equal(kept[0], 29_500);
    // A later exp leaves the asked-for lifetime as it was.
    assert.equal((await secrets.mint(GRANT, 60, 5_000)).grant.expiresAt, 1_060);
    assert.equal(kept[1], 60_000);
    await assert.rejects(
      () => secrets.mint(GRANT, 60, 1_000),
      (error: DataPlaneError) => {
        assert.equal(error.httpStatus, 401);
        assert.match(error.message, /expired/);
        return true;
      },
    );
    assert.equal(kept.length, 2, 'nothing stored for an expired credential');
  });

  it('answers a store that fails with a 503 to retry, not a 401', async () => {
    const failing: ClientSecretStore = {
      put: () => Promise.reject(new Error('down')),
      get: () => Promise.reject(new Error('down')),
      close: async () => undefined,
    };
    const secrets = new RealtimeClientSecrets(failing);
    for (const attempt of [() => secrets.mint(GRANT, 60), () => secrets.redeem('ek_x', 'voice')]) {
      await assert.rejects(attempt, (error: DataPlaneError) => {
        assert.equal(error.httpStatus, 503);
        assert.equal(error.toOpenAiBody().error.code, 'client_secret_store_unavailable');
        return true;
      });
    }
  });

  it('refuses as other authentication failures do: a 401 naming no secret', () => {
    for (const reason of ['unknown', 'expired', 'wrong_model'] as const) {
      const error = clientSecretRefusal(reason);
      assert.equal(error.httpStatus, 401);
      assert.equal(error.toOpenAiBody().error.type, 'authentication_error');
    }
  });
});

describe('MemoryClientSecretStore', () => {
  it('drops the oldest secret when full, and tells', async () => {
    let evicted = 0;
    const store = new MemoryClientSecretStore({ maxEntries: 2, maxBytes: 1024 }, () => evicted++);
    await store.put('a', '{}', 60_000, 'caller-a');
    await store.put('b', '{}', 60_000, 'caller-b');
    await store.put('c', '{}', 60_000, 'caller-c');
    assert.equal(evicted, 1);
    assert.equal(await store.get('a'), undefined);
    assert.equal(await store.get('c'), '{}');
  });

  it("bounds each caller's secrets: one minting past the bound drops only its own oldest", async () => {
    let evicted = 0;
    let now = 1_000_000;
    const store = new MemoryClientSecretStore(
      { maxEntries: 10, maxBytes: 1024 },
      () => evicted++,
      () => now,
      3,
    );
    await store.put('bob-1', '{}', 60_000, 'bob');
    for (let i = 1; i <= 20; i++) await store.put(`alice-${i}`, '{}', 60_000, 'alice');
    assert.equal(await store.get('bob-1'), '{}', "another caller's secret stays");
    assert.equal(await store.get('alice-17'), undefined);
    for (const kept of ['alice-18', 'alice-19', 'alice-20']) {
      assert.equal(await store.get(kept), '{}');
    }
    assert.equal(evicted, 17);
    // An expired secret dropped to make room is no eviction.
    now += 60_000;
    await store.put('alice-21', '{}', 60_000, 'alice');
    assert.equal(evicted, 17);
    assert.equal(await store.get('alice-21'), '{}');
  });

  it('mints past the bound through RealtimeClientSecrets, keyed by the budget key', async () => {
    const store = new MemoryClientSecretStore(undefined, undefined, undefined, 2);
    const secrets = new RealtimeClientSecrets(store);
    const bob = await secrets.mint({ ...GRANT, caller: { userKey: 'bob' } }, 60);
    const minted = [];
    for (let i = 0; i < 3; i++) minted.push((await secrets.mint(GRANT, 60)).value);
    assert.equal((await secrets.redeem(bob.value, 'voice')).grant?.caller.userKey, 'bob');
    assert.deepEqual(await secrets.redeem(minted[0], 'voice'), { rejected: 'unknown' });
    assert.equal((await secrets.redeem(minted[2], 'voice')).grant?.model, 'voice');
  });
});
