import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describeBudgetStoreContract } from '../testing/budget-store.contract';
import { LocalBudgetStore } from './local-budget-store';

describeBudgetStoreContract('embedded (memory + SQLite)', async () => {
  const store = new LocalBudgetStore(':memory:');
  return { store, close: async () => store.close() };
});

const dbPath = () => join(mkdtempSync(join(tmpdir(), 'aigw-budget-')), 'budget.db');

describe('LocalBudgetStore persistence', () => {
  it('keeps used balances and applied event ids across a restart, not holds', async () => {
    const path = dbPath();
    const now = Date.now();
    const change = { key: 'k', amount: 30, limit: 100, windowEndsAt: now + 60_000 };
    const first = new LocalBudgetStore(path);
    await first.settle('e1', undefined, [change], now);
    await first.reserve('held', [change], 30_000, now);
    first.close();

    const second = new LocalBudgetStore(path);
    const [balance] = await second.balances([{ key: 'k', limit: 100 }], now);
    assert.deepEqual(balance, { key: 'k', limit: 100, used: 30, reserved: 0 });
    assert.equal((await second.settle('e1', undefined, [change], now)).applied, false);
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
      await store.settle(id, undefined, [change], at);
    }
    await store.flush();
    await store.settle('newer', undefined, [change], now + 10);
    await store.flush();
    for (const [id, at] of [
      ['late', now + 5],
      ['early', now - 5],
      ['newer', now + 10],
    ] as const) {
      assert.equal((await store.settle(id, undefined, [change], at)).applied, false, id);
    }
    const sameMillisecond = await store.settle('other', undefined, [change], now + 10);
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
    assert.equal((await store.settle('old-event', undefined, [change], now)).applied, false);
    assert.equal((await store.settle('new-event', undefined, [change], now)).applied, true);
    store.close();
  });
});
