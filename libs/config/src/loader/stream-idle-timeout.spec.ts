// A backend's streamIdleTimeout: parsed like its other timeouts, defaulted, and checked
// against its requestTimeout as firstByteTimeout is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const withBackend = (backend: string) =>
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\n' +
  `spec:\n  backends:\n  - ${backend}\n`;

function loaded(backend: string) {
  const result = parseGatewayConfig(withBackend(backend), options);
  if (!result.ok) assert.fail(result.errors.map((e) => e.format()).join('\n'));
  return { backend: result.config.routes[0].backends[0], warnings: result.warnings };
}

function errorsOf(backend: string): string[] {
  return refusalsOf(withBackend(backend), options);
}

describe('backend streamIdleTimeout', () => {
  it('is read as a duration', () => {
    const { backend, warnings } = loaded('{name: a, provider: openai, streamIdleTimeout: 30s}');
    assert.equal(backend.streamIdleTimeoutMs, 30_000);
    assert.ok(!warnings.some((w) => w.includes('streamIdleTimeout')), warnings.join('\n'));
  });

  it('defaults to 2m, cut without a warning to a shorter requestTimeout', () => {
    assert.equal(loaded('{name: a, provider: openai}').backend.streamIdleTimeoutMs, 120_000);
    const { backend, warnings } = loaded('{name: a, provider: openai, requestTimeout: 45s}');
    assert.equal(backend.streamIdleTimeoutMs, 45_000);
    assert.ok(!warnings.some((w) => w.includes('streamIdleTimeout')), warnings.join('\n'));
  });

  it('warns, as for firstByteTimeout, when set above requestTimeout', () => {
    const { backend, warnings } = loaded(
      '{name: a, provider: openai, requestTimeout: 1m, streamIdleTimeout: 90s}',
    );
    assert.equal(backend.streamIdleTimeoutMs, 90_000);
    assert.ok(
      warnings.some((w) =>
        w.includes(
          'backend "a": streamIdleTimeout (90000 ms) exceeds requestTimeout (60000 ms); the request timeout wins',
        ),
      ),
      warnings.join('\n'),
    );
  });

  it('a value that is no duration: the field path and what was expected', () => {
    const errors = errorsOf('{name: a, provider: openai, streamIdleTimeout: soon}');
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(
      errors[0],
      /spec\.backends\[0\]\.streamIdleTimeout: expected a duration such as "500ms", "5s"/,
    );
  });

  it('0 is refused: it would cut every stream at once', () => {
    const errors = errorsOf('{name: a, provider: openai, streamIdleTimeout: 0s}');
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(
      errors[0],
      /spec\.backends\[0\]\.streamIdleTimeout: expected a duration above 0 \(leave it out for the default, 2m\)/,
    );
  });
});
