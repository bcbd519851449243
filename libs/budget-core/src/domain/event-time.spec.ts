import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventTime } from './event-time';

describe('eventTime', () => {
  it('reads toISOString times as Date.parse does, across seconds, days and years', () => {
    const start = Date.UTC(2025, 11, 31, 23, 59, 58, 990);
    for (let ms = start; ms < start + 3_000; ms += 7) {
      const iso = new Date(ms).toISOString();
      assert.equal(eventTime(iso), ms, iso);
    }
    // Back to an earlier second: not the one remembered.
    assert.equal(eventTime('2026-01-01T00:00:00.000Z'), Date.UTC(2026, 0, 1));
    assert.equal(eventTime('2025-06-15T12:00:00.123Z'), Date.UTC(2025, 5, 15, 12, 0, 0, 123));
  });

  it('reads other forms, and nonsense, as Date.parse does', () => {
    for (const text of [
      '2026-01-01T00:00:00Z',
      '2026-01-01T00:00:00.5Z',
      '2026-01-01T00:00:00.000+01:00',
      '2026-01-01T00:00:00.1a3Z',
      '2026-13-01T00:00:00.000Z',
      'xxxx-01-01T00:00:00.000Z',
      '',
    ]) {
      assert.deepEqual(eventTime(text), Date.parse(text), text);
    }
  });

  it('parses a second afresh unless it is written as toISOString writes it', () => {
    // Each pair: a time whose second is remembered, then another of the same second's text
    // that Date.parse reads otherwise (24:00 takes no milliseconds; V8's lenient forms).
    for (const [first, second] of [
      ['2026-01-01T24:00:00.000Z', '2026-01-01T24:00:00.500Z'],
      ['2026-04-1: 03:39:27.000Z', '2026-04-1: 03:39:27.087Z'],
      ['2026-10-12 02:+3:09.000Z', '2026-10-12 02:+3:09.191Z'],
    ]) {
      assert.deepEqual(eventTime(first), Date.parse(first), first);
      assert.deepEqual(eventTime(second), Date.parse(second), second);
    }
  });
});
