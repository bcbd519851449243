import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monthEndSeconds } from './clickhouse-retention';

test('a month partition ends at the first second of the next month, December into January', () => {
  assert.equal(monthEndSeconds('202401'), Date.parse('2024-02-01T00:00:00Z') / 1000);
  assert.equal(monthEndSeconds('202402'), Date.parse('2024-03-01T00:00:00Z') / 1000);
  assert.equal(monthEndSeconds('202412'), Date.parse('2025-01-01T00:00:00Z') / 1000);
});

test('anything but a YYYYMM month is never taken for one (so never dropped)', () => {
  for (const id of ['', 'tuple()', '2024', '20240101', '202400', '202413', "202401'; DROP"]) {
    assert.equal(monthEndSeconds(id), undefined, id);
  }
});
