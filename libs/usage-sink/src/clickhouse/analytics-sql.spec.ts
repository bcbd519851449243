import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FALLBACK_COLUMNS,
  filterConditions,
  REJECTION_COLUMNS,
  REQUEST_ROUTE_COLUMNS,
  USAGE_ROUTE_COLUMNS,
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

test('route filters and groups only the rollups by route', () => {
  assert.deepEqual(filterConditions({ route: "r'1", operation: 'chat' }, USAGE_ROUTE_COLUMNS), [
    "route = 'r\\'1'",
    "operation = 'chat'",
  ]);
  assert.equal(keyExpression('route', REQUEST_ROUTE_COLUMNS), 'route');
  // Rejections come before a route is chosen: the filter does not apply there.
  assert.deepEqual(filterConditions({ route: 'main' }, REJECTION_COLUMNS), []);
  assert.throws(() => keyExpression('route', SERVED_COLUMNS), /cannot group by route/);
});
