import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BudgetStoreOwnerLock } from './store-owner-lock';

test('one owner at a time keeps a budget store, and its release lets the next take it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-owner-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = join(dir, 'budget.db');
  const first = BudgetStoreOwnerLock.acquire(store);
  assert.ok(first, 'the first takes it');
  assert.equal(
    BudgetStoreOwnerLock.acquire(store),
    undefined,
    'a second is refused, not kept waiting',
  );
  first.release();
  first.release(); // a second release is harmless
  const next = BudgetStoreOwnerLock.acquire(store);
  assert.ok(next, 'taken again once released');
  next.release();
});
