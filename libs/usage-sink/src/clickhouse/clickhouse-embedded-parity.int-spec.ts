// The same events answered alike by ClickHouse and by the embedded SQLite store, to the
// number: both add floats (dollars, weighted tokens, latencies) in their own orders.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  CompletionStatus,
  createRequestCompleted,
  createTokenUsageRecorded,
  GatewayEndpoint,
  UsageSource,
  type GatewayEvent,
} from '@aigw/contracts';
import { createClickHouseClient, migrate, sqlIdentifier } from '@aigw/infra';
import { startClickHouse, type RealService } from '@aigw/testing';
import { SqliteUsageStore } from '../embedded/sqlite-usage.store';
import {
  parseLatencyQuery,
  parseTopSpendersQuery,
  parseUsageQuery,
} from '../http/analytics-query.dto';
import { ClickHouseUsageAnalytics } from './clickhouse-usage.analytics';
import { ClickHouseUsageWriter } from './clickhouse-usage.writer';

const USERS = ['alice', 'bob', 'carol', 'dave'];
const START = Date.UTC(2026, 2, 1);
const RANGE = { from: '2026-03-01T00:00:00Z', to: '2026-03-04T00:00:00Z' };

/** Requests over three days at list prices ($2.50 / $10 per million tokens). */
function pricedRequests(count: number): GatewayEvent[] {
  let seed = 7;
  const next = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * below);
  };
  const events: GatewayEvent[] = [];
  for (let i = 0; i < count; i++) {
    const user = USERS[i % USERS.length];
    const model = i % 3 === 0 ? 'claude' : 'gpt';
    const at = { occurredAt: new Date(START + next(3 * 86_400_000)) };
    const inputTokens = 1 + next(3000);
    const outputTokens = 1 + next(500);
    const served = { modelRequested: model, modelServed: model, provider: 'p', backend: 'b' };
    events.push(
      createTokenUsageRecorded(
        {
          requestId: `r${i}`,
          partitionKey: user,
          userId: user,
          inputTokens,
          outputTokens,
          cachedInputTokens: 0,
          usageSource: UsageSource.Reported,
          ...served,
          costDollars: inputTokens * 0.0000025 + outputTokens * 0.00001,
          weightedTokenCost: inputTokens + outputTokens * 4.1,
          cacheHit: false,
        },
        at,
      ),
      createRequestCompleted(
        {
          requestId: `r${i}`,
          partitionKey: user,
          userId: user,
          endpoint: GatewayEndpoint.ChatCompletions,
          status: CompletionStatus.Success,
          httpStatus: 200,
          latencyMs: next(20_000) / 7,
          ...served,
          stream: false,
          cached: false,
          attempts: 1,
        },
        at,
      ),
    );
  }
  return events;
}

describe('ClickHouse and the embedded store, given the same events', () => {
  let server: RealService;
  let admin: ClickHouseClient;
  let client: ClickHouseClient;
  let database: string;
  let embedded: SqliteUsageStore;
  let clickhouse: ClickHouseUsageAnalytics;
  const events = pricedRequests(5000);

  before(async () => {
    server = await startClickHouse();
    database = sqlIdentifier(`it_parity_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
    admin = createClickHouseClient({ url: server.url });
    await admin.command({ query: `CREATE DATABASE ${database}` });
    client = createClickHouseClient({ url: server.url, database });
    await migrate(client);
    embedded = new SqliteUsageStore(join(mkdtempSync(join(tmpdir(), 'aigw-parity-')), 'a.db'));
    // ClickHouse in the sink's batches (each insert its own rollup rows), SQLite at once.
    const writer = new ClickHouseUsageWriter(client);
    for (let i = 0; i < events.length; i += 700) await writer.write(events.slice(i, i + 700));
    await embedded.write(events);
    clickhouse = new ClickHouseUsageAnalytics(client);
  });

  after(async () => {
    embedded?.close();
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await Promise.allSettled([client?.close(), admin?.close()]);
    await server?.stop();
  });

  for (const bucket of ['hour', 'day'] as const) {
    for (const groupBy of ['none', 'user', 'model'] as const) {
      it(`answers usage by ${bucket}, grouped by ${groupBy}, to the same dollars and weighted tokens`, async () => {
        const query = parseUsageQuery({ ...RANGE, bucket, groupBy });
        assert.deepEqual(await clickhouse.usage(query), await embedded.usage(query));
      });
    }
  }

  it('gives the same totals whatever the bucket size', async () => {
    const byHour = await clickhouse.usage(parseUsageQuery({ ...RANGE, bucket: 'hour' }));
    const byDay = await clickhouse.usage(parseUsageQuery({ ...RANGE, bucket: 'day' }));
    assert.deepEqual(byHour.totals, byDay.totals);
    // Exactly: in tenths of a micro-dollar, each request's price is a whole number.
    const tenthMicros = events
      .filter((event) => event.type === 'usage.recorded')
      .reduce((sum, usage) => sum + usage.inputTokens * 25 + usage.outputTokens * 100, 0);
    assert.equal(byHour.totals.costDollars, tenthMicros / 1e7);
  });

  it('answers top spenders alike', async () => {
    const query = parseTopSpendersQuery({ ...RANGE });
    assert.deepEqual(await clickhouse.topSpenders(query), await embedded.topSpenders(query));
  });

  it('answers latency alike', async () => {
    const query = parseLatencyQuery({ ...RANGE, groupBy: 'user' });
    assert.deepEqual(await clickhouse.latency(query), await embedded.latency(query));
  });
});
