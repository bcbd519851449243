import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from './logger';
import { throttledWarning } from './throttled-warning';

it('logs the first failure at once, then at most one line a period with the failures in between', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  let now = 0;
  const warn = throttledWarning(logger, 'cache lookup failed', 60_000, () => now);
  warn({ reason: 'ReplyError' });
  for (let i = 0; i < 500; i++) {
    now += 100;
    warn({ reason: 'ReplyError' });
  }
  assert.equal(lines.length, 1, 'one line for 501 failures within the minute');
  now = 60_000;
  warn({ reason: 'MaxRetriesPerRequestError' });
  assert.equal(lines.length, 2);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg, l.reason, l.failures]),
    [
      ['warn', 'cache lookup failed', 'ReplyError', 1],
      ['warn', 'cache lookup failed', 'MaxRetriesPerRequestError', 501],
    ],
  );
});
