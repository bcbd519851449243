import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { LocalBudgetStore } from '@aigw/budget-core';
import {
  BudgetState,
  createTokenUsageRecorded,
  LimitKind,
  UsageSource,
  type AlertRaised,
  type BudgetStateChanged,
  type EventPublisher,
  type GatewayEvent,
} from '@aigw/contracts';
import { MetricsRegistry } from '@aigw/observability';
import { WebhookAlertNotifier } from './alert-notifier';
import { BudgetSettler } from './budget-settler';

function configFrom(yaml: string): GatewayConfig {
  const result = parseGatewayConfig(yaml, { missingSecrets: 'warn', env: {} });
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, provider: openai, model: gpt-4-turbo}
  tokenBudget:
    perUser: {limit: 100, period: 30d}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 150}
  costControl:
    maxDailyCostPerUser: 10.00
    alertThreshold: 8.00
    modelPricing:
      gpt-4-turbo: {inputPer1k: 0.01, outputPer1k: 0.03}
`);

// The spec's enterprise plan: no token budget, an alert at $1000 of spend a day.
const UNLIMITED = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, provider: openai, model: gpt-4-turbo}
  userTiers:
  - name: enterprise
    selector: {header: x-plan, value: enterprise}
    tokenBudget: {unlimited: true}
    costTracking: {enabled: true, alertThreshold: 1000}
  costControl:
    modelPricing:
      gpt-4-turbo: {inputPer1k: 0.01, outputPer1k: 0.03}
`);

class Captured implements EventPublisher {
  readonly events: GatewayEvent[] = [];
  publish(event: GatewayEvent): void {
    this.events.push(event);
  }
  async flush(): Promise<void> {}
}

function usage(
  user: string,
  tokens: number,
  dollars: number,
  occurredAt = new Date(),
  tier?: string,
) {
  return createTokenUsageRecorded(
    {
      ...(tier ? { tier } : {}),
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
      costDollars: dollars,
      weightedTokenCost: tokens,
      cacheHit: false,
    },
    { occurredAt },
  );
}

function setup() {
  const store = new LocalBudgetStore(':memory:');
  const published = new Captured();
  const alerts: AlertRaised[] = [];
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const settler = new BudgetSettler(() => CONFIG, store, published, metrics, {
    notify: async (alert) => void alerts.push(alert),
  });
  return { store, published, alerts, metrics, settler };
}

const states = (events: GatewayEvent[]) =>
  events.filter((e): e is BudgetStateChanged => e.type === 'budget.state');

describe('BudgetSettler', () => {
  it('announces exhaustion once, when a limit is reached', async () => {
    const { published, settler } = setup();
    await settler.handle([usage('u1', 60, 0.1)]);
    assert.equal(states(published.events).length, 0);
    await settler.handle([usage('u1', 50, 0.1)]);
    const exhausted = states(published.events);
    assert.equal(exhausted.length, 1);
    assert.equal(exhausted[0].state, BudgetState.Exhausted);
    assert.equal(exhausted[0].limitKind, LimitKind.TokenBudgetPerUser);
    assert.equal(exhausted[0].budgetKey, 'u1');
    await settler.handle([usage('u1', 5, 0.1)]);
    assert.equal(states(published.events).length, 1, 'no repeat while it stays exhausted');
  });

  it('applies an event once, however often it is delivered', async () => {
    const { metrics, settler } = setup();
    const event = usage('u2', 40, 0.1);
    await settler.handle([event, event]);
    await settler.handle([event]);
    const text = await metrics.metrics();
    assert.match(
      text,
      /ai_gateway_budget_remaining\{budget_key="u2",limit="tokenBudget.perUser"\} 60/,
    );
  });

  it('shows the remaining budget after the last event of a batch', async () => {
    const { metrics, settler } = setup();
    await settler.handle([usage('u3', 10, 0.1), usage('u3', 20, 0.1), usage('u3', 5, 0.1)]);
    assert.match(
      await metrics.metrics(),
      /ai_gateway_budget_remaining\{budget_key="u3",limit="tokenBudget.perUser"\} 65/,
    );
    await settler.settle(usage('u3', 15, 0.1));
    assert.match(
      await metrics.metrics(),
      /ai_gateway_budget_remaining\{budget_key="u3",limit="tokenBudget.perUser"\} 50/,
    );
  });

  it('exhausts a per-model limit for every caller of that model', async () => {
    const { published, settler } = setup();
    await settler.handle([usage('a', 80, 0), usage('b', 80, 0)]);
    const model = states(published.events).find(
      (e) => e.limitKind === LimitKind.ModelTokensPerMinute,
    );
    assert.ok(model);
    assert.equal(model.budgetKey, 'gpt-4-turbo');
  });

  it('raises the dollar alert when the threshold is crossed, and calls the notifier', async () => {
    const { published, alerts, settler } = setup();
    await settler.handle([usage('spender', 2, 5)]);
    assert.equal(alerts.length, 0);
    await settler.handle([usage('spender', 2, 4)]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].threshold, 8);
    assert.equal(alerts[0].limit, 10);
    assert.ok(published.events.some((e) => e.type === 'alert.raised'));
    await settler.handle([usage('spender', 2, 0.5)]);
    assert.equal(alerts.length, 1, 'one alert per crossing');
  });

  it('an unlimited tier with costTracking: the alert and the webhook call, never an exhaustion', async () => {
    const hooks: { budgetKey: string; limitKind: string; used: number }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        hooks.push(JSON.parse(body) as (typeof hooks)[number]);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const failures: string[] = [];
      const published = new Captured();
      const settler = new BudgetSettler(
        () => UNLIMITED,
        new LocalBudgetStore(':memory:'),
        published,
        new MetricsRegistry({ collectDefaultMetrics: false }),
        new WebhookAlertNotifier(`http://127.0.0.1:${port}/hook`, (f) => failures.push(f)),
      );
      const alerts = () => published.events.filter((e) => e.type === 'alert.raised');
      const day = new Date();
      // Far more tokens than any budget of this file, and $600 + $500 of spend in a day.
      await settler.handle([usage('corp', 10_000_000, 600, day, 'enterprise')]);
      assert.equal(alerts().length, 0, 'under the threshold');
      await settler.handle([usage('corp', 10_000_000, 500, day, 'enterprise')]);
      const [alert] = alerts();
      assert.ok(alert?.type === 'alert.raised');
      assert.equal(alert.limitKind, LimitKind.TierCostTracking);
      assert.equal(alert.tier, 'enterprise');
      assert.equal(alert.threshold, 1000);
      assert.equal(alert.used, 1100);
      assert.equal(alert.limit, undefined, 'cost tracking caps nothing');
      // The webhook call is off the settlement path: wait (boundedly) for it.
      for (const deadline = Date.now() + 10_000; hooks.length === 0 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(failures, []);
      assert.equal(hooks.length, 1);
      assert.equal(hooks[0].budgetKey, 'corp');
      assert.equal(hooks[0].limitKind, LimitKind.TierCostTracking);
      assert.equal(hooks[0].used, 1100);

      await settler.handle([usage('corp', 10_000_000, 5_000, day, 'enterprise')]);
      assert.equal(alerts().length, 1, 'one alert per crossing');
      assert.deepEqual(
        states(published.events).filter((e) => e.state === BudgetState.Exhausted),
        [],
        'an unlimited tier is never exhausted',
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('counts spend past a limit as overshoot', async () => {
    const { metrics, settler } = setup();
    await settler.handle([usage('over', 90, 0), usage('over', 30, 0)]);
    const text = await metrics.metrics();
    assert.match(
      text,
      /ai_gateway_reservation_overshoot_tokens_total\{limit="tokenBudget.perUser"\} 20/,
    );
  });
});
