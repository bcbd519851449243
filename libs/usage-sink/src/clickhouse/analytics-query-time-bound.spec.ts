import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { CLICKHOUSE_REQUEST_TIMEOUT_MS } from '@aigw/infra';
import { ClickHouseUsageAnalytics } from './clickhouse-usage.analytics';

// The client gives up on a query after its request timeout, but ClickHouse does not cancel
// a query whose HTTP client went away: each analytics query must bound its own run time on
// the server, a little under the client's wait, so an abandoned heavy one stops there.

interface SentQuery {
  readonly query: string;
  readonly clickhouse_settings?: Record<string, unknown>;
}

function recordingClient(sent: SentQuery[]): ClickHouseClient {
  const client = {
    query: async (params: SentQuery) => {
      sent.push(params);
      return { json: async () => [] };
    },
  };
  return client as unknown as ClickHouseClient;
}

const range = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z') };

test('every analytics query asks ClickHouse to stop it before the client stops waiting', async () => {
  const sent: SentQuery[] = [];
  const analytics = new ClickHouseUsageAnalytics(recordingClient(sent));
  await analytics.usage({ ...range, bucket: 'hour', groupBy: 'none', filters: {} });
  await analytics.topSpenders({ ...range, limit: 10, orderBy: 'user', filters: {} });
  await analytics.rates({ ...range, filters: {} });
  await analytics.latency({ ...range, groupBy: 'model', filters: {} });
  await analytics.fallbacks({ ...range, filters: {} });
  await analytics.budgets({ limit: 10 });
  await analytics.budgetAdjustments({ ...range, limit: 10, filters: {} });
  assert.ok(sent.length >= 7, `queries sent: ${sent.length}`);
  for (const { query, clickhouse_settings } of sent) {
    const seconds = Number(clickhouse_settings?.max_execution_time);
    assert.ok(
      seconds > 0 && seconds * 1000 < CLICKHOUSE_REQUEST_TIMEOUT_MS,
      `max_execution_time ${String(clickhouse_settings?.max_execution_time)} on ${query.slice(0, 60)}`,
    );
  }
});
