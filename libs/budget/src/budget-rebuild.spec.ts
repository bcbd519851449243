import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { LocalBudgetStore } from '@aigw/budget-core';
import { createTokenUsageRecorded, UsageSource, type GatewayEvent } from '@aigw/contracts';
import { MetricsRegistry } from '@aigw/observability';
import { DISCARDING_PUBLISHER } from '@aigw/contracts';
import { BudgetSettler } from './budget-settler';
import { rebuildBalances } from './budget-rebuild';

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
