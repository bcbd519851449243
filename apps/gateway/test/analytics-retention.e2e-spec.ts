import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BudgetAdjustmentAction,
  createBudgetAdjusted,
  createTokenUsageRecorded,
  UsageSource,
} from '@aigw/contracts';
import { until } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { SqliteUsageStore } from '@aigw/usage-sink';

// The all-in-one gateway with AI_GATEWAY_ANALYTICS_RETENTION_DAYS deletes the embedded
// analytics rows past it (here at start, as after a downtime), counts them in its metrics
// and keeps answering from the rows within it. Operators' budget adjustments, an audit
// trail, are never deleted.

const DAY_MS = 86_400_000;

function usageAt(atMs: number, i: number) {
  return createTokenUsageRecorded(
    {
      requestId: `seeded-${i}`,
      partitionKey: 'alice',
      userId: 'alice',
      inputTokens: 10,
      outputTokens: 2,
      cachedInputTokens: 0,
      usageSource: UsageSource.Reported,
      modelRequested: 'gpt-4o',
      modelServed: 'gpt-4o',
      provider: 'openai',
      backend: 'primary',
      costDollars: 0.001,
      weightedTokenCost: 12,
      cacheHit: false,
    },
    { occurredAt: new Date(atMs) },
  );
}

describe('analytics retention in the all-in-one gateway', () => {
  const upstream = new FakeOpenAiUpstream('retention');
  let gateway: AppProcess;
  const now = Date.now();
  const reset = createBudgetAdjusted(
    {
      partitionKey: 'alice',
      userKey: 'alice',
      action: BudgetAdjustmentAction.Reset,
      reason: 'runaway script',
      operator: 'sre-oncall',
    },
    { occurredAt: new Date(now - 10 * DAY_MS) },
  );

  before(async () => {
    await upstream.start();
    const dir = mkdtempSync(join(tmpdir(), 'aigw-retention-'));
    // Three requests and a budget reset from ten days ago, two requests from an hour ago,
    // stored by an earlier run.
    const seeded = new SqliteUsageStore(join(dir, 'data', 'analytics.db'));
    await seeded.write([
      ...[0, 1, 2].map((i) => usageAt(now - 10 * DAY_MS, i)),
      ...[3, 4].map((i) => usageAt(now - 3_600_000, i)),
      reset,
    ]);
    seeded.close();
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: retention}
spec:
  backends:
  - {name: primary, provider: openai-compatible, baseUrl: "${upstream.baseUrl}", model: gpt-4o}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_ANALYTICS_RETENTION_DAYS: '7',
    });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('deletes the rows older than the retention, counts them, and keeps the newer ones', async () => {
    const metric = async () => {
      const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
      return /^ai_gateway_analytics_expired_rows_total (\d+)/m.exec(text)?.[1];
    };
    await until('the three expired rows are counted', async () => (await metric()) === '3');
    assert.equal(await metric(), '3');
    assert.match(gateway.output(), /expired analytics rows deleted/);

    const query = new URLSearchParams({
      bucket: 'day',
      from: new Date(now - 30 * DAY_MS).toISOString(),
      to: new Date(now + DAY_MS).toISOString(),
    });
    const report = (await (
      await fetch(`${gateway.baseUrl}/v1/analytics/usage?${query.toString()}`)
    ).json()) as { totals: { requests: number } };
    assert.equal(report.totals.requests, 2);

    // The reset as old as the deleted requests is still there (and was not counted).
    const span = new URLSearchParams({
      from: new Date(now - 30 * DAY_MS).toISOString(),
      to: new Date(now + DAY_MS).toISOString(),
    });
    const adjustments = (await (
      await fetch(`${gateway.baseUrl}/v1/analytics/budget-adjustments?${span.toString()}`)
    ).json()) as { rows: { eventId: string; action: string; operator: string | null }[] };
    assert.deepEqual(
      adjustments.rows.map((r) => [r.eventId, r.action, r.operator]),
      [[reset.eventId, 'reset', 'sre-oncall']],
    );
  });
});
