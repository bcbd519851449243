import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnalyticsQueryError } from '../domain/analytics-query-error';
import { budgetsCursor, spendersPage } from './keyset-cursor';
import { EMPTY_TOTALS } from '../domain/analytics.types';
import {
  parseBudgetAdjustmentsQuery,
  parseBudgetsQuery,
  parseFallbacksQuery,
  parseLatencyQuery,
  parseRatesQuery,
  parseTopSpendersQuery,
  parseUsageQuery,
} from './analytics-query.dto';

const now = new Date('2026-03-10T12:00:00Z');

test('defaults: the last 24 hours by hour, or 30 days by day, ungrouped', () => {
  const hourly = parseUsageQuery({}, now);
  assert.equal(hourly.from.toISOString(), '2026-03-09T12:00:00.000Z');
  assert.equal(hourly.to.toISOString(), now.toISOString());
  assert.equal(hourly.groupBy, 'none');
  assert.deepEqual(hourly.filters, {});
  const daily = parseUsageQuery({ bucket: 'day' }, now);
  assert.equal(daily.from.toISOString(), '2026-02-08T12:00:00.000Z');
});

test('filters and options come through typed', () => {
  const q = parseTopSpendersQuery(
    { limit: '25', orderBy: 'tokens', model: 'gpt-4o', from: '2026-03-01T00:00:00Z' },
    now,
  );
  assert.equal(q.limit, 25);
  assert.equal(q.orderBy, 'tokens');
  assert.deepEqual(q.filters, { model: 'gpt-4o' });
});

test('every problem is named', () => {
  let error: unknown;
  try {
    parseUsageQuery({ bucket: 'week', groupBy: 'x', user: '', extra: '1' }, now);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof AnalyticsQueryError);
  const paths = error.issues.map((i) => i.path).sort();
  assert.deepEqual(paths, ['bucket', 'extra', 'groupBy', 'user']);
});

test('ranges must be ordered and bounded', () => {
  assert.throws(
    () => parseUsageQuery({ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }, now),
    /earlier than to/,
  );
  assert.throws(
    () => parseUsageQuery({ from: '2026-01-01T00:00:00Z', bucket: 'hour' }, now),
    /31 days/,
  );
  assert.doesNotThrow(() => parseUsageQuery({ from: '2026-01-01T00:00:00Z', bucket: 'day' }, now));
});

test('a parameter given twice, or one another endpoint takes, is refused', () => {
  assert.throws(() => parseUsageQuery({ user: ['a', 'b'] }, now), AnalyticsQueryError);
  assert.throws(() => parseFallbacksQuery({ provider: 'openai' }, now), /should not exist/);
  assert.throws(() => parseTopSpendersQuery({ limit: '101' }, now), /1 to 100/);
});

test('usage and spend group and filter by operation; tables without it refuse it', () => {
  const usage = parseUsageQuery({ groupBy: 'operation', operation: 'transcriptions' }, now);
  assert.equal(usage.groupBy, 'operation');
  assert.deepEqual(usage.filters, { operation: 'transcriptions' });
  const spenders = parseTopSpendersQuery({ operation: 'images' }, now);
  assert.deepEqual(spenders.filters, { operation: 'images' });
  assert.throws(() => parseUsageQuery({ operation: '' }, now), /operation must be 1 to 256/);
  // Latency and rates read request.completed, which names an endpoint, not an operation.
  assert.throws(() => parseLatencyQuery({ groupBy: 'operation' }, now), /groupBy must be one of/);
  assert.throws(() => parseRatesQuery({ operation: 'chat' }, now), /should not exist/);
});

test('usage, spend, rates and latency group or filter by route; fallbacks refuse it', () => {
  const usage = parseUsageQuery({ groupBy: 'route', route: 'embed', operation: 'chat' }, now);
  assert.equal(usage.groupBy, 'route');
  assert.deepEqual(usage.filters, { route: 'embed', operation: 'chat' });
  assert.deepEqual(parseTopSpendersQuery({ route: 'main' }, now).filters, { route: 'main' });
  assert.deepEqual(parseRatesQuery({ route: 'main' }, now).filters, { route: 'main' });
  const latency = parseLatencyQuery({ groupBy: 'route', route: 'main' }, now);
  assert.equal(latency.groupBy, 'route');
  assert.deepEqual(latency.filters, { route: 'main' });
  // Rows naming no route are the group '', not a filter value.
  assert.throws(() => parseUsageQuery({ route: '' }, now), /route must be 1 to 256/);
  assert.throws(() => parseRatesQuery({ route: 'a\nb' }, now), /route must be 1 to 256/);
  assert.throws(() => parseFallbacksQuery({ route: 'main' }, now), /should not exist/);
});

test('budget adjustments: the last 30 days, 100 rows, one user or all', () => {
  const q = parseBudgetAdjustmentsQuery({}, now);
  assert.equal(q.from.toISOString(), '2026-02-08T12:00:00.000Z');
  assert.equal(q.limit, 100);
  assert.deepEqual(q.filters, {});
  const alice = parseBudgetAdjustmentsQuery({ user: 'alice', limit: '1000' }, now);
  assert.deepEqual(alice.filters, { user: 'alice' });
  assert.equal(alice.limit, 1000);
  assert.throws(() => parseBudgetAdjustmentsQuery({ limit: '1001' }, now), /1 to 1000/);
  assert.throws(() => parseBudgetAdjustmentsQuery({ tier: 'pro' }, now), /should not exist/);
});

test('an ISO 8601 form no Date can read is a 400, not an invalid time passed on', () => {
  for (const time of ['2026-W10-1', '2026-060', '20260301', '20260301T000000Z', '2026-03-01T00']) {
    assert.throws(() => parseUsageQuery({ from: time }, now), /from must be an ISO 8601 time/);
    assert.throws(() => parseLatencyQuery({ to: time }, now), /to must be an ISO 8601 time/);
  }
});

test('a time without an offset is UTC, whatever the server time zone', () => {
  const zone = process.env.TZ;
  process.env.TZ = 'Europe/Berlin';
  try {
    const q = parseUsageQuery({ from: '2026-03-29T00:00:00', to: '2026-03-29T03:30' }, now);
    assert.equal(q.from.toISOString(), '2026-03-29T00:00:00.000Z');
    assert.equal(q.to.toISOString(), '2026-03-29T03:30:00.000Z');
    const dated = parseRatesQuery({ from: '2026-03-28', to: '2026-03-29T00:00:00.5' }, now);
    assert.equal(dated.from.toISOString(), '2026-03-28T00:00:00.000Z');
    assert.equal(dated.to.toISOString(), '2026-03-29T00:00:00.500Z');
    // An offset given is kept.
    const offset = parseUsageQuery(
      { from: '2026-03-29T00:00:00+02:00', to: '2026-03-29T01:00:00-01:00' },
      now,
    );
    assert.equal(offset.from.toISOString(), '2026-03-28T22:00:00.000Z');
    assert.equal(offset.to.toISOString(), '2026-03-29T02:00:00.000Z');
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});

test('a range outside 1970..2106, which ClickHouse would wrap, is a 400', () => {
  assert.throws(
    () => parseUsageQuery({ from: '1969-12-31T00:00:00Z', to: '1970-01-01T12:00:00Z' }, now),
    /from must be between 1970-01-01 and 2106-01-01/,
  );
  // A from left to its default (24 hours before to) is checked too.
  assert.throws(
    () => parseRatesQuery({ to: '1970-01-01T12:00:00Z' }, now),
    /from must be between 1970-01-01 and 2106-01-01/,
  );
  assert.throws(
    () =>
      parseBudgetAdjustmentsQuery({ from: '2106-03-01T00:00:00Z' }, new Date(Date.UTC(2106, 2, 2))),
    /from must be between 1970-01-01 and 2106-01-01/,
  );
  assert.throws(
    () => parseUsageQuery({ from: '2105-12-31T12:00:00Z', to: '2106-01-01T00:00:01Z' }, now),
    /to must be between 1970-01-01 and 2106-01-01/,
  );
  const edges = parseUsageQuery({ from: '1970-01-01T00:00:00Z', to: '1970-01-01T01:00:00Z' }, now);
  assert.equal(edges.from.getTime(), 0);
  const last = parseUsageQuery({ from: '2105-12-31T00:00:00Z', to: '2106-01-01T00:00:00Z' }, now);
  assert.equal(last.to.toISOString(), '2106-01-01T00:00:00.000Z');
});

test('budgets: 1000 rows by default, 1 to 10000 asked, nothing else', () => {
  assert.deepEqual(parseBudgetsQuery({}), { limit: 1000, filters: {} });
  assert.deepEqual(parseBudgetsQuery({ limit: '10000' }), { limit: 10_000, filters: {} });
  assert.deepEqual(parseBudgetsQuery({ limit: '1' }), { limit: 1, filters: {} });
  for (const limit of ['0', '10001', '01', '1e3', '-1', '']) {
    assert.throws(() => parseBudgetsQuery({ limit }), /1 to 10000/, limit);
  }
  assert.throws(() => parseBudgetsQuery({ user: 'alice' }), /property user should not exist/);
});

test('budgets: a cursor names the limit the page starts after; filters pass as given', () => {
  const cursor = budgetsCursor({
    budgetKey: 'jwt:corp:sub:alice',
    limitKind: 'tokenBudget.perUser',
  });
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(
    parseBudgetsQuery({ cursor, budgetKey: 'bob', limitKind: 'x', state: 'exhausted' }),
    {
      limit: 1000,
      after: { budgetKey: 'jwt:corp:sub:alice', limitKind: 'tokenBudget.perUser' },
      filters: { budgetKey: 'bob', limitKind: 'x', state: 'exhausted' },
    },
  );
  assert.throws(() => parseBudgetsQuery({ cursor: 'a'.repeat(11_001) }), /cursor is not one/);
  assert.throws(() => parseBudgetsQuery({ state: 'spent' }), /state must be one of/);
});

/** The cursor a page ending at `user` answers. */
const spendersCursorFor = (user: string): string => {
  const rows = [user, `${user}~`].map((name) => ({ user: name, ...EMPTY_TOTALS }));
  const { nextCursor } = spendersPage(rows, 1);
  assert.ok(nextCursor);
  return nextCursor;
};

test('top spenders: a cursor pages orderBy=user only, and names the user the page starts after', () => {
  const now = new Date('2026-03-02T00:00:00Z');
  const cursor = spendersCursorFor('key-0123456789abcdef');
  assert.equal(
    parseTopSpendersQuery({ orderBy: 'user', cursor }, now).afterUser,
    'key-0123456789abcdef',
  );
  assert.equal(parseTopSpendersQuery({ orderBy: 'user' }, now).afterUser, undefined);
  assert.throws(() => parseTopSpendersQuery({ cursor }, now), /cursor pages only orderBy=user/);
  // A budgets cursor names two keys: not a place in the spenders list.
  const budgets = budgetsCursor({ budgetKey: 'a', limitKind: 'b' });
  assert.throws(
    () => parseTopSpendersQuery({ orderBy: 'user', cursor: budgets }, now),
    /cursor is not one/,
  );
});
