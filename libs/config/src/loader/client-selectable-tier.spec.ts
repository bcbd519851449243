// `userTiers[].clientSelectable: true` (an extension to the spec): on a JWT route, a tier any
// caller may choose with its selector header. Absent, a tier header there cannot raise a
// caller's tier past its token's (libs/ingress identity).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const tier = (name: string, extra = '') =>
  `  - {name: ${name}, selector: {header: x-plan, value: ${name}}, tokenBudget: {daily: 10}${extra}}\n`;

/** [name, clientSelectable] of each global tier `text` loads. */
function clientSelectableByTier(text: string): [string, boolean | undefined][] {
  const result = parseGatewayConfig(text, options);
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.format()).join('\n'));
  return result.config.userTiers.map((t) => [t.name, t.clientSelectable]);
}

describe('userTiers[].clientSelectable', () => {
  it("is off for the spec's tiers as written", () => {
    const text = readFileSync(
      join(__dirname, '../../test-fixtures/spec-05-tiered-service-plans.tiers.yaml'),
      'utf8',
    );
    assert.deepEqual(clientSelectableByTier(text), [
      ['free', false],
      ['pro', false],
      ['enterprise', false],
    ]);
  });

  it('is read per tier', () => {
    const text = `userTiers:\n${tier('trial', ', clientSelectable: true')}${tier('pro', ', clientSelectable: false')}${tier('gold')}`;
    assert.deepEqual(clientSelectableByTier(text), [
      ['trial', true],
      ['pro', false],
      ['gold', false],
    ]);
  });

  it('refuses a value that is not a boolean', () => {
    const [line] = refusalsOf(`userTiers:\n${tier('a', ', clientSelectable: "yes"')}`, options);
    assert.match(line, /userTiers\[0\]\.clientSelectable: expected true or false/);
  });
});
