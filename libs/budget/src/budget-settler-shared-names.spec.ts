// Two routes that each have a backend named `openai`: a usage event names its route, and
// the settler charges the limits of that route, not of the first route naming `openai`.
// An event of an older build names no route: it is charged as it was, by the name alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, userLimits } from '@aigw/budget-core';
import { createTokenUsageRecorded, LimitKind, UsageSource } from '@aigw/contracts';
import { configFromYaml } from '@aigw/testing';
import { settlerOf } from './testing/budget-settler-fixture';

// Route `chat` caps nothing in dollars; route `embed` caps each user at $10 a day.
const SHARED = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - {name: openai, provider: openai, model: gpt-4}
  costControl:
    modelPricing:
      gpt-4: {inputPer1k: 0.03, outputPer1k: 0.06}
---
kind: AIGatewayRoute
metadata: {name: embed}
spec:
  backends:
  - {name: openai, provider: openai, model: text-embedding-3-small}
  costControl:
    maxDailyCostPerUser: 10
    modelPricing:
      text-embedding-3-small: {inputPer1k: 0.5, outputPer1k: 0}
`);

/** An embedding's usage priced at the embed route's price ($0.002), by `route` if given. */
const embedding = (user: string, route?: string) =>
  createTokenUsageRecorded({
    requestId: `req-${user}`,
    partitionKey: user,
    userId: user,
    inputTokens: 4,
    outputTokens: 0,
    cachedInputTokens: 0,
    usageSource: UsageSource.Reported,
    modelRequested: 'text-embedding-3-small',
    modelServed: 'text-embedding-3-small',
    provider: 'openai',
    backend: 'openai',
    route,
    costDollars: 0.002,
    weightedTokenCost: 4,
    cacheHit: false,
    operation: 'embeddings',
  });

/** Dollars `user` spent today against the embed route's cap. */
async function spentOf(store: ReturnType<typeof settlerOf>['store'], user: string) {
  const embed = SHARED.routes.find((r) => r.name === 'embed')!;
  const [limit] = userLimits({ route: embed, userKey: user }).filter(
    (l) => l.kind === LimitKind.MaxDailyCostPerUser,
  );
  const now = Date.now();
  const [balance] = await store.balances([bindLimit(limit, now)], now);
  return balance.used;
}

describe('BudgetSettler: a backend name shared by two routes', () => {
  it("charges a usage to the limits of the route it names, not the first route's", async () => {
    const { store, settler } = settlerOf(SHARED);
    await settler.handle([embedding('alice', 'embed')]);
    assert.equal(await spentOf(store, 'alice'), 0.002);
  });

  it('charges an older event, which names no route, by the backend name alone', async () => {
    const { store, settler } = settlerOf(SHARED);
    await settler.handle([embedding('bob')]);
    // The first route naming `openai` (chat) caps no dollars: as such events always settled.
    assert.equal(await spentOf(store, 'bob'), 0);
  });
});
