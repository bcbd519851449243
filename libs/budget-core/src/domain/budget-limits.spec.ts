import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig } from '@aigw/config';
import { LimitKind } from '@aigw/contracts';
import { modelLimits } from './budget-limits';

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
});
