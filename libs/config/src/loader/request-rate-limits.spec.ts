// tokenRateLimit.*.requestsPerMinute (an extension to the spec): calls per minute.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

function routeYaml(rateLimit: string): string {
  return `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: a, provider: openai}]
  tokenRateLimit:
${rateLimit}`;
}

function errorsOf(rateLimit: string): string[] {
  return refusalsOf(routeYaml(rateLimit), options).map((e) => e.replace(/^.*?: (spec\.)/, '$1'));
}

describe('tokenRateLimit requestsPerMinute', () => {
  it('normalizes per-user and per-model request limits beside the token ones', () => {
    const result = parseGatewayConfig(
      routeYaml(`    perUser: {inputTokensPerMinute: 1000, requestsPerMinute: 3}
    perModel:
      gpt-4o: {tokensPerMinute: 2000, requestsPerMinute: 60}
      gpt-4o-mini: {requestsPerMinute: 10}
`),
      options,
    );
    assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.format()).join('\n'));
    assert.deepEqual(result.config.routes[0].tokenRateLimit, {
      perUser: { inputTokensPerMinute: 1000, requestsPerMinute: 3 },
      perModel: {
        'gpt-4o': { tokensPerMinute: 2000, requestsPerMinute: 60 },
        'gpt-4o-mini': { requestsPerMinute: 10 },
      },
    });
  });

  it('refuses anything but a whole number of requests >= 0, naming the field', () => {
    for (const bad of ['-1', '2.5', 'ten']) {
      assert.deepEqual(
        errorsOf(`    perUser: {requestsPerMinute: ${bad}}
    perModel:
      gpt-4o: {requestsPerMinute: ${bad}}
`),
        [
          'spec.tokenRateLimit.perUser.requestsPerMinute: expected a whole number of requests >= 0 (0 allows none)',
          'spec.tokenRateLimit.perModel["gpt-4o"].requestsPerMinute: expected a whole number of requests >= 0 (0 allows none)',
        ],
        bad,
      );
    }
  });

  it('a per-model entry still needs a limit: tokensPerMinute or requestsPerMinute', () => {
    assert.deepEqual(errorsOf(`    perModel:\n      gpt-4o: {}\n`), [
      'spec.tokenRateLimit.perModel["gpt-4o"].tokensPerMinute: is required (or requestsPerMinute)',
    ]);
    assert.deepEqual(errorsOf(`    perModel:\n      gpt-4o: {tokensPerMinute: 0.5}\n`), [
      'spec.tokenRateLimit.perModel["gpt-4o"].tokensPerMinute: expected a whole number of tokens >= 0 (0 allows none)',
    ]);
  });
});
