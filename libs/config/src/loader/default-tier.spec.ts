// `userTiers[].default: true` (an extension to the spec): at most one per tier list.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const ROUTE_HEAD =
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n  backends: [{name: b, provider: local}]\n';

const tier = (name: string, extra = '') =>
  `  - {name: ${name}, selector: {header: x-plan, value: ${name}}, tokenBudget: {daily: 10}${extra}}\n`;

function errorsOf(text: string): string[] {
  return refusalsOf(text, options);
}

describe('userTiers[].default', () => {
  it('the spec YAML still parses as written, with no default tier', () => {
    const spec = readFileSync(
      join(__dirname, '../../test-fixtures/spec-05-tiered-service-plans.tiers.yaml'),
      'utf8',
    );
    const result = parseGatewayConfig(spec, options);
    assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.format()).join('\n'));
    assert.deepEqual(
      result.config.userTiers.map((t) => t.default),
      [false, false, false],
    );
  });

  it('is accepted on one tier, globally and per route', () => {
    const result = parseGatewayConfig(
      `${ROUTE_HEAD}  userTiers:\n${tier('basic', ', default: true')}${tier('pro', ', default: false')}---\nuserTiers:\n${tier('free', ', default: true')}${tier('gold')}`,
      options,
    );
    assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.format()).join('\n'));
    const { config } = result;
    assert.deepEqual(
      config.routes[0].userTiers.map((t) => [t.name, t.default]),
      [
        ['basic', true],
        ['pro', false],
      ],
    );
    assert.deepEqual(
      config.userTiers.map((t) => [t.name, t.default]),
      [
        ['free', true],
        ['gold', false],
      ],
    );
  });

  it('refuses a second default in one list, naming its field path', () => {
    assert.deepEqual(
      errorsOf(
        `${ROUTE_HEAD}  userTiers:\n${tier('a', ', default: true')}${tier('b')}${tier('c', ', default: true')}`,
      ),
      [
        'gw.yaml:10: document 1 (AIGatewayRoute "r"): spec.userTiers[2].default: tier "a" is already the default: at most one tier may set default: true',
      ],
    );
    const [line] = errorsOf(
      `userTiers:\n${tier('a', ', default: true')}${tier('b', ', default: true')}`,
    );
    assert.match(line, /userTiers\[1\]\.default: tier "a" is already the default/);
  });

  it('refuses defaults in two global userTiers documents', () => {
    const errors = errorsOf(
      `userTiers:\n${tier('a', ', default: true')}---\nuserTiers:\n${tier('b', ', default: true')}`,
    );
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(
      errors[0],
      /userTiers: tiers "a", "b" all set default: true across documents: at most one tier may/,
    );
  });

  it('refuses a default that is not a boolean', () => {
    const [line] = errorsOf(`userTiers:\n${tier('a', ', default: "yes"')}`);
    assert.match(line, /userTiers\[0\]\.default: expected true or false/);
  });
});
