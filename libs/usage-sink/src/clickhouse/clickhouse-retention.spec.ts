import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayEndSeconds, monthEndSeconds, partitionEndSeconds } from './clickhouse-retention';

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

test('a day partition (the payload table) ends at the next midnight; a bad day is refused', () => {
  assert.equal(dayEndSeconds('20240229'), Date.parse('2024-03-01T00:00:00Z') / 1000);
  assert.equal(dayEndSeconds('20241231'), Date.parse('2025-01-01T00:00:00Z') / 1000);
  for (const id of ['20240230', '20241301', '20240100', '202401', "20240101'"]) {
    assert.equal(dayEndSeconds(id), undefined, id);
  }
  assert.equal(partitionEndSeconds('202401'), monthEndSeconds('202401'));
  assert.equal(partitionEndSeconds('20240101'), Date.parse('2024-01-02T00:00:00Z') / 1000);
  assert.equal(partitionEndSeconds('tuple()'), undefined);
});
