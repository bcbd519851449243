// NestJS's loggers build an Intl.DateTimeFormat when they load, which maps ICU's locale
// data (about 8 MB resident) for stamps the gateway never prints: while the gateway's
// modules load, a format is a stand-in that builds the real one on first use.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { deferDateTimeFormats } from './lazy-date-time-formats';

/** Counts the real formats built from here on; returns the count and what undoes it. */
function countBuiltFormats(): { built: () => number; undo: () => void } {
  const real = Intl.DateTimeFormat;
  let built = 0;
  const counting = function (locales?: Intl.LocalesArgument, options?: Intl.DateTimeFormatOptions) {
    built++;
    return new real(locales, options);
  };
  Intl.DateTimeFormat = counting as unknown as typeof Intl.DateTimeFormat;
  return { built: () => built, undo: () => (Intl.DateTimeFormat = real) };
}

const OPTIONS: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
};

describe('date formats built while the gateway loads', () => {
  it('build the real format on first use and format as it does', () => {
    const count = countBuiltFormats();
    try {
      const restore = deferDateTimeFormats();
      const format = new Intl.DateTimeFormat('en-US', OPTIONS);
      restore();
      assert.equal(count.built(), 0, 'nothing built before first use');
      const at = Date.UTC(2026, 11, 5, 0, 30, 15);
      assert.equal(format.format(at), new Intl.DateTimeFormat('en-US', OPTIONS).format(at));
      assert.deepEqual(
        format.resolvedOptions(),
        new Intl.DateTimeFormat('en-US', OPTIONS).resolvedOptions(),
      );
      assert.equal(count.built(), 3, 'the stand-in built one, the comparisons two');
    } finally {
      count.undo();
    }
  });

  it('are put back: formats built after restoring are the real ones', () => {
    const restore = deferDateTimeFormats();
    restore();
    assert.ok(new Intl.DateTimeFormat('en-US') instanceof Intl.DateTimeFormat);
  });

  it("leave NestJS's loggers with no real format until they stamp a line", () => {
    const count = countBuiltFormats();
    try {
      // The order main.ts loads in: the stand-in first, then the gateway's module graph.
      const load = createRequire(__filename);
      const { restoreDateTimeFormats } = load('./date-time-formats-deferred') as {
        restoreDateTimeFormats: () => void;
      };
      load('./gateway-bootstrap');
      restoreDateTimeFormats();
      assert.equal(count.built(), 0, 'a format was built while the gateway loaded');
    } finally {
      count.undo();
    }
  });
});
