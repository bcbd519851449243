// The all-in-one gateway with CLICKHOUSE_URL, started while ClickHouse does not answer (a
// restart or a scale-up during a ClickHouse outage): model calls must not wait on the
// analytics store. It starts, answers, and stores the usage of what it answered once
// ClickHouse answers (its migrations run then). It failed to start after a minute.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient, sqlIdentifier, sqlString } from '@aigw/infra';
import { CuttableProxy, metricSum, startClickHouse, until, type RealService } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayOnOneBackend, type AppProcess } from '@aigw/testing/processes';

describe('the all-in-one gateway started while ClickHouse does not answer', () => {
  const upstream = new FakeOpenAiUpstream('clickhouse-down');
  const database = sqlIdentifier(`it_chdown_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const user = `chdown-${randomUUID()}`;
  let clickhouse: RealService;
  let admin: ClickHouseClient;
  let proxy: CuttableProxy;
  let gateway: AppProcess | undefined;

  before(async () => {
    clickhouse = await startClickHouse();
    admin = createClickHouseClient({ url: clickhouse.url });
    await admin.command({ query: `CREATE DATABASE ${database}` });
    // A port of its own, closed until the test opens it: ClickHouse down.
    proxy = new CuttableProxy(new URL(clickhouse.url));
    await proxy.open();
    await proxy.cut();
    await upstream.start();
    gateway = await startGatewayOnOneBackend(upstream.baseUrl, {
      CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}`,
      CLICKHOUSE_DATABASE: database,
    });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
    await proxy?.cut();
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin?.close();
    await clickhouse?.stop();
  });

  const storedUsage = async (): Promise<number> => {
    const [row] = await (
      await admin.query({
        query: `SELECT count() AS n FROM ${database}.usage_events WHERE user_id = ${sqlString(user)}`,
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    return Number(row.n);
  };

  it('answers model calls, then stores their usage once ClickHouse answers', async () => {
    const response = await fetch(`${gateway!.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(response.status, 200, await response.text());
    const metrics = async () =>
      (await fetch(`http://127.0.0.1:${gateway!.adminPort}/metrics`)).text();
    await until(
      'the usage write to fail while ClickHouse is down',
      async () => metricSum(await metrics(), 'ai_gateway_usage_sink_write_failures_total') >= 1,
      { deadlineMs: 30_000 },
    );

    // The analytics API meanwhile: a 503 in its own shape, counted where an alert sees it.
    const usage = await fetch(`${gateway!.baseUrl}/v1/analytics/usage`);
    assert.equal(usage.status, 503);
    assert.deepEqual(await usage.json(), {
      error: { type: 'store_unavailable', message: 'the analytics store did not answer' },
    });
    assert.equal(
      metricSum(await metrics(), 'ai_gateway_analytics_query_failures_total', {
        store: 'clickhouse',
      }),
      1,
    );

    await proxy.open();
    await until(
      'its usage to be stored',
      async () => {
        try {
          return (await storedUsage()) === 1;
        } catch {
          return false; // the table is made by the migrations the gateway runs now
        }
      },
      { deadlineMs: 90_000 },
    );
    assert.equal(metricSum(await metrics(), 'ai_gateway_event_handler_dead_lettered_total'), 0);
  });
});
