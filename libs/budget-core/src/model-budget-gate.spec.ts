import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig } from '@aigw/config';
import { LimitKind } from '@aigw/contracts';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { ExhaustionView } from './exhaustion-view';
import { bindLimit, modelLimits } from './domain/budget-limits';
import { modelBudgetGate } from './model-budget-gate';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, provider: openai, model: gpt-4-turbo}
  - {name: b, provider: openai, model: gpt-3.5-turbo, modelNameOverride: gpt-4-turbo}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000}
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error('config');
const route = parsed.config.routes[0];

describe('modelBudgetGate', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 15);

  it('refuses an exhausted per-model limit with a 429 and the rate-limit headers', () => {
    const view = new ExhaustionView();
    const [limit] = modelLimits(route, 'gpt-4-turbo').map((l) => bindLimit(l, now));
    assert.equal(limit.kind, LimitKind.ModelTokensPerMinute);
    view.markExhausted('gpt-4-turbo', limit.kind, limit.windowRef.id, limit.windowRef.endsAt);
    const gate = modelBudgetGate(view, () => now);

    const refusal = (() => {
      try {
        gate(route, 'gpt-4-turbo');
      } catch (error) {
        return error;
      }
      return assert.fail('the gate let an exhausted model through');
    })();
    assert.ok(refusal instanceof DataPlaneError);
    assert.equal(refusal.httpStatus, 429);
    assert.equal(refusal.trigger, 'budgetExceeded', 'failover may move on to the next backend');
    assert.equal(refusal.retryAfterMs, 45_000);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-tokens': '2000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '45s',
    });
  });

  it('refuses a model whose requests per minute are spent, with the request headers', () => {
    const both = parseGatewayConfig(
      `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: a, provider: openai, model: gpt-4-turbo}]
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000, requestsPerMinute: 3}
`,
      { missingSecrets: 'warn', env: {} },
    );
    if (!both.ok) throw new Error('config');
    const requestRoute = both.config.routes[0];
    const view = new ExhaustionView();
    const limit = modelLimits(requestRoute, 'gpt-4-turbo')
      .map((l) => bindLimit(l, now))
      .find((l) => l.kind === LimitKind.ModelRequestsPerMinute)!;
    view.markExhausted('gpt-4-turbo', limit.kind, limit.windowRef.id, limit.windowRef.endsAt);
    const refusal = (() => {
      try {
        modelBudgetGate(view, () => now)(requestRoute, 'gpt-4-turbo');
      } catch (error) {
        return error;
      }
      return assert.fail('the gate let a model with no requests left through');
    })();
    assert.ok(refusal instanceof DataPlaneError);
    assert.equal(refusal.httpStatus, 429);
    assert.equal(refusal.trigger, 'budgetExceeded');
    assert.match(refusal.message, /tokenRateLimit\.perModel\.requestsPerMinute/);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '45s',
    });
  });

  it('lets through a model with room, or with no per-model limit', () => {
    const view = new ExhaustionView();
    const gate = modelBudgetGate(view, () => now);
    gate(route, 'gpt-4-turbo');
    view.markExhausted('gpt-3.5-turbo', LimitKind.ModelTokensPerMinute, 'any', now + 60_000);
    gate(route, 'gpt-3.5-turbo');
  });
});
