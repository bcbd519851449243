// failover.retryAttempts and retry.maxAttempts have a ceiling: each attempt is a call to a
// backend, so 1000 meant one request could call failing backends 1000 times.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {} } as const;
const ROUTE =
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n' +
  '  backends:\n  - {name: openai, model: gpt-4}\n';

describe('attempt limits', () => {
  it('failover.retryAttempts above 10 is refused, naming the field and the limit', () => {
    const errors = refusalsOf(`${ROUTE}  failover:\n    retryAttempts: 1000\n`, options);
    assert.ok(
      errors.some((e) => /spec\.failover\.retryAttempts: .*at most 10/.test(e)),
      errors.join('\n'),
    );
  });

  it('retry.maxAttempts above 10 is refused, naming the field and the limit', () => {
    const errors = refusalsOf(`${ROUTE}  retry:\n    maxAttempts: 11\n`, options);
    assert.ok(
      errors.some((e) => /spec\.retry\.maxAttempts: .*at most 10/.test(e)),
      errors.join('\n'),
    );
  });

  it('the limit itself loads', () => {
    const result = parseGatewayConfig(
      `${ROUTE}  failover:\n    retryAttempts: 10\n  retry:\n    maxAttempts: 10\n`,
      options,
    );
    assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.format()).join('\n'));
  });
});
