// Several budget-service replicas settle one per-model limit: each owns some users'
// partitions, and every caller of a model spends its limit. A `remaining` one replica paced
// must not reopen the limit another announced spent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, ExhaustionView, LocalBudgetStore, modelLimits } from '@aigw/budget-core';
import { createTokenUsageRecorded, UsageSource, type BudgetStateChanged } from '@aigw/contracts';
import { configFromYaml, RecordingPublisher } from '@aigw/testing';
import { MetricsRegistry } from '@aigw/observability';
import { BudgetSettler } from './budget-settler';

const CONFIG = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, provider: openai, model: gpt-4-turbo}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 150}
`);

function usage(user: string, tokens: number, at: number) {
  return createTokenUsageRecorded(
    {
      requestId: 'r',
      partitionKey: user,
      userId: user,
      inputTokens: tokens / 2,
      outputTokens: tokens / 2,
      cachedInputTokens: 0,
      usageSource: UsageSource.Reported,
      modelRequested: 'gpt-4-turbo',
      modelServed: 'gpt-4-turbo',
      provider: 'openai',
      backend: 'primary',
      costDollars: 0,
      weightedTokenCost: tokens,
      cacheHit: false,
    },
    { occurredAt: new Date(at) },
  );
}

describe('BudgetSettler replicas sharing a per-model limit', () => {
  it('keeps the model marked spent when another replica announces its paced remaining late', async () => {
    const store = new LocalBudgetStore(':memory:');
    // One topic: every replica's announcements, in the order they were published.
    const topic = new RecordingPublisher();
    const replica = () =>
      new BudgetSettler(
        () => CONFIG,
        store,
        topic,
        new MetricsRegistry({ collectDefaultMetrics: false }),
        undefined,
        undefined,
        { remainingIntervalMs: 60_000 },
      );
    const [a, b] = [replica(), replica()];
    const at = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
    await b.handle([usage('bob', 20, at)]); // remaining 130, at once
    await b.handle([usage('bob', 20, at + 1)]); // remaining 110, paced: waits
    await a.handle([usage('alice', 120, at + 2)]); // 160 of 150: exhausted
    b.onRebalance(); // its interval ends (or its partitions move): the waiting one goes out

    const view = new ExhaustionView();
    for (const event of topic.events) if (event.type === 'budget.state') view.apply(event);
    const states = topic.events
      .filter((e): e is BudgetStateChanged => e.type === 'budget.state')
      .map((e) => `${e.state} ${e.remaining}`);
    assert.deepEqual(states, ['remaining 130', 'exhausted 0', 'remaining 110']);
    const [limit] = modelLimits(CONFIG.routes[0], 'gpt-4-turbo').map((l) => bindLimit(l, at));
    assert.equal(
      view.exhaustedUntil(limit.subject, limit.kind, limit.windowRef.id, at + 3, limit.limit),
      limit.windowRef.endsAt,
      'still spent: 160 of 150 were used',
    );
  });
});
