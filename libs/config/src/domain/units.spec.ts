import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseByteSize, parseDuration, parsePeriod } from './units';

describe('units', () => {
  it('durations to milliseconds', () => {
    assert.equal(parseDuration('3600s'), 3_600_000);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('1s'), 1000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('30d'), 30 * 86_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0'), 0);
    for (const bad of ['', '5', 's', '5 s', '5x', '-1s', '1mo'])
      assert.equal(parseDuration(bad), undefined, bad);
  });

  it('sizes to bytes (SI for GB, binary for GiB)', () => {
    assert.equal(parseByteSize('10GB'), 10_000_000_000);
    assert.equal(parseByteSize('1GiB'), 1024 ** 3);
    assert.equal(parseByteSize('512MB'), 512_000_000);
    assert.equal(parseByteSize('1024'), 1024);
    for (const bad of ['', 'GB', '10XB', '-1GB']) assert.equal(parseByteSize(bad), undefined, bad);
  });

  it('periods: fixed windows and calendar months', () => {
    assert.deepEqual(parsePeriod('30d'), { unit: 'fixed', ms: 30 * 86_400_000, text: '30d' });
    assert.deepEqual(parsePeriod('1d'), { unit: 'fixed', ms: 86_400_000, text: '1d' });
    assert.deepEqual(parsePeriod('1mo'), { unit: 'calendarMonth', count: 1, text: '1mo' });
    assert.deepEqual(parsePeriod('month'), { unit: 'calendarMonth', count: 1, text: 'month' });
    assert.deepEqual(parsePeriod('day'), { unit: 'fixed', ms: 86_400_000, text: 'day' });
    for (const bad of ['', '0d', '0mo', 'fortnight'])
      assert.equal(parsePeriod(bad), undefined, bad);
  });

  it('periods: "1M" is refused, never read as a minute (a month in ISO 8601 and Grafana)', () => {
    for (const ambiguous of ['1M', '3M', '1h30M', '1 M']) {
      assert.equal(parsePeriod(ambiguous), undefined, ambiguous);
    }
    // Other upper-case forms keep their one reading.
    assert.deepEqual(parsePeriod('1MO'), { unit: 'calendarMonth', count: 1, text: '1MO' });
    assert.deepEqual(parsePeriod('Month'), { unit: 'calendarMonth', count: 1, text: 'Month' });
    assert.deepEqual(parsePeriod('30D'), { unit: 'fixed', ms: 30 * 86_400_000, text: '30D' });
    assert.deepEqual(parsePeriod('1m'), { unit: 'fixed', ms: 60_000, text: '1m' });
    assert.deepEqual(parsePeriod('Minute'), { unit: 'fixed', ms: 60_000, text: 'Minute' });
  });
});
