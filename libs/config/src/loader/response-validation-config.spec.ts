// security.responseValidation (an extension to the spec): its shape, defaults and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const route = (responseValidation: string) =>
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n' +
  '  backends: [{name: b, provider: local, model: m}]\n' +
  `  security:\n    responseValidation:\n${responseValidation
    .split('\n')
    .map((line) => `      ${line}`)
    .join('\n')}\n`;

function load(responseValidation: string) {
  const result = parseGatewayConfig(route(responseValidation), options);
  if (!result.ok) assert.fail(result.errors.map((e) => e.format()).join('\n'));
  return result;
}

function errorsOf(responseValidation: string): string {
  return refusalsOf(route(responseValidation), options).join('\n');
}

describe('security.responseValidation', () => {
  it('takes redact as promptValidation does, blockPatterns, and a default stream hold', () => {
    const { config } = load(
      'blockPatterns: ["BEGIN PRIVATE KEY"]\n' +
        'redact:\n' +
        '  detectors: [email, {name: creditCard, mode: block}]\n' +
        '  patterns: [{name: employeeId, regex: "EMP-[0-9]{6}"}]',
    );
    const security = config.routes[0].security;
    assert.deepEqual(security.responseValidation, {
      blockPatterns: ['BEGIN PRIVATE KEY'],
      redact: {
        detectors: [
          { name: 'email', mode: 'redact' },
          { name: 'creditCard', mode: 'block' },
        ],
        patterns: [{ name: 'employeeId', regex: 'EMP-[0-9]{6}', mode: 'redact' }],
      },
      streamHoldChars: 256,
    });
    // Prompts are not checked because answers are.
    assert.equal(security.promptValidation.enabled, false);
    assert.equal(security.promptValidation.redact, undefined);
  });

  it('is absent when not given, with enabled: false, or when it checks nothing', () => {
    const none = parseGatewayConfig(
      route('{}').replace(/\n {4}responseValidation:.*$/s, ''),
      options,
    );
    assert.ok(none.ok);
    assert.equal(none.ok && none.config.routes[0].security.responseValidation, undefined);
    const off = load('enabled: false\nredact: {detectors: [email]}');
    assert.equal(off.config.routes[0].security.responseValidation, undefined);
    const empty = load('streamHoldChars: 64');
    assert.equal(empty.config.routes[0].security.responseValidation, undefined);
    assert.ok(
      empty.warnings.some((w) =>
        w.includes('spec.security.responseValidation: has no blockPatterns and no redact'),
      ),
    );
  });

  it('names the path of each bad setting', () => {
    const errors = errorsOf(
      'blockPatterns: ["(unclosed"]\n' +
        'streamHoldChars: 8\n' +
        'redact:\n' +
        '  detectors: [passport]',
    );
    for (const expected of [
      /spec\.security\.responseValidation\.blockPatterns: expected a valid regular expression/,
      /spec\.security\.responseValidation\.streamHoldChars: expected an integer from 16 to 4096/,
      /spec\.security\.responseValidation\.redact\.detectors\[0\]\.name: expected one of email/,
    ]) {
      assert.match(errors, expected);
    }
    assert.match(
      errorsOf('redact: {patterns: [{name: any, regex: "a*"}]}'),
      /spec\.security\.responseValidation\.redact\.patterns\[0\]\.regex: must not match an empty text/,
    );
  });
});
