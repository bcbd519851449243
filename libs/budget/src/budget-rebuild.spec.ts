import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { LocalBudgetStore } from '@aigw/budget-core';
import { createTokenUsageRecorded, UsageSource, type GatewayEvent } from '@aigw/contracts';
import { MetricsRegistry } from '@aigw/observability';
import { DISCARDING_PUBLISHER } from '@aigw/contracts';
import { BudgetSettler } from './budget-settler';
import { rebuildBalances, restoreShortfalls } from './budget-rebuild';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: openai, model: m}]
  tokenBudget: {perUser: {limit: 1000, period: 30d}}
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error('config');
const config: GatewayConfig = parsed.config;

const events: GatewayEvent[] = Array.from({ length: 10 }, (_, i) =>
  createTokenUsageRecorded({
    requestId: `r${i}`,
    partitionKey: `u${i % 3}`,
    userId: `u${i % 3}`,
    inputTokens: 5,
    outputTokens: 5,
    cachedInputTokens: 0,
    usageSource: UsageSource.Reported,
    modelRequested: 'm',
    modelServed: 'm',
    provider: 'openai',
    backend: 'b',
    costDollars: 0,
    weightedTokenCost: 10,
    cacheHit: false,
  }),
);
const log = {
  replay: async (onBatch: (e: readonly GatewayEvent[]) => Promise<void>) => onBatch(events),
};

async function liveStore(): Promise<LocalBudgetStore> {
  const live = new LocalBudgetStore(':memory:');
  const settler = new BudgetSettler(
    () => config,
    live,
    DISCARDING_PUBLISHER,
    new MetricsRegistry({ collectDefaultMetrics: false }),
  );
  await settler.handle([...events, ...events]); // redelivered: applied once
  return live;
}

describe('rebuildBalances', () => {
  it('matches the live balances built from the same log', async () => {
    const report = await rebuildBalances(
      () => config,
      log,
      new LocalBudgetStore(':memory:'),
      await liveStore(),
    );
    assert.equal(report.events, 10);
    assert.equal(report.keys, 3);
    assert.deepEqual(report.mismatches, []);
  });

  it('reports a live balance that drifted from the log', async () => {
    const live = await liveStore();
    const [key] = (
      await rebuildBalances(() => config, log, new LocalBudgetStore(':memory:'), live)
    ).mismatches.map((m) => m.key);
    assert.equal(key, undefined);
    // Usage that the log does not hold (a double-applied event, say) shows up as drift.
    const drifted = await liveStore();
    const probe = await rebuildBalances(
      () => config,
      { replay: async () => undefined },
      new LocalBudgetStore(':memory:'),
      drifted,
    );
    assert.equal(probe.keys, 0);
    const report = await rebuildBalances(
      () => config,
      { replay: async (onBatch) => onBatch(events.slice(0, 9)) },
      new LocalBudgetStore(':memory:'),
      drifted,
    );
    assert.equal(report.mismatches.length, 1);
    assert.equal(report.mismatches[0].live - report.mismatches[0].rebuilt, 10);
  });
});

describe('restoreShortfalls', () => {
  // The rebuild read usage the budget service had not settled yet (it lagged), so the
  // comparison found the live balances short by it; the restore waits for the service to
  // catch up, which settles that usage. Adding what the comparison found then counts it twice.
  it('adds only what the live store still lacks when it restores, not what the comparison found', async () => {
    const live = new LocalBudgetStore(':memory:');
    const report = await rebuildBalances(() => config, log, new LocalBudgetStore(':memory:'), live);
    assert.deepEqual(
      report.mismatches.map((m) => [m.rebuilt, m.live]),
      [
        [40, 0],
        [30, 0],
        [30, 0],
      ],
    );
    // The service catches up meanwhile: it settles the first user's usage.
    const settler = new BudgetSettler(
      () => config,
      live,
      DISCARDING_PUBLISHER,
      new MetricsRegistry({ collectDefaultMetrics: false }),
    );
    await settler.handle(events.filter((e) => e.partitionKey === 'u0'));
    const now = Date.now();
    const outcome = await restoreShortfalls(live, report.mismatches, 'run-1', now);
    const used = await live.balances(
      report.mismatches.map(({ key, limit }) => ({ key, limit })),
      now,
    );
    assert.deepEqual(
      used.map((b) => b.used),
      [40, 30, 30],
      'each balance as the log says, none counted twice',
    );
    assert.deepEqual(outcome, {
      restored: report.mismatches.slice(1).map(({ key }) => ({ key, added: 30 })),
      caughtUp: [report.mismatches[0].key],
    });
  });
});
