import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig } from '@aigw/config';
import { LimitKind } from '@aigw/contracts';
import { modelLimits, userLimits } from './budget-limits';
import { MINUTE } from './budget-window';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: any, provider: openai}]
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000}
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error('config');
const route = parsed.config.routes[0];

describe('modelLimits', () => {
  it("binds a configured model's tokens per minute, counted in total tokens", () => {
    assert.deepEqual(
      modelLimits(route, 'gpt-4-turbo').map(({ kind, subject, unit, limit }) => ({
        kind,
        subject,
        unit,
        limit,
      })),
      [
        {
          kind: LimitKind.ModelTokensPerMinute,
          subject: 'gpt-4-turbo',
          unit: 'totalTokens',
          limit: 2000,
        },
      ],
    );
    assert.deepEqual(modelLimits(route, 'gpt-4'), []);
  });

  it('takes no limit from a model named like an Object property', () => {
    // A wildcard route serves any name a client sends.
    for (const model of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      assert.deepEqual(modelLimits(route, model), [], model);
    }
  });

  it("binds a model's requests per minute beside its tokens, or alone", () => {
    const requests = routeOf(`
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000, requestsPerMinute: 30}
      gpt-4o: {requestsPerMinute: 5}
`);
    const summary = (model: string) =>
      modelLimits(requests, model).map(({ kind, unit, limit, window }) => ({
        kind,
        unit,
        limit,
        window,
      }));
    assert.deepEqual(summary('gpt-4-turbo'), [
      { kind: LimitKind.ModelTokensPerMinute, unit: 'totalTokens', limit: 2000, window: MINUTE },
      { kind: LimitKind.ModelRequestsPerMinute, unit: 'requests', limit: 30, window: MINUTE },
    ]);
    assert.deepEqual(summary('gpt-4o'), [
      { kind: LimitKind.ModelRequestsPerMinute, unit: 'requests', limit: 5, window: MINUTE },
    ]);
  });
});

describe('userLimits', () => {
  it("binds the caller's requests per minute, counted in requests", () => {
    const requests = routeOf(`
  tokenRateLimit:
    perUser: {inputTokensPerMinute: 1000, requestsPerMinute: 3}
`);
    const limits = userLimits({ route: requests, userKey: 'alice' });
    assert.deepEqual(
      limits.map(({ kind, subject, unit, limit, window }) => ({
        kind,
        subject,
        unit,
        limit,
        window,
      })),
      [
        {
          kind: LimitKind.UserInputTokensPerMinute,
          subject: 'alice',
          unit: 'inputTokens',
          limit: 1000,
          window: MINUTE,
        },
        {
          kind: LimitKind.UserRequestsPerMinute,
          subject: 'alice',
          unit: 'requests',
          limit: 3,
          window: MINUTE,
        },
      ],
    );
    assert.deepEqual(
      userLimits({ route, userKey: 'alice' }),
      [],
      'no request limit unless configured',
    );
  });
});

function routeOf(policy: string) {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: any, provider: openai}]
${policy}`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config.routes[0];
}
