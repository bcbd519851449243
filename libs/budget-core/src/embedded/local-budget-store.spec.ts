import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { HeldSyncs } from '@aigw/embedded';
import { KEY_GRACE_MS } from '../budget-store.port';
import { describeBudgetStoreContract } from '../testing/budget-store.contract';
import { LocalBudgetStore, SWEEP_EVERY_MS } from './local-budget-store';

describeBudgetStoreContract('embedded (memory + SQLite)', async (onLapse) => {
  const store = new LocalBudgetStore(':memory:', Date.now, onLapse);
  return { store, close: async () => store.close() };
});

const dbPath = () => join(mkdtempSync(join(tmpdir(), 'aigw-budget-')), 'budget.db');

describe('LocalBudgetStore answers', () => {
  it('reserve and settle with plain results, not promises (admission and the settler skip the await)', () => {
    const store = new LocalBudgetStore(':memory:');
    const change = { key: 'k', amount: 5, limit: 10, windowEndsAt: Date.now() + 60_000 };
    const reserved = store.reserve('r1', [change], 30_000, Date.now());
    assert.ok(!(reserved instanceof Promise));
    assert.equal(reserved.ok, true);
    const settled = store.settle('e1', 'r1', [change], Date.now());
    assert.ok(!(settled instanceof Promise));
    assert.deepEqual(settled.balances, [{ key: 'k', limit: 10, used: 5, reserved: 0 }]);
    store.close();
  });
});

describe('LocalBudgetStore persistence', () => {
  it('keeps used balances and applied event ids across a restart, not holds', async () => {
    const path = dbPath();
    const now = Date.now();
    const change = { key: 'k', amount: 30, limit: 100, windowEndsAt: now + 60_000 };
    const first = new LocalBudgetStore(path);
    first.settle('e1', undefined, [change], now);
    first.reserve('held', [change], 30_000, now);
    first.close();

    const second = new LocalBudgetStore(path);
    const [balance] = await second.balances([{ key: 'k', limit: 100 }], now);
    assert.deepEqual(balance, { key: 'k', limit: 100, used: 30, reserved: 0 });
    assert.equal(second.settle('e1', undefined, [change], now).applied, false);
    second.close();
  });

  it('keeps an adjusted balance and its event id across a restart', async () => {
    const path = dbPath();
    const now = Date.now();
    const change = { key: 'k', amount: 80, limit: 100, windowEndsAt: now + 60_000 };
    const first = new LocalBudgetStore(path);
    first.settle('spent', undefined, [change], now);
    await first.flush();
    await first.adjust('credit', [{ ...change, credit: 50 }], now);
    first.close();

    const second = new LocalBudgetStore(path);
    const [balance] = await second.balances([{ key: 'k', limit: 100 }], now);
    assert.equal(balance.used, 30);
    assert.equal((await second.adjust('credit', [{ ...change, credit: 50 }], now)).applied, false);
    second.close();
  });

  it('refuses a redelivery from an earlier batch, older or newer than the rest', async () => {
    const store = new LocalBudgetStore(dbPath());
    const now = Date.now();
    const change = { key: 'k', amount: 1, limit: 100, windowEndsAt: now + 60_000 };
    for (const [id, at] of [
      ['late', now + 5],
      ['early', now - 5],
    ] as const) {
      store.settle(id, undefined, [change], at);
    }
    await store.flush();
    store.settle('newer', undefined, [change], now + 10);
    await store.flush();
    for (const [id, at] of [
      ['late', now + 5],
      ['early', now - 5],
      ['newer', now + 10],
    ] as const) {
      assert.equal(store.settle(id, undefined, [change], at).applied, false, id);
    }
    const sameMillisecond = store.settle('other', undefined, [change], now + 10);
    assert.equal(sameMillisecond.applied, true, 'another event of the newest millisecond');
    const [balance] = await store.balances([{ key: 'k', limit: 100 }], now);
    assert.equal(balance.used, 4);
    store.close();
  });

  it('honours the event ids an earlier version recorded', async () => {
    const path = dbPath();
    const now = Date.now();
    const legacy = new DatabaseSync(path);
    legacy.exec(`CREATE TABLE applied_events (event_id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
      CREATE TABLE balances (key TEXT PRIMARY KEY, used REAL NOT NULL, expires_at INTEGER NOT NULL);`);
    legacy.prepare('INSERT INTO applied_events VALUES (?, ?)').run('old-event', now - 1_000);
    legacy.close();

    const store = new LocalBudgetStore(path);
    const change = { key: 'k', amount: 30, limit: 100, windowEndsAt: now + 60_000 };
    assert.equal(store.settle('old-event', undefined, [change], now).applied, false);
    assert.equal(store.settle('new-event', undefined, [change], now).applied, true);
    store.close();
  });
});

describe('LocalBudgetStore durability', () => {
  // The settler's consumer commits its position once flush returns: a flush lost to a
  // power loss after that is spend never counted, so by default flush waits for an fsync
  // of the WAL (off the event loop; the commit itself is NORMAL, 1).
  it('commits at NORMAL (1) and waits for a WAL sync in flush by default', () => {
    const store = new LocalBudgetStore(dbPath());
    assert.deepEqual([store.synchronousLevel(), store.waitsForSync], [1, true]);
    store.close();
  });

  it('waits for no sync with normal, and for one with full', () => {
    const path = dbPath();
    const normal = new LocalBudgetStore(path, Date.now, undefined, { sync: 'normal' });
    assert.deepEqual([normal.synchronousLevel(), normal.waitsForSync], [1, false]);
    normal.close();
    const full = new LocalBudgetStore(path, Date.now, undefined, { sync: 'full' });
    assert.deepEqual([full.synchronousLevel(), full.waitsForSync], [1, true]);
    full.close();
  });

  const change = { key: 'k', amount: 30, limit: 100, windowEndsAt: Date.now() + 60_000 };
  const nextTurns = async () => {
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('flush resolves only once the WAL sync begun after its commit resolves', async () => {
    const syncs = new HeldSyncs();
    const store = new LocalBudgetStore(dbPath(), Date.now, undefined, { syncWal: syncs.sync });
    store.settle('e1', undefined, [change], Date.now());
    let flushed = false;
    const flushing = store.flush().then(() => (flushed = true));
    await nextTurns();
    assert.deepEqual([syncs.started, flushed], [1, false]);
    syncs.resolveNext();
    await flushing;
    assert.equal(flushed, true);
    syncs.passing = true;
    store.close();
  });

  it('a failed sync fails the flush, and the redelivered batch (found applied) still waits for a sync', async () => {
    const syncs = new HeldSyncs();
    const store = new LocalBudgetStore(dbPath(), Date.now, undefined, { syncWal: syncs.sync });
    const occurredAt = Date.now();
    store.settle('e1', undefined, [change], occurredAt);
    const flushing = store.flush();
    syncs.rejectNext(new Error('EIO: i/o error, fdatasync'));
    await assert.rejects(flushing, /EIO/);
    // The settler's position did not move: the event comes again and is already applied.
    assert.equal(store.settle('e1', undefined, [change], occurredAt).applied, false);
    let flushed = false;
    const again = store.flush().then(() => (flushed = true));
    await nextTurns();
    assert.deepEqual([syncs.started, flushed], [2, false], 'not committed past unsynced spend');
    syncs.resolveNext();
    await again;
    syncs.passing = true;
    store.close();
  });
});

describe('LocalBudgetStore sweep', () => {
  it('drops keys whose window and grace ended, in memory and SQLite, but not held ones', async () => {
    const path = dbPath();
    let now = Date.UTC(2030, 0, 1);
    const store = new LocalBudgetStore(path, () => now);
    const windowEndsAt = now + 60_000;
    const change = (key: string, ends = windowEndsAt) => ({
      key,
      amount: 1,
      limit: 100,
      windowEndsAt: ends,
    });
    for (let i = 0; i < 1_000; i++) store.settle(`e${i}`, undefined, [change(`old:${i}`)], now);
    store.settle('e-held', undefined, [change('held')], now);
    store.reserve('r', [change('held')], 10 * KEY_GRACE_MS, now);
    store.settle('e-live', undefined, [change('live', now + 10 * KEY_GRACE_MS)], now);
    await store.flush();
    assert.equal(store.size, 1_002, 'nothing has ended yet');

    now = windowEndsAt + KEY_GRACE_MS + 1;
    await store.flush();
    assert.equal(store.size, 2, 'the held and the live key stay');
    const rows = () => {
      const db = new DatabaseSync(path);
      const keys = (
        db.prepare('SELECT key FROM balances ORDER BY key').all() as { key: string }[]
      ).map((row) => row.key);
      db.close();
      return keys;
    };
    assert.deepEqual(rows(), ['held', 'live']);
    const [old, held] = await store.balances(
      [
        { key: 'old:0', limit: 100 },
        { key: 'held', limit: 100 },
      ],
      now,
    );
    assert.deepEqual(old, { key: 'old:0', limit: 100, used: 0, reserved: 0 });
    assert.deepEqual(held, { key: 'held', limit: 100, used: 1, reserved: 1 });

    await store.release('r');
    await store.flush();
    assert.equal(store.size, 2, 'one sweep per SWEEP_EVERY_MS at most');
    now += SWEEP_EVERY_MS;
    await store.flush();
    assert.equal(store.size, 1, 'the released key goes at the next sweep');
    assert.deepEqual(rows(), ['live']);
    store.close();
  });

  it('sweeps keys loaded on start, and keeps a key until its latest window ends', async () => {
    const path = dbPath();
    let now = Date.UTC(2030, 0, 1);
    const first = new LocalBudgetStore(path, () => now);
    const change = { key: 'k', amount: 5, limit: 100, windowEndsAt: now + 60_000 };
    first.settle('e1', undefined, [change], now);
    first.settle('e2', undefined, [{ ...change, key: 'later' }], now);
    first.close();

    const second = new LocalBudgetStore(path, () => now);
    assert.equal(second.size, 2);
    const laterEndsAt = change.windowEndsAt + 10 * SWEEP_EVERY_MS;
    second.settle('e3', undefined, [{ ...change, key: 'later', windowEndsAt: laterEndsAt }], now);
    now = change.windowEndsAt + KEY_GRACE_MS + 1;
    await second.flush();
    assert.equal(second.size, 1, 'a loaded key is swept too');
    now = laterEndsAt + KEY_GRACE_MS + 1;
    await second.flush();
    assert.equal(second.size, 0);
    second.close();
  });
});
