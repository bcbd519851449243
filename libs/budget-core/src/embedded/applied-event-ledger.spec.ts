import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { AppliedEventLedger } from './applied-event-ledger';

const T0 = Date.UTC(2026, 0, 1);

/** Adds and writes `count` events, one millisecond apart from `at`; returns their ids. */
function settle(ledger: AppliedEventLedger, db: DatabaseSync, count: number, at: number) {
  const ids = Array.from({ length: count }, (_, i) => `event-${at + i}`);
  ids.forEach((id, i) => ledger.add(id, at + i));
  db.exec('BEGIN');
  ledger.writePending();
  db.exec('COMMIT');
  ledger.written(at + count);
  return ids;
}

describe('AppliedEventLedger', () => {
  it('records every event of a flush, however many statements it takes', () => {
    const db = new DatabaseSync(':memory:');
    for (const count of [1, 15, 16, 17, 50]) {
      const at = T0 + count * 1_000;
      const ids = settle(new AppliedEventLedger(db, at), db, count, at);
      // A fresh ledger on the same table knows them only from the rows written.
      const reopened = new AppliedEventLedger(db, at + count);
      ids.forEach((id, i) => assert.ok(reopened.has(id, at + i), `${id} of ${count}`));
      assert.equal(reopened.has('never-settled', at), false);
    }
    const { n } = db.prepare('SELECT count(*) AS n FROM settled_events').get() as { n: number };
    assert.equal(n, 1 + 15 + 16 + 17 + 50);
  });
});
