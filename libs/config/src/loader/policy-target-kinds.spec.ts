// A SecurityPolicy binds routes through targetRefs of kind AIGatewayRoute only: a ref of
// any other kind (a typo, or HTTPRoute from Envoy Gateway habits) binds nothing, and the
// route it meant is served without the policy's JWT check, so the loader says so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadedOf } from './loaded-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const ROUTE =
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata: {name: r}\n' +
  'spec:\n  backends: [{name: openai, model: gpt-4, auth: {type: None}}]\n';
const policy = (kind: string) =>
  '---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: SecurityPolicy\nmetadata: {name: p}\n' +
  `spec:\n  targetRefs:\n  - {kind: ${kind}, name: r}\n  jwt:\n    providers:\n` +
  '    - {name: a, issuer: "https://id.example", remoteJWKS: {uri: "https://id.example/jwks"}, audiences: [gw]}\n';

function warningsOf(text: string): string[] {
  return loadedOf(text, options).warnings;
}

describe('SecurityPolicy targetRefs kinds', () => {
  it('a ref of another kind is warned about: it binds no route', () => {
    assert.deepEqual(
      warningsOf(ROUTE + policy('AIGatewayRote')).filter((w) => w.includes('targetRefs')),
      [
        'gw.yaml:12: document 2 (SecurityPolicy "p"): spec.targetRefs[0].kind: is "AIGatewayRote": only AIGatewayRoute targets are bound, so this ref binds nothing and no route gets this policy through it',
      ],
    );
  });

  it('an AIGatewayRoute ref raises no such warning', () => {
    assert.deepEqual(
      warningsOf(ROUTE + policy('AIGatewayRoute')).filter((w) => w.includes('targetRefs')),
      [],
    );
  });
});
