// An insert the client gave up on (its request timeout) keeps running on the server: the
// batch is then redelivered while it still writes. Against a real ClickHouse, the retry
// must not check before that insert is done and insert the same events again, which the
// rollups would count twice for good.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient, migrate, sqlIdentifier } from '@aigw/infra';
import { startClickHouse, type RealService } from '@aigw/testing';
import { usageEventAt } from '../testing/analytics-fixture';
import { ClickHouseUsageWriter } from './clickhouse-usage.writer';

let server: RealService;
const clients: ClickHouseClient[] = [];
const databases: string[] = [];

after(async () => {
  const [root] = clients;
  for (const name of databases) await root?.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  await Promise.allSettled(clients.map((c) => c.close()));
  await server?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rows(client: ClickHouseClient, query: string): Promise<number> {
  const [row] = await (await client.query({ query, format: 'JSONEachRow' })).json<{ n: string }>();
  return Number(row.n);
}

describe('a ClickHouse insert the sink timed out on', () => {
  it('is waited out before the redelivered batch is checked, so its events count once', async () => {
    server ??= await startClickHouse();
    const name = sqlIdentifier(`it_timeout_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
    const root = createClickHouseClient({ url: server.url });
    clients.push(root);
    await root.command({ query: `CREATE DATABASE ${name}` });
    databases.push(name);
    const normal = createClickHouseClient({ url: server.url, database: name });
    clients.push(normal);
    await migrate(normal);
    // A slow server: each one-row block of the insert takes a second in a view after the
    // raw table's write, so the insert's later rows land well after the client gave up.
    await normal.command({
      query: `CREATE MATERIALIZED VIEW slow_mv ENGINE = Null AS
              SELECT event_id, sleepEachRow(1) AS slept FROM usage_events`,
    });
    const impatient = createClient({
      url: server.url,
      database: name,
      request_timeout: 1_500,
      compression: { request: false, response: false },
      clickhouse_settings: { max_insert_block_size: '1', min_insert_block_size_rows: '1' },
      log: { level: ClickHouseLogLevel.OFF }, // the timeout is the point, not news
    });
    clients.push(impatient);

    const start = Date.parse('2026-03-04T00:00:00Z');
    const events = Array.from({ length: 4 }, (_, i) =>
      usageEventAt(new Date(start + i * 1_000), `slow-${i}`),
    );
    const writer = new ClickHouseUsageWriter(impatient);
    await assert.rejects(writer.write(events)); // the client's timeout; the server writes on
    // The bus redelivers the uncommitted batch, with its backoff, until a write succeeds.
    let failures = 0;
    for (;;) {
      try {
        await writer.write(events);
        break;
      } catch {
        failures++;
        assert.ok(failures < 40, 'the redelivered batch never got written');
        await sleep(250);
      }
    }
    // The first redeliveries came while the timed-out insert still ran, and were held back.
    assert.ok(failures > 0);
    // Whatever the server still runs of this database's inserts, it has finished.
    for (let i = 0; i < 40; i++) {
      const running = await rows(
        normal,
        `SELECT count() AS n FROM system.processes WHERE query LIKE '%INSERT INTO usage_events%'
           AND query NOT LIKE '%system.processes%'`,
      );
      if (running === 0) break;
      await sleep(250);
    }
    assert.equal(await rows(normal, 'SELECT sum(requests) AS n FROM usage_hourly'), events.length);
    assert.equal(await rows(normal, 'SELECT count() AS n FROM usage_events'), events.length);
  });
});
