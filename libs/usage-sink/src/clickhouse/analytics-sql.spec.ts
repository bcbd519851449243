import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FALLBACK_COLUMNS,
  filterConditions,
  keyExpression,
  rangeCondition,
  SERVED_COLUMNS,
  whereClause,
} from './analytics-sql';

const range = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00.500Z') };

test('a range is whole seconds, bucket starts in [from, to)', () => {
  assert.equal(
    rangeCondition(range),
    'bucket >= toDateTime(1772323200) AND bucket < toDateTime(1772409601)',
  );
});

test('filter values are escaped string literals, never raw text', () => {
  const [user, model] = filterConditions(
    { user: "o'brien\\' OR 1=1 --", model: 'gpt-4o' },
    SERVED_COLUMNS,
  );
  assert.equal(user, "user_id = 'o\\'brien\\\\\\' OR 1=1 --'");
  assert.equal(model, "model_served = 'gpt-4o'");
});

test('filters a rollup has no column for are left out', () => {
  assert.deepEqual(filterConditions({ provider: 'openai', tier: 'pro' }, FALLBACK_COLUMNS), []);
  assert.match(whereClause(range, { user: 'a' }, FALLBACK_COLUMNS), /AND user_id = 'a'$/);
});

test('group keys come from the fixed column maps only', () => {
  assert.equal(keyExpression('none', SERVED_COLUMNS), "'all'");
  assert.equal(keyExpression('model', SERVED_COLUMNS), 'model_served');
  assert.throws(() => keyExpression('tier', FALLBACK_COLUMNS), /cannot group by tier/);
});
