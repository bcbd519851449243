import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isoTimestamp } from './iso-timestamp';

describe('isoTimestamp', () => {
  it('formats exactly as Date#toISOString, across milliseconds, seconds and days', () => {
    const start = Date.UTC(2026, 11, 31, 23, 59, 58, 0);
    for (let ms = start; ms < start + 3_000; ms += 7) {
      assert.equal(isoTimestamp(ms), new Date(ms).toISOString());
    }
    // Twice in a row (the kept string), then the next millisecond.
    for (const ms of [
      start,
      start,
      start + 1,
      start + 1,
      0,
      5,
      42,
      999,
      1_000,
      Date.UTC(2024, 1, 29, 12, 0, 0, 1),
      Date.now(),
    ]) {
      assert.equal(isoTimestamp(ms), new Date(ms).toISOString());
    }
  });

  it('is right again after going back in time', () => {
    const later = Date.UTC(2026, 5, 1, 10, 0, 1, 500);
    assert.equal(isoTimestamp(later), new Date(later).toISOString());
    assert.equal(isoTimestamp(later - 1_000), new Date(later - 1_000).toISOString());
  });
});
