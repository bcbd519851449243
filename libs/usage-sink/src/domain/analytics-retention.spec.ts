import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AnalyticsRetention, type RetentionOutcome } from './analytics-retention';

const NOW = Date.parse('2026-12-03T12:00:00Z');

test('a pass runs at start with the cutoff the retention gives, then on every interval', async () => {
  const cutoffs: number[] = [];
  const outcomes: RetentionOutcome[] = [];
  const retention = AnalyticsRetention.start(
    {
      expireBefore: async (cutoff) => {
        cutoffs.push(cutoff);
        return 5;
      },
    },
    { retentionDays: 30, everyMs: 5, now: () => NOW, onPass: (o) => outcomes.push(o) },
  );
  await sleep(40);
  await retention.stop();
  assert.ok(cutoffs.length >= 2, `passes ran: ${cutoffs.length}`);
  assert.equal(cutoffs[0], Date.parse('2026-11-03T12:00:00Z') / 1000);
  assert.deepEqual(outcomes[0], { expiredRows: 5 });
});

test('a failed pass is reported and the next one runs', async () => {
  let calls = 0;
  const outcomes: RetentionOutcome[] = [];
  const retention = AnalyticsRetention.start(
    {
      expireBefore: async () => {
        if (++calls === 1) throw new Error('disk I/O error');
        return 0;
      },
    },
    { retentionDays: 1, everyMs: 5, onPass: (o) => outcomes.push(o) },
  );
  await sleep(40);
  await retention.stop();
  assert.match(String((outcomes[0] as { error: Error }).error), /disk I\/O error/);
  assert.deepEqual(outcomes[1], { expiredRows: 0 });
});

test('stop waits for the pass in flight and no pass starts after it', async () => {
  let release!: () => void;
  let calls = 0;
  let finished = false;
  const retention = AnalyticsRetention.start(
    {
      expireBefore: async () => {
        calls++;
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
        return 1;
      },
    },
    { retentionDays: 1, everyMs: 1, onPass: () => undefined },
  );
  const stopped = retention.stop();
  await sleep(5);
  assert.equal(finished, false, 'still deleting');
  release();
  await stopped;
  assert.equal(finished, true);
  await sleep(10);
  assert.equal(calls, 1);
});
