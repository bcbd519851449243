import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { isUnresolved, planBackendChain, type ChainLink } from './backend-chain';
import { PlannedChains } from './planned-chains';

function config(model: string): GatewayConfig {
  const parsed = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, priority: 0, provider: openai, model: ${model}, modelNameOverride: gpt-4}
  - {name: cheap, priority: 1, provider: openai, model: gpt-3.5-turbo}
  retry:
    fallbackStrategy: cheaperModel
    fallbackOrder: [gpt-4, gpt-3.5-turbo, not-served]
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
  return parsed.config;
}

const resolved = (links: readonly unknown[]) =>
  links.filter((l): l is ChainLink => !isUnresolved(l as ChainLink));

describe('PlannedChains', () => {
  it('plans what planBackendChain does, with each target built once per configuration', () => {
    const planned = new PlannedChains();
    const first = config('gpt-4-turbo');
    const chain = planned.plan(first, 'gpt-4', []);
    const direct = planBackendChain(first, 'gpt-4');
    assert.equal(chain.route, direct.route);
    assert.deepEqual(
      chain.links.map((l) => (isUnresolved(l) ? l.unresolvedModel : l.upstreamModel)),
      direct.links.map((l) => (isUnresolved(l) ? l.unresolvedModel : l.upstreamModel)),
    );
    const [link] = resolved(chain.links);
    assert.equal(planned.plan(first, 'gpt-4', []), chain);
    const routeName = chain.route.name;
    assert.equal(planned.target(link, routeName), planned.target(link, routeName));
    assert.equal(planned.target(link, routeName).model, 'gpt-4-turbo');
    // The target names its route: a backend name is unique only within one.
    assert.equal(planned.target(link, routeName).routeName, routeName);

    // A reload plans afresh: the new configuration's model is called.
    const reloaded = planned.plan(config('gpt-4o'), 'gpt-4', []);
    assert.notEqual(reloaded, chain);
    assert.equal(planned.target(resolved(reloaded.links)[0], routeName).model, 'gpt-4o');
  });

  it("plans a tier's chain each time, and refuses a model it does not allow", () => {
    const planned = new PlannedChains();
    const current = config('gpt-4-turbo');
    const chain = planned.plan(current, 'gpt-4', ['gpt-4']);
    assert.notEqual(planned.plan(current, 'gpt-4', ['gpt-4']), chain);
    assert.deepEqual(
      resolved(chain.links).map((l) => {
        const target = planned.target(l, chain.route.name);
        return [target.model, target.routeName];
      }),
      [['gpt-4-turbo', chain.route.name]],
    );
    assert.throws(
      () => planned.plan(current, 'gpt-3.5-turbo', ['gpt-4']),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.ModelNotAllowed,
    );
  });
});
