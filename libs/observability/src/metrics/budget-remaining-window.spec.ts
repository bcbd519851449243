// ai_gateway_budget_remaining is what is left in the current window: once the window a value
// was set in has ended, the limit's next window has nothing settled in it yet, so the gauge
// reads the whole limit, not the last window's remainder (a user who hit a per-minute limit
// once showed 0 left for good on the dashboard's lowest-remaining panels).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from './metrics-registry';

const T = Date.UTC(2026, 0, 1, 12, 0, 30);
const MINUTE_END = Date.UTC(2026, 0, 1, 12, 1, 0);

test('reads the whole limit once the window the remainder was set in has ended', async () => {
  const clock = { now: T };
  const m = new MetricsRegistry({ collectDefaultMetrics: false, now: () => clock.now });
  const labels = { budgetKey: 'alice', limit: 'tokenRateLimit.perUser.requestsPerMinute' };
  m.setBudgetRemaining(labels, 0, { limit: 3, windowEndsAt: MINUTE_END });
  const value = async () =>
    (await m.metrics())
      .split('\n')
      .filter((line) => line.startsWith('ai_gateway_budget_remaining{budget_key="alice"'));
  const series =
    'ai_gateway_budget_remaining{budget_key="alice",limit="tokenRateLimit.perUser.requestsPerMinute"}';
  assert.deepEqual(await value(), [`${series} 0`]);
  clock.now = MINUTE_END - 1;
  assert.deepEqual(await value(), [`${series} 0`], 'still its window');
  clock.now = MINUTE_END;
  assert.deepEqual(await value(), [`${series} 3`], 'the next window: nothing spent in it yet');
  // Spend settled in the new window sets it again, until that one ends.
  m.setBudgetRemaining(labels, 1, { limit: 3, windowEndsAt: MINUTE_END + 60_000 });
  assert.deepEqual(await value(), [`${series} 1`]);
  clock.now = MINUTE_END + 60_000;
  assert.deepEqual(await value(), [`${series} 3`]);
});

test('keeps the later window’s remainder when an earlier window’s usage settles late', async () => {
  const m = new MetricsRegistry({ collectDefaultMetrics: false, now: () => MINUTE_END + 10_000 });
  const labels = { budgetKey: 'bob', limit: 'tokenBudget.perMinute' };
  m.setBudgetRemaining(labels, 70, { limit: 100, windowEndsAt: MINUTE_END + 60_000 });
  m.setBudgetRemaining(labels, 0, { limit: 100, windowEndsAt: MINUTE_END });
  assert.match(
    await m.metrics(),
    /ai_gateway_budget_remaining\{budget_key="bob",limit="tokenBudget.perMinute"\} 70\n/,
  );
});
