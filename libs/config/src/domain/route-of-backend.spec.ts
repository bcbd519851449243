// Backend names are unique only within a route: routeOfBackend finds a backend's route by
// (route, name), and by the name alone (the first route naming it) for usage that names
// no route (events of older builds).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadedOf } from '../loader/loaded-config-fixture';
import { modelPrice, routeOfBackend } from './usage-cost';

const route = (name: string, model: string, inputPer1k: number) =>
  `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata:
  name: ${name}
spec:
  backends:
  - {name: openai, provider: openai, model: ${model}, auth: {type: None}}
  - {name: ${name}-only, provider: openai, model: ${model}-mini, auth: {type: None}}
  costControl:
    modelPricing:
      ${model}: {inputPer1k: ${inputPer1k}, outputPer1k: 0}
`;

const { config } = loadedOf(
  `${route('chat', 'gpt-4', 0.03)}---\n${route('embed', 'text-embedding-3-small', 0.00002)}`,
  { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' },
);
const routes = config.routes;

describe('routeOfBackend', () => {
  it("finds a shared name's backend in the route named, each priced by its own route", () => {
    assert.equal(routeOfBackend(routes, 'openai', 'chat')?.name, 'chat');
    const embed = routeOfBackend(routes, 'openai', 'embed');
    assert.ok(embed);
    assert.equal(embed.name, 'embed');
    assert.equal(modelPrice(embed, 'text-embedding-3-small', 'openai')?.inputPer1k, 0.00002);
  });

  it('finds a name without a route in the first route naming it (older events)', () => {
    assert.equal(routeOfBackend(routes, 'openai')?.name, 'chat');
    assert.equal(routeOfBackend(routes, 'embed-only')?.name, 'embed');
  });

  it('falls back to the name alone when the route named lacks it (a reload took it out)', () => {
    assert.equal(routeOfBackend(routes, 'embed-only', 'chat')?.name, 'embed');
    assert.equal(routeOfBackend(routes, 'openai', 'gone')?.name, 'chat');
    assert.equal(routeOfBackend(routes, 'missing', 'chat'), undefined);
  });
});
