import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BudgetUnit,
  createAlertRaised,
  createTokenUsageRecorded,
  LimitKind,
  UsageSource,
} from '@aigw/contracts';
import { buildWorkload, payloadEvents } from '../testing/analytics-fixture';
import { RAW_TABLES, rowLayoutOf, seconds, TABLE_COLUMNS, toRowsByTable } from './event-rows';

const usage = createTokenUsageRecorded(
  {
    requestId: 'req-1',
    partitionKey: 'alice',
    userId: 'alice',
    inputTokens: 12,
    outputTokens: 7,
    cachedInputTokens: 2,
    usageSource: UsageSource.Reported,
    modelRequested: 'gpt-4o-mini',
    modelServed: 'gpt-4o',
    provider: 'openai',
    backend: 'primary',
    costDollars: 0.25,
    weightedTokenCost: 26,
    cacheHit: true,
  },
  { eventId: '0190a000-0000-7000-8000-000000000001', occurredAt: '2026-03-01T10:00:01.999Z' },
);

const alert = createAlertRaised({
  requestId: null,
  partitionKey: 'bob',
  budgetKey: 'bob',
  limitKind: LimitKind.TokenBudgetPerUser,
  windowId: '2026-03',
  threshold: 0.8,
  used: 800,
  unit: BudgetUnit.Tokens,
  message: 'bob used 80%',
});

test('a usage event becomes its row, optional fields filled', () => {
  const [[table, [row]]] = [...toRowsByTable([usage])];
  assert.equal(table, 'usage_events');
  assert.deepEqual(row, {
    event_id: '0190a000-0000-7000-8000-000000000001',
    occurred_at: 1772359201,
    user_id: 'alice',
    request_id: 'req-1',
    model_requested: 'gpt-4o-mini',
    model_served: 'gpt-4o',
    provider: 'openai',
    backend: 'primary',
    tier: '',
    usage_source: UsageSource.Reported,
    reservation_id: '',
    input_tokens: 12,
    output_tokens: 7,
    cached_input_tokens: 2,
    cost_dollars: 0.25,
    weighted_token_cost: 26,
    cache_hit: 1,
    cache_write_input_tokens: 0,
    operation: '',
    route: '',
    web_search_requests: 0,
  });
});

test("a usage event's web searches fill their column; an older build's event reads 0", () => {
  const [[, [row]]] = [...toRowsByTable([{ ...usage, webSearchRequests: 3 }])];
  assert.equal(row.web_search_requests, 3);
  const [[, [old]]] = [...toRowsByTable([usage])];
  assert.equal(old.web_search_requests, 0);
});

test("a usage or completed request's route fills its column; an older build's event reads ''", () => {
  const [[, [row]]] = [...toRowsByTable([{ ...usage, route: 'embed' }])];
  assert.equal(row.route, 'embed');
  const [[, [old]]] = [...toRowsByTable([usage])];
  assert.equal(old.route, '');
  const completed = buildWorkload().events.find((e) => e.type === 'request.completed');
  assert.ok(completed);
  const [[, [done]]] = [...toRowsByTable([{ ...completed, route: 'chat' }])];
  assert.equal(done.route, 'chat');
});

test("a usage event's operation fills its column; an older build's event reads ''", () => {
  const [[, [row]]] = [...toRowsByTable([{ ...usage, operation: 'speech' }])];
  assert.equal(row.operation, 'speech');
  const [[, [old]]] = [...toRowsByTable([usage])];
  assert.equal(old.operation, '');
});

test("a usage event's prompt-cache writes fill their column", () => {
  const written = { ...usage, cacheWriteInputTokens: 5 };
  const [[, [row]]] = [...toRowsByTable([written])];
  assert.equal(row.cache_write_input_tokens, 5);
  assert.equal(row.input_tokens, 12);
});

test('values come in the order of the table columns, for every event type', () => {
  const events = [...buildWorkload().events, alert, ...payloadEvents()];
  const tables = new Set(events.map((event) => rowLayoutOf(event).table));
  assert.deepEqual([...tables].sort(), [...RAW_TABLES].sort(), 'the workload covers every table');
  const rows = toRowsByTable(events);
  for (const event of events) {
    const { table, columns, values } = rowLayoutOf(event);
    assert.deepEqual(columns, TABLE_COLUMNS[table]);
    const row = rows.get(table)?.find((r) => r.event_id === event.eventId);
    assert.ok(row);
    assert.deepEqual(Object.keys(row), columns);
    assert.deepEqual(Object.values(row), values(event));
  }
});

test("an event's row is its values keyed by column, a plain object, for every event type", () => {
  for (const event of [...buildWorkload().events, alert, ...payloadEvents()]) {
    const { columns, values, row } = rowLayoutOf(event);
    const expected = Object.fromEntries(values(event).map((value, i) => [columns[i], value]));
    assert.deepStrictEqual(row(event), expected, event.type);
  }
});

test('an id twice in one batch is one row', () => {
  const rows = toRowsByTable([usage, alert, usage]);
  assert.equal(rows.get('usage_events')?.length, 1);
  assert.equal(rows.get('alert_events')?.length, 1);
});

test('seconds() equals Date.parse in whole seconds, for repeated and odd times alike', () => {
  const times = [
    '2026-03-01T10:00:01.999Z',
    '2026-03-01T10:00:01.000Z',
    '2026-03-01T10:00:02.001Z',
    '2026-03-01T10:00:01.500Z', // back to an earlier second
    '2026-03-01T10:00:01Z',
    '2026-03-01T10:00:01.5Z',
    '2026-03-01T10:00:01.999+02:00',
    '2026-03-01T10:00:01.99xZ', // the cached second's text, not a time
    '1969-12-31T23:59:59.500Z', // before the epoch: rounds down
    'not a time at all, 24ch',
  ];
  for (const iso of [...times, ...times]) {
    const expected = Math.floor(Date.parse(iso) / 1000);
    assert.deepEqual(seconds(iso), expected, iso);
  }
});

test('seconds() parses a second afresh unless it is written as toISOString writes it', () => {
  // Each pair: a time whose second is remembered, then another of the same second's text
  // that Date.parse reads otherwise (24:00 takes no milliseconds; V8's lenient forms).
  for (const [first, second] of [
    ['2026-01-01T24:00:00.000Z', '2026-01-01T24:00:00.500Z'],
    ['2026-10-12 02:+3:09.000Z', '2026-10-12 02:+3:09.191Z'],
    ['2026-09-27 16:11:-1.000Z', '2026-09-27 16:11:-1.094Z'],
  ]) {
    for (const iso of [first, second]) {
      assert.deepEqual(seconds(iso), Math.floor(Date.parse(iso) / 1000), iso);
    }
  }
});
