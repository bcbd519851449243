// The rollups by route (migration 011) against a real ClickHouse: they equal aggregates of
// the raw rows naming a route, and a database upgraded from 010 keeps its history whole:
// usage stored before the rollups existed groups under route '' and every total adds up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import type { GatewayEvent } from '@aigw/contracts';
import { migrate } from '@aigw/infra';
import { migratedClickHouseDatabases } from '../testing/migrated-clickhouse';
import { toRowsByTable } from '../domain/event-rows';
import { buildWorkload, RANGE } from '../testing/analytics-fixture';
import { ClickHouseUsageAnalytics } from './clickhouse-usage.analytics';
import { ClickHouseUsageWriter } from './clickhouse-usage.writer';

const withDatabase = migratedClickHouseDatabases('it_routes');

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

const range = { from: new Date(RANGE.from), to: new Date(RANGE.to) };

describe('ClickHouse rollups by route', () => {
  it('equal aggregates of the raw rows naming a route', async () => {
    await withDatabase(undefined, async (client) => {
      await new ClickHouseUsageWriter(client).write(buildWorkload(90).events);
      const keys = 'b, route, operation, user_id, model_served, provider, tier, model_requested';
      for (const [rollup, start] of [
        ['usage_routes_hourly', 'toStartOfHour'],
        ['usage_routes_daily', 'toStartOfDay'],
      ]) {
        const fromRollup = await rows<Record<string, string | number>>(
          client,
          `SELECT toString(bucket) AS b, route, operation, user_id, model_served, provider, tier,
             model_requested, sum(requests) AS n, sum(tokens_in) AS i,
             sum(tokens_cache_write_in) AS cw, round(sum(cost), 9) AS cost
           FROM ${rollup} GROUP BY ${keys} ORDER BY ${keys}`,
        );
        const fromRaw = await rows<Record<string, string | number>>(
          client,
          `SELECT toString(${start}(occurred_at)) AS b, route, operation, user_id, model_served,
             provider, tier, model_requested, count() AS n, sum(input_tokens) AS i,
             sum(cache_write_input_tokens) AS cw, round(sum(cost_dollars), 9) AS cost
           FROM usage_events FINAL WHERE route != '' GROUP BY ${keys} ORDER BY ${keys}`,
        );
        assert.deepEqual(new Set(fromRaw.map((r) => r.route)), new Set(['main', 'embed']));
        assert.deepEqual(fromRollup, fromRaw, rollup);
      }
      const requestKeys = 'b, route, user_id, model_served, provider, tier, model_requested';
      const requestsRollup = await rows<Record<string, string | number>>(
        client,
        `SELECT toString(bucket) AS b, route, user_id, model_served, provider, tier,
           model_requested, sum(requests) AS n, sum(failed_requests) AS failed
         FROM requests_routes_hourly GROUP BY ${requestKeys} ORDER BY ${requestKeys}`,
      );
      const requestsRaw = await rows<Record<string, string | number>>(
        client,
        `SELECT toString(toStartOfHour(occurred_at)) AS b, route, user_id, model_served,
           provider, tier, model_requested, count() AS n, countIf(status != 'success') AS failed
         FROM request_completed_events FINAL WHERE route != ''
         GROUP BY ${requestKeys} ORDER BY ${requestKeys}`,
      );
      assert.ok(requestsRaw.length > 0);
      assert.deepEqual(requestsRollup, requestsRaw);
      // Latency states take every request, route '' too.
      const [latency] = await rows<{ n: string }>(
        client,
        'SELECT toString(countMerge(requests)) AS n FROM latency_routes_hourly',
      );
      const [completed] = await rows<{ n: string }>(
        client,
        'SELECT toString(count()) AS n FROM request_completed_events FINAL',
      );
      assert.equal(latency.n, completed.n);
    });
  });

  it("a database of migration 010 keeps its history: earlier usage groups under ''", async () => {
    await withDatabase(10, async (client) => {
      // Usage a sink stored with routes before the rollups by route existed.
      const routed = ['usage.recorded', 'request.completed'];
      // As a sink of that release wrote it: without the later web-search column (012).
      const before = buildWorkload(30).events.filter((e) => routed.includes(e.type));
      for (const [table, tableRows] of toRowsByTable(before)) {
        const values = tableRows.map(({ web_search_requests: _later, ...row }) => row);
        await client.insert({ table, values, format: 'JSONEachRow' });
      }
      assert.deepEqual((await migrate(client)).applied, [
        '011_route_rollups',
        '012_web_searches',
        '013_budget_state_order',
      ]);
      const writer = new ClickHouseUsageWriter(client);
      const after = buildWorkload(30)
        .events.filter((e) => routed.includes(e.type))
        .map((e) => ({ ...e, eventId: `${e.eventId}-later`, route: 'later' }) as GatewayEvent);
      await writer.write(after);

      const analytics = new ClickHouseUsageAnalytics(client);
      for (const bucket of ['hour', 'day'] as const) {
        const all = await analytics.usage({ ...range, bucket, groupBy: 'none', filters: {} });
        const byRoute = await analytics.usage({ ...range, bucket, groupBy: 'route', filters: {} });
        const requests = (key: string) =>
          byRoute.series.filter((p) => p.key === key).reduce((a, p) => a + p.requests, 0);
        assert.equal(requests(''), 30, `${bucket}: stored before 011`);
        assert.equal(requests('later'), 30, bucket);
        assert.deepEqual([...new Set(byRoute.series.map((p) => p.key))].sort(), ['', 'later']);
        assert.equal(byRoute.totals.requests, all.totals.requests);
        assert.ok(Math.abs(byRoute.totals.costDollars - all.totals.costDollars) < 1e-9);
        assert.equal(byRoute.totals.inputTokens, all.totals.inputTokens);
        assert.equal(byRoute.totals.cacheWriteInputTokens, all.totals.cacheWriteInputTokens);
        assert.ok(all.totals.webSearchRequests > 0, 'the later usage ran web searches');
        assert.equal(byRoute.totals.webSearchRequests, all.totals.webSearchRequests);
        // Within one operation, too.
        const chat = await analytics.usage({
          ...range,
          bucket,
          groupBy: 'route',
          filters: { operation: 'chat' },
        });
        const chatAll = await analytics.usage({
          ...range,
          bucket,
          groupBy: 'none',
          filters: { operation: 'chat' },
        });
        assert.equal(chat.totals.requests, chatAll.totals.requests);
        assert.ok(chat.series.some((p) => p.key === ''));
      }
      const rates = await analytics.rates({ ...range, filters: { route: 'later' } });
      assert.equal(rates.requests, 30);
    });
  });
});
