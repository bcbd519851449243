// Every YAML snippet of the root README loads as written. They are route settings shown
// without their AIGatewayRoute around them, so each is placed under a route's spec, as a
// reader pastes it; a snippet that stops loading fails here, not in a user's first try.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';

const README = join(__dirname, '../../../../README.md');

/** The README's yaml blocks, each with the line its text starts on. */
function yamlBlocks(text: string): { line: number; yaml: string }[] {
  return [...text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => ({
    line: text.slice(0, m.index).split('\n').length + 1,
    yaml: m[1],
  }));
}

function underRouteSpec(fragment: string): string {
  const indented = fragment
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
  return `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: readme\nspec:\n${indented}`;
}

describe('README yaml snippets', () => {
  const blocks = yamlBlocks(readFileSync(README, 'utf8'));

  it('finds the snippets', () => {
    assert.ok(blocks.length >= 9, `${blocks.length} yaml blocks`);
  });

  it('each loads under an AIGatewayRoute spec, with no error', () => {
    for (const { line, yaml } of blocks) {
      const result = parseGatewayConfig(underRouteSpec(yaml), {
        missingSecrets: 'warn',
        env: {},
      });
      assert.ok(
        result.ok,
        `README.md:${line}: ${!result.ok && result.errors.map((e) => e.format()).join('\n')}`,
      );
      assert.equal(result.config.routes.length, 1, `README.md:${line}`);
    }
  });
});
