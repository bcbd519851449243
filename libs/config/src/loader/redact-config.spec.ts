// security.promptValidation.redact (an extension to the spec): its shape, defaults and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const route = (promptValidation: string) =>
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n' +
  '  backends: [{name: b, provider: local, model: m}]\n' +
  `  security:\n    promptValidation:\n${promptValidation
    .split('\n')
    .map((line) => `      ${line}`)
    .join('\n')}\n`;

function load(promptValidation: string) {
  const result = parseGatewayConfig(route(promptValidation), options);
  if (!result.ok) assert.fail(result.errors.map((e) => e.format()).join('\n'));
  return result;
}

function errorsOf(promptValidation: string): string[] {
  return refusalsOf(route(promptValidation), options);
}

const AT = 'spec.security.promptValidation.redact';

describe('security.promptValidation.redact', () => {
  it('detectors by name or {name, mode}, patterns with a default mode; enables validation', () => {
    const { config } = load(
      'redact:\n' +
        '  detectors: [email, {name: creditCard, mode: block}]\n' +
        '  patterns:\n' +
        '  - {name: employeeId, regex: "EMP-[0-9]{6}"}\n' +
        '  - {name: ticket, regex: "TKT-\\\\d+", mode: block}',
    );
    const validation = config.routes[0].security.promptValidation;
    assert.equal(validation.enabled, true);
    assert.deepEqual(validation.redact, {
      detectors: [
        { name: 'email', mode: 'redact' },
        { name: 'creditCard', mode: 'block' },
      ],
      patterns: [
        { name: 'employeeId', regex: 'EMP-[0-9]{6}', mode: 'redact' },
        { name: 'ticket', regex: 'TKT-\\d+', mode: 'block' },
      ],
    });
  });

  it('is off with enabled: false, and absent when it lists nothing (with a warning)', () => {
    const off = load('enabled: false\nredact: {detectors: [email]}');
    assert.equal(off.config.routes[0].security.promptValidation.redact, undefined);
    const empty = load('redact: {}');
    assert.equal(empty.config.routes[0].security.promptValidation.redact, undefined);
    assert.ok(empty.warnings.some((w) => w.includes(`${AT}: lists no detectors`)));
  });

  it('a pattern that is not a regular expression names its path', () => {
    const [line] = errorsOf('redact:\n  patterns: [{name: bad, regex: "(unclosed"}]');
    assert.match(
      line,
      /spec\.security\.promptValidation\.redact\.patterns\[0\]\.regex: expected a valid regular expression/,
    );
  });

  it('rejects unknown detectors, bad modes and bad names', () => {
    const errors = errorsOf(
      'redact:\n' +
        '  detectors: [email, passport, {name: phone, mode: mask}, 7]\n' +
        '  patterns:\n' +
        '  - {name: "has space", regex: "x"}\n' +
        '  - {regex: "q"}',
    ).join('\n');
    for (const expected of [
      /redact\.detectors\[1\]\.name: expected one of email, phone, creditCard, iban, usSsn, apiKey\n/,
      /redact\.detectors\[2\]\.mode: expected one of redact, block/,
      /redact\.detectors\[3\]: expected one of email, .*, or a mapping \{name, mode\}/,
      /redact\.patterns\[0\]\.name: expected a name of letters/,
      /redact\.patterns\[1\]\.name: is required/,
    ]) {
      assert.match(errors, expected);
    }
  });

  it('rejects repeated detectors, clashing pattern names and patterns matching empty text', () => {
    const errors = errorsOf(
      'redact:\n' +
        '  detectors: [email, email]\n' +
        '  patterns:\n' +
        '  - {name: iban, regex: "x"}\n' +
        '  - {name: dup, regex: "y"}\n' +
        '  - {name: dup, regex: "z"}\n' +
        '  - {name: anything, regex: "a*"}',
    ).join('\n');
    for (const expected of [
      /redact\.detectors\[1\]: "email" is listed twice/,
      /redact\.patterns\[0\]\.name: "iban" is a built-in detector's name/,
      /redact\.patterns\[2\]\.name: duplicate pattern "dup"/,
      /redact\.patterns\[3\]\.regex: must not match an empty text/,
    ]) {
      assert.match(errors, expected);
    }
  });

  it('rejects a pattern matching empty text as the redactor reads it (with the u flag)', () => {
    // Read plainly, \p{N}* is the letters p{N} and a run of }; read with u, as the redactor
    // compiles it, any run of digits, the empty one too.
    const errors = errorsOf(
      'redact:\n  patterns:\n  - {name: digits, regex: "\\\\p{N}*"}\n  - {name: ok, regex: "\\\\p{N}+"}',
    ).join('\n');
    assert.match(errors, /redact\.patterns\[0\]\.regex: must not match an empty text/);
    assert.doesNotMatch(errors, /patterns\[1\]/);
  });
});
