import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { ClickHouseUsageAnalytics } from './clickhouse-usage.analytics';

// A page of spenders adds each user's web searches: that second query must read the page's
// users only, not every user after the cursor (paging N users would read about N² rows).

const range = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z') };

/** Answers the spenders query with `page`'s users, records every query sent. */
function pageClient(page: readonly string[], sent: string[]): ClickHouseClient {
  const client = {
    query: async ({ query }: { query: string }) => {
      sent.push(query);
      const spenders = !query.includes('web_searches_hourly');
      return { json: async () => (spenders ? page.map((user_id) => ({ user_id })) : []) };
    },
  };
  return client as unknown as ClickHouseClient;
}

test("a page's web-search query reads that page's users only", async () => {
  const sent: string[] = [];
  const analytics = new ClickHouseUsageAnalytics(pageClient(['u-01', "o'b"], sent));
  await analytics.topSpenders({
    ...range,
    limit: 2,
    orderBy: 'user',
    afterUser: 'u-00',
    filters: { route: 'main' },
  });
  const searches = sent.filter((query) => query.includes('web_searches_hourly'));
  assert.equal(searches.length, 1);
  assert.match(searches[0] ?? '', /AND user_id IN \('u-01', 'o\\'b'\)\s/);
  assert.match(searches[0] ?? '', /route = 'main'/);
});

test('an empty page asks for no web searches', async () => {
  const sent: string[] = [];
  const analytics = new ClickHouseUsageAnalytics(pageClient([], sent));
  await analytics.topSpenders({ ...range, limit: 2, orderBy: 'user', filters: {} });
  assert.equal(sent.filter((query) => query.includes('web_searches_hourly')).length, 0);
});
