// The usage-sink service as a process against a real ClickHouse: migrations applied at
// start (and only once across restarts), readiness reporting ClickHouse, the analytics
// API and the usage page on PORT.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient, sqlIdentifier } from '@aigw/infra';
import { startClickHouse, type RealService } from '@aigw/testing';
import { startApp } from '@aigw/testing/processes';

describe('the usage-sink service', () => {
  let server: RealService;
  let admin: ClickHouseClient;
  const database = sqlIdentifier(`it_svc_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'aigw-usage-sink-'));

  before(async () => {
    server = await startClickHouse();
    admin = createClickHouseClient({ url: server.url });
    await admin.command({ query: `CREATE DATABASE ${database}` });
  });
  after(async () => {
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin?.close();
    await server?.stop();
  });

  const start = () =>
    startApp(
      'usage-sink',
      { CLICKHOUSE_URL: server.url, CLICKHOUSE_DATABASE: database, AI_GATEWAY_DATA_DIR: dataDir },
      90_000,
    );

  it('migrates at start, once, and serves the analytics API', async () => {
    for (let run = 0; run < 2; run++) {
      const app = await start();
      try {
        const ready = await fetch(`http://127.0.0.1:${app.adminPort}/readyz`);
        assert.equal(ready.status, 200);
        const body = (await ready.json()) as { checks: Record<string, string> };
        assert.equal(body.checks.clickhouse, 'reachable');

        const rates = await fetch(`${app.baseUrl}/v1/analytics/rates`);
        assert.equal(rates.status, 200);
        assert.equal(((await rates.json()) as { requests: number }).requests, 0);
        const bad = await fetch(`${app.baseUrl}/v1/analytics/usage?bucket=minute`);
        assert.equal(bad.status, 400);
        assert.equal((await fetch(`${app.baseUrl}/usage`)).status, 200);
      } finally {
        await app.stop();
      }
    }
    const applied = await (
      await admin.query({
        query: `SELECT name FROM ${database}.aigw_schema_migrations ORDER BY version`,
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>();
    assert.deepEqual(
      applied.map((r) => r.name),
      [
        'usage_events',
        'request_events',
        'rollups',
        'usage_cache_writes',
        'cache_write_rollups',
        'usage_operations',
        'budget_adjustments',
        'budget_adjustment_operators',
        'request_payloads',
        'backend_routes',
        'route_rollups',
        'web_searches',
        'budget_state_order',
      ],
    );
  });
});
