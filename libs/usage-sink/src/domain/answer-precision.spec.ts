import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { usageEventAt } from '../testing/analytics-fixture';
import { SqliteUsageStore } from '../embedded/sqlite-usage.store';
import { parseTopSpendersQuery, parseUsageQuery } from '../http/analytics-query.dto';
import { answerNumber } from './answer-precision';

test('answerNumber drops the float noise of a sum, not its digits', () => {
  assert.equal(answerNumber(0.1 + 0.2), 0.3);
  assert.equal(answerNumber(58604.99999999999), 58605);
  assert.equal(answerNumber(0.3219174999999999), 0.3219175);
  assert.equal(answerNumber(0.0000000125), 0.0000000125);
  assert.equal(answerNumber(123456.789012), 123456.789012);
  assert.equal(answerNumber(0), 0);
});

test('the embedded store answers a sum of costs without float noise', async () => {
  const store = new SqliteUsageStore(join(mkdtempSync(join(tmpdir(), 'aigw-precision-')), 'a.db'));
  try {
    const at = Date.UTC(2026, 2, 1, 10);
    // 0.1 dollars in one hour, 0.2 in the next: float addition makes 0.30000000000000004.
    const events = [0.1, 0.2].map((dollars, i) => ({
      ...usageEventAt(new Date(at + i * 3_600_000), `r${i}`),
      costDollars: dollars,
      weightedTokenCost: dollars * 10,
    }));
    await store.write(events);
    const range = { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' };
    const byHour = await store.usage(parseUsageQuery(range));
    assert.deepEqual(
      byHour.series.map((point) => point.costDollars),
      [0.1, 0.2],
    );
    assert.equal(byHour.totals.costDollars, 0.3);
    assert.equal(byHour.totals.weightedTokens, 3);
    const byDay = await store.usage(parseUsageQuery({ ...range, bucket: 'day' }));
    assert.equal(byDay.totals.costDollars, 0.3);
    const [spender] = await store.topSpenders(parseTopSpendersQuery(range));
    assert.equal(spender.costDollars, 0.3);
  } finally {
    store.close();
  }
});
