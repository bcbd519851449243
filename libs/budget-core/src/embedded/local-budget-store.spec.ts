import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBudgetStoreContract } from '../testing/budget-store.contract';
import { LocalBudgetStore } from './local-budget-store';

describeBudgetStoreContract('embedded (memory + SQLite)', async () => {
  const store = new LocalBudgetStore(':memory:');
  return { store, close: async () => store.close() };
});

describe('LocalBudgetStore persistence', () => {
  it('keeps used balances and applied event ids across a restart, not holds', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aigw-budget-')), 'budget.db');
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
});
