// Durations that become timers (a backend's timeouts, failover.retryDelay,
// deduplication.window) are bounded: a Node timer longer than 2^31-1 ms (24.8 days) fires
// after 1 ms, so "30d" would end every call at once. A request or first-byte timeout of 0
// would do the same.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadedOf } from './loaded-config-fixture';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const route = (spec: string) =>
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\n' +
  `spec:\n${spec}`;
const withBackend = (fields: string) =>
  route(`  backends:\n  - {name: a, provider: openai, model: gpt-4, ${fields}}\n`);
const ONE_BACKEND = '  backends:\n  - {name: a, provider: openai, model: gpt-4}\n';

function loaded(text: string) {
  return loadedOf(text, options).config.routes[0];
}

describe('durations that become timers', () => {
  it('take up to 24d', () => {
    const r = loaded(
      route(
        '  backends:\n  - {name: a, provider: openai, model: gpt-4, requestTimeout: 24d, firstByteTimeout: 1h30m, streamIdleTimeout: 24d}\n' +
          '  failover: {retryDelay: 24d}\n  deduplication: {window: 24d}\n',
      ),
    );
    const day = 86_400_000;
    assert.equal(r.backends[0].requestTimeoutMs, 24 * day);
    assert.equal(r.backends[0].firstByteTimeoutMs, 5_400_000);
    assert.equal(r.backends[0].streamIdleTimeoutMs, 24 * day);
    assert.equal(r.failover.retryDelayMs, 24 * day);
    assert.equal(r.deduplication.windowMs, 24 * day);
  });

  it('longer than 24d is an error naming the field', () => {
    for (const field of ['requestTimeout', 'firstByteTimeout', 'streamIdleTimeout']) {
      const errors = refusalsOf(withBackend(`${field}: 30d`), options);
      assert.deepEqual(errors, [
        `gw.yaml:7: document 1 (AIGatewayRoute "r"): spec.backends[0].${field}: expected at most 24d (a longer timer would fire at once)`,
      ]);
    }
    assert.deepEqual(refusalsOf(route(`${ONE_BACKEND}  failover: {retryDelay: 600h}\n`), options), [
      'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.failover.retryDelay: expected at most 24d (a longer timer would fire at once)',
    ]);
    assert.deepEqual(refusalsOf(route(`${ONE_BACKEND}  deduplication: {window: 4w}\n`), options), [
      'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.deduplication.window: expected at most 24d (a longer timer would fire at once)',
    ]);
  });

  it('a request or first-byte timeout of 0 is an error', () => {
    assert.deepEqual(refusalsOf(withBackend('requestTimeout: 0s'), options), [
      'gw.yaml:7: document 1 (AIGatewayRoute "r"): spec.backends[0].requestTimeout: expected a duration above 0 (leave it out for the default, 5m)',
    ]);
    assert.deepEqual(refusalsOf(withBackend('firstByteTimeout: "0"'), options), [
      'gw.yaml:7: document 1 (AIGatewayRoute "r"): spec.backends[0].firstByteTimeout: expected a duration above 0 (leave it out for the default, 15s)',
    ]);
  });

  it('a retry delay or deduplication window of 0 stays allowed', () => {
    const r = loaded(
      route(`${ONE_BACKEND}  failover: {retryDelay: 0s}\n  deduplication: {window: 0s}\n`),
    );
    assert.equal(r.failover.retryDelayMs, 0);
    assert.equal(r.deduplication.windowMs, 0);
  });
});
