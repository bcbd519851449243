// A budget or rate limit of 0 is kept as 0 (admission then allows nothing), never dropped
// as "no limit"; a negative one is refused naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

function routeYaml(value: string): string {
  return `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: a, provider: openai, model: gpt-4o}]
  tokenBudget:
    perUser: {limit: ${value}, period: 30d}
    perMinute: {limit: ${value}}
  tokenRateLimit:
    perUser:
      inputTokensPerMinute: ${value}
      outputTokensPerMinute: ${value}
      totalTokensPerDay: ${value}
      requestsPerMinute: ${value}
    perModel:
      gpt-4o: {tokensPerMinute: ${value}, requestsPerMinute: ${value}}
  costControl: {maxDailyCostPerUser: ${value}}
---
userTiers:
- name: frozen
  selector: {header: x-plan, value: frozen}
  tokenBudget: {daily: ${value}}
`;
}

describe('limits of 0', () => {
  it('keeps every limit of 0 as 0', () => {
    const result = parseGatewayConfig(routeYaml('0'), options);
    assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.format()).join('\n'));
    const [route] = result.config.routes;
    assert.equal(route.tokenBudget?.perUser?.limit, 0);
    assert.equal(route.tokenBudget?.perMinute?.limit, 0);
    assert.deepEqual(route.tokenRateLimit?.perUser, {
      inputTokensPerMinute: 0,
      outputTokensPerMinute: 0,
      totalTokensPerDay: 0,
      requestsPerMinute: 0,
    });
    assert.deepEqual(route.tokenRateLimit?.perModel, {
      'gpt-4o': { tokensPerMinute: 0, requestsPerMinute: 0 },
    });
    assert.equal(route.costControl?.maxDailyCostPerUser, 0);
    assert.deepEqual(result.config.userTiers[0].tokenBudget, { kind: 'daily', tokens: 0 });
  });

  it('refuses a negative limit, naming each field', () => {
    const errors = refusalsOf(routeYaml('-1'), options).map((e) =>
      e.replace(/^gw\.yaml:\d+: document \d+[^:]*: /, ''),
    );
    const tokens = 'expected a whole number of tokens >= 0 (0 allows none)';
    const requests = 'expected a whole number of requests >= 0 (0 allows none)';
    assert.deepEqual(errors.sort(), [
      `spec.costControl.maxDailyCostPerUser: expected US dollars (a number >= 0; 0 allows no spend)`,
      `spec.tokenBudget.perMinute.limit: ${tokens}`,
      `spec.tokenBudget.perUser.limit: ${tokens}`,
      `spec.tokenRateLimit.perModel["gpt-4o"].requestsPerMinute: ${requests}`,
      `spec.tokenRateLimit.perModel["gpt-4o"].tokensPerMinute: ${tokens}`,
      `spec.tokenRateLimit.perUser.inputTokensPerMinute: ${tokens}`,
      `spec.tokenRateLimit.perUser.outputTokensPerMinute: ${tokens}`,
      `spec.tokenRateLimit.perUser.requestsPerMinute: ${requests}`,
      `spec.tokenRateLimit.perUser.totalTokensPerDay: ${tokens}`,
      `userTiers[0].tokenBudget.daily: expected a whole number of tokens per day >= 0 (0 allows none)`,
    ]);
  });
});
