import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePeriod, type Period } from '@aigw/config';
import { windowAt } from './budget-window';

function period(text: string): Period {
  const parsed = parsePeriod(text);
  if (!parsed) throw new Error(`period ${text}`);
  return parsed;
}

const DAY_MS = 86_400_000;

describe('windowAt', () => {
  describe('calendar months (UTC)', () => {
    const month = period('1mo');

    it('holds a month from its first millisecond to its last', () => {
      const january = windowAt(month, Date.UTC(2026, 0, 1));
      assert.equal(january.startsAt, Date.UTC(2026, 0, 1));
      assert.equal(january.endsAt, Date.UTC(2026, 1, 1));
      assert.deepEqual(windowAt(month, Date.UTC(2026, 0, 31, 23, 59, 59, 999)), january);
      assert.deepEqual(windowAt(month, Date.UTC(2026, 0, 15, 12)), january);
    });

    it('starts a new window (a new key) on the first of the next month', () => {
      const lastOfJanuary = windowAt(month, Date.UTC(2026, 0, 31, 23, 59, 59, 999));
      const february = windowAt(month, Date.UTC(2026, 1, 1));
      assert.notEqual(february.id, lastOfJanuary.id);
      assert.equal(february.startsAt, lastOfJanuary.endsAt);
      // February is 28 days in 2026 and 29 in 2028: the window follows the calendar.
      assert.equal(february.endsAt - february.startsAt, 28 * DAY_MS);
      const leap = windowAt(month, Date.UTC(2028, 1, 29, 23));
      assert.equal(leap.endsAt - leap.startsAt, 29 * DAY_MS);
      assert.equal(leap.endsAt, Date.UTC(2028, 2, 1));
    });

    it('crosses a year boundary: December ends at the next 1 January', () => {
      const december = windowAt(month, Date.UTC(2025, 11, 31, 23, 59, 59, 999));
      assert.equal(december.startsAt, Date.UTC(2025, 11, 1));
      assert.equal(december.endsAt, Date.UTC(2026, 0, 1));
      const january = windowAt(month, Date.UTC(2026, 0, 1));
      assert.equal(january.startsAt, december.endsAt);
      assert.notEqual(january.id, december.id);
    });

    it('counts multi-month windows from January 1970: quarters and whole years', () => {
      const quarter = period('3months');
      const q1 = windowAt(quarter, Date.UTC(2026, 2, 31, 23, 59, 59, 999));
      assert.equal(q1.startsAt, Date.UTC(2026, 0, 1));
      assert.equal(q1.endsAt, Date.UTC(2026, 3, 1));
      assert.equal(windowAt(quarter, Date.UTC(2026, 3, 1)).startsAt, Date.UTC(2026, 3, 1));
      const q4 = windowAt(quarter, Date.UTC(2025, 10, 20));
      assert.equal(q4.startsAt, Date.UTC(2025, 9, 1));
      assert.equal(q4.endsAt, Date.UTC(2026, 0, 1));

      const year = period('12mo');
      const y2025 = windowAt(year, Date.UTC(2025, 11, 31, 23, 59, 59, 999));
      assert.equal(y2025.startsAt, Date.UTC(2025, 0, 1));
      assert.equal(y2025.endsAt, Date.UTC(2026, 0, 1));
      const y2026 = windowAt(year, Date.UTC(2026, 0, 1));
      assert.equal(y2026.startsAt, y2025.endsAt);
      assert.notEqual(y2026.id, y2025.id);
    });

    it('names a window by its length and start, so "1mo" and "3mo" never share a key', () => {
      const at = Date.UTC(2026, 0, 10);
      assert.equal(windowAt(month, at).id, `mo1@${Date.UTC(2026, 0, 1)}`);
      assert.equal(windowAt(period('3mo'), at).id, `mo3@${Date.UTC(2026, 0, 1)}`);
    });
  });

  describe('a 30d period', () => {
    const thirtyDays = period('30d');

    it('is thirty days aligned to the Unix epoch, not a calendar month', () => {
      assert.deepEqual(thirtyDays, { unit: 'fixed', ms: 30 * DAY_MS, text: '30d' });
      const at = Date.UTC(2026, 0, 15);
      const window = windowAt(thirtyDays, at);
      assert.equal(window.endsAt - window.startsAt, 30 * DAY_MS);
      assert.equal(window.startsAt % (30 * DAY_MS), 0);
      assert.ok(window.startsAt <= at && at < window.endsAt);
      // 20,460 days after the epoch: 2026-01-07, which is no month's first day.
      assert.equal(window.startsAt, Date.UTC(2026, 0, 7));
      assert.equal(window.id, `${30 * DAY_MS}@${Date.UTC(2026, 0, 7)}`);
    });

    it('changes window at its edge and nowhere else, across a year boundary', () => {
      const window = windowAt(thirtyDays, Date.UTC(2026, 0, 15));
      assert.deepEqual(windowAt(thirtyDays, window.startsAt), window);
      assert.deepEqual(windowAt(thirtyDays, window.endsAt - 1), window);
      const before = windowAt(thirtyDays, window.startsAt - 1);
      assert.equal(before.endsAt, window.startsAt);
      // 2025-12-08 to 2026-01-07: one window spans New Year.
      assert.equal(before.startsAt, Date.UTC(2025, 11, 8));
      assert.deepEqual(windowAt(thirtyDays, Date.UTC(2026, 0, 1)), before);
      const after = windowAt(thirtyDays, window.endsAt);
      assert.equal(after.startsAt, window.endsAt);
      assert.notEqual(after.id, window.id);
    });
  });

  describe('a 1w period', () => {
    // Pinned: weeks are 7-day blocks from 1970-01-01, a Thursday, so a week runs from
    // Thursday 00:00 UTC. Moving them to Monday would start every weekly balance afresh
    // (a new key) at upgrade: the README documents this alignment instead.
    const week = period('1w');

    it('runs from Thursday 00:00 UTC to the next Thursday', () => {
      assert.deepEqual(week, { unit: 'fixed', ms: 7 * DAY_MS, text: '1w' });
      assert.equal(new Date(0).getUTCDay(), 4, '1970-01-01 is a Thursday');
      // Sunday 6 December 2026: in the week that began on Thursday 3 December.
      const window = windowAt(week, Date.UTC(2026, 11, 6, 9, 30));
      assert.equal(window.startsAt, Date.UTC(2026, 11, 3));
      assert.equal(window.endsAt, Date.UTC(2026, 11, 10));
      assert.equal(new Date(window.startsAt).getUTCDay(), 4);
      assert.equal(window.id, `${7 * DAY_MS}@${Date.UTC(2026, 11, 3)}`);
    });

    it('changes window at Thursday midnight, not Monday or Sunday', () => {
      const wednesdayNight = windowAt(week, Date.UTC(2026, 11, 9, 23, 59, 59, 999));
      const thursday = windowAt(week, Date.UTC(2026, 11, 10));
      assert.equal(wednesdayNight.startsAt, Date.UTC(2026, 11, 3));
      assert.equal(thursday.startsAt, Date.UTC(2026, 11, 10));
      assert.notEqual(thursday.id, wednesdayNight.id);
      // Sunday to Monday is inside one week.
      assert.deepEqual(
        windowAt(week, Date.UTC(2026, 11, 7)),
        windowAt(week, Date.UTC(2026, 11, 6, 23, 59, 59, 999)),
      );
    });
  });
});
