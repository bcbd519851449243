// payloadLogging (an extension to the spec): its shape, defaults and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const route = (payloadLogging?: string) =>
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n' +
  '  backends: [{name: b, provider: local, model: m}]\n' +
  (payloadLogging === undefined ? '' : `  payloadLogging: ${payloadLogging}\n`);

function routeOf(payloadLogging?: string) {
  const result = parseGatewayConfig(route(payloadLogging), options);
  if (!result.ok) assert.fail(result.errors.map((e) => e.format()).join('\n'));
  return result.config.routes[0];
}

function errorsOf(payloadLogging: string): string {
  return refusalsOf(route(payloadLogging), options).join('\n');
}

describe('payloadLogging', () => {
  it('is off when absent or enabled: false', () => {
    assert.equal(routeOf().payloadLogging, undefined);
    assert.equal(routeOf('{enabled: false, maxBytes: 1024}').payloadLogging, undefined);
  });

  it('takes maxBytes and sampleRate, with defaults of 32 KiB and every request', () => {
    assert.deepEqual(routeOf('{enabled: true}').payloadLogging, {
      maxBytes: 32_768,
      sampleRate: 1,
    });
    assert.deepEqual(routeOf('{maxBytes: 4096, sampleRate: 0.25}').payloadLogging, {
      maxBytes: 4096,
      sampleRate: 0.25,
    });
  });

  it('refuses bad values naming the field', () => {
    assert.match(errorsOf('{maxBytes: 10}'), /payloadLogging\.maxBytes.*256 to 262144/);
    assert.match(errorsOf('{maxBytes: 1000000}'), /payloadLogging\.maxBytes/);
    assert.match(errorsOf('{sampleRate: 1.5}'), /payloadLogging\.sampleRate.*0 to 1/);
    assert.match(errorsOf('{enabled: yes please}'), /payloadLogging\.enabled/);
    assert.match(errorsOf('{headers: true}'), /payloadLogging.*headers/);
    assert.match(errorsOf('true'), /payloadLogging/);
  });
});
