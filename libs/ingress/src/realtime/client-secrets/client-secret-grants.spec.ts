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

  it('when full, takes room from the caller holding the most, never from one holding fewer', async () => {
    let evicted = 0;
    const store = new MemoryClientSecretStore(
      { maxEntries: 10, maxBytes: 1024 },
      () => evicted++,
      () => 1_000_000,
      3,
    );
    // Bob's one secret is the oldest in a full store.
    await store.put('bob-1', '{}', 60_000, 'bob');
    for (const caller of ['alice', 'carol', 'dave']) {
      for (let i = 1; i <= 3; i++) await store.put(`${caller}-${i}`, '{}', 60_000, caller);
    }
    for (let i = 1; i <= 4; i++) await store.put(`erin-${i}`, '{}', 60_000, 'erin');
    assert.equal(await store.get('bob-1'), '{}', 'the lightest holder keeps its secret');
    // Erin's first three each took the oldest of a caller holding three; her fourth, at
    // her bound, dropped her own oldest.
    for (const gone of ['alice-1', 'carol-1', 'dave-1', 'erin-1']) {
      assert.equal(await store.get(gone), undefined, gone);
    }
    for (const caller of ['alice', 'carol', 'dave']) {
      for (const kept of [`${caller}-2`, `${caller}-3`]) assert.equal(await store.get(kept), '{}');
    }
    for (const kept of ['erin-2', 'erin-3', 'erin-4']) assert.equal(await store.get(kept), '{}');
    assert.equal(evicted, 4);
  });

  it('when full, a caller holding the most gives up its own oldest, below its bound too', async () => {
    const store = new MemoryClientSecretStore(
      { maxEntries: 6, maxBytes: 1024 },
      undefined,
      undefined,
      5,
    );
    for (let i = 1; i <= 3; i++) await store.put(`bob-${i}`, '{}', 60_000, 'bob');
    for (let i = 1; i <= 4; i++) await store.put(`alice-${i}`, '{}', 60_000, 'alice');
    // Alice's fourth would make her the heaviest: her own oldest went, not bob's.
    assert.equal(await store.get('alice-1'), undefined);
    for (const kept of ['bob-1', 'bob-2', 'bob-3', 'alice-2', 'alice-3', 'alice-4']) {
      assert.equal(await store.get(kept), '{}', kept);
    }
  });

  it('when the bytes are full, weighs callers by bytes held: a bulky minter gives up its own', async () => {
    const store = new MemoryClientSecretStore(
      { maxEntries: 100, maxBytes: 1000 },
      undefined,
      undefined,
      10,
    );
    const bulky = JSON.stringify({ instructions: 'x'.repeat(400) });
    for (let i = 1; i <= 4; i++) await store.put(`bob-${i}`, '{}', 60_000, 'bob');
    await store.put('big-1', bulky, 60_000, 'big');
    await store.put('big-2', bulky, 60_000, 'big');
    // A third bulky grant does not fit: its minter holds the most bytes, so its own goes.
    await store.put('big-3', bulky, 60_000, 'big');
    assert.equal(await store.get('big-1'), undefined);
    for (const kept of ['bob-1', 'bob-2', 'bob-3', 'bob-4', 'big-2', 'big-3']) {
      assert.notEqual(await store.get(kept), undefined, kept);
    }
  });

  it('when full, drops an expired secret before any live one, counting no eviction', async () => {
    let evicted = 0;
    let now = 1_000_000;
    const store = new MemoryClientSecretStore(
      { maxEntries: 3, maxBytes: 1024 },
      () => evicted++,
      () => now,
    );
    await store.put('alice-1', '{}', 60_000, 'alice');
    await store.put('bob-1', '{}', 1_000, 'bob');
    await store.put('carol-1', '{}', 60_000, 'carol');
    now += 2_000;
    await store.put('dave-1', '{}', 60_000, 'dave');
    assert.equal(evicted, 0);
    for (const kept of ['alice-1', 'carol-1', 'dave-1']) assert.equal(await store.get(kept), '{}');
    assert.equal(await store.get('bob-1'), undefined);
  });

  it('100 callers at their bound fill the store; a newcomer takes one secret from each, no more', async () => {
    let evicted = 0;
    const store = new MemoryClientSecretStore(undefined, () => evicted++);
    for (let caller = 0; caller < 100; caller++) {
      for (let i = 0; i < 100; i++) await store.put(`c${caller}-${i}`, '{}', 60_000, `c${caller}`);
    }
    assert.equal(evicted, 0);
    for (let i = 0; i < 150; i++) await store.put(`new-${i}`, '{}', 60_000, 'newcomer');
    // 100 taken from others (one each, their oldest); 50 of the newcomer's own past its bound.
    assert.equal(evicted, 150);
    for (let caller = 0; caller < 100; caller++) {
      assert.equal(await store.get(`c${caller}-0`), undefined);
      assert.equal(await store.get(`c${caller}-1`), '{}', `caller ${caller} keeps 99`);
    }
    assert.equal(await store.get('new-49'), undefined);
    assert.equal(await store.get('new-50'), '{}');
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
