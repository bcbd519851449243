import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig } from '@aigw/config';
import { servingModels } from '@aigw/budget-core';
import { isUnresolved, planBackendChain } from './domain/backend-chain';

// Admission reserves for the models the router's chain may call (budget-core's
// servingModels); this keeps the two in step.
const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, priority: 0, provider: openai, model: gpt-4-turbo, modelNameOverride: gpt-4}
  - {name: second, priority: 1, provider: anthropic, model: claude-3-sonnet, modelNameOverride: gpt-4}
  - {name: same-model, priority: 2, provider: azure-openai, model: gpt-4-turbo, modelNameOverride: gpt-4, baseUrl: 'https://x.openai.azure.com'}
  - {name: cheap, provider: openai, model: gpt-3.5-turbo}
  - {name: any, priority: 5, provider: openai}
  retry:
    maxAttempts: 3
    fallbackStrategy: cheaperModel
    fallbackOrder: [gpt-4, gpt-3.5-turbo, not-served, gemini-flash]
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
const config = parsed.config;
const route = config.routes[0];

function chainModels(requested: string, allowed: readonly string[] = []): string[] {
  const { links } = planBackendChain(config, requested, allowed);
  const models: string[] = [];
  for (const link of links) {
    if (!isUnresolved(link) && !models.includes(link.upstreamModel)) {
      models.push(link.upstreamModel);
    }
  }
  return models;
}

describe("admission's serving models and the router's chain", () => {
  const cases: [string, string[]][] = [
    ['gpt-4', []],
    ['gpt-3.5-turbo', []],
    ['gpt-4', ['gpt-4', 'gemini-flash']],
    ['gemini-flash', []],
    ['unnamed-model', []],
  ];
  for (const [requested, allowed] of cases) {
    it(`agree for ${requested}${allowed.length ? ` (tier allows ${allowed.join(', ')})` : ''}`, () => {
      assert.deepEqual(
        [...servingModels(route, requested, allowed)],
        chainModels(requested, allowed),
      );
    });
  }

  it('list each model once, in the order the chain tries them', () => {
    assert.deepEqual(
      [...servingModels(route, 'gpt-4')],
      // The wildcard backend serves every model, fallbacks no other backend names included.
      ['gpt-4-turbo', 'claude-3-sonnet', 'gpt-4', 'gpt-3.5-turbo', 'not-served', 'gemini-flash'],
    );
  });
});
