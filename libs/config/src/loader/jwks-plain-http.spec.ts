// A JWT provider's keys fetched over plain http can be swapped by anyone on the path, who
// can then sign tokens this gateway accepts as any user and tier: the loader says so,
// except for a key server on this host (a sidecar, a test), where nothing is on the path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadedOf } from './loaded-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const ROUTE =
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata: {name: r}\n' +
  'spec:\n  backends: [{name: openai, model: gpt-4, auth: {type: None}}]\n';
const policy = (jwksUri: string) =>
  '---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: SecurityPolicy\nmetadata: {name: p}\n' +
  `spec:\n  targetRefs:\n  - {kind: AIGatewayRoute, name: r}\n  jwt:\n    providers:\n` +
  `    - {name: corp, issuer: "https://id.example", remoteJWKS: {uri: "${jwksUri}"}, audiences: [gw]}\n`;

const jwksWarnings = (jwksUri: string) =>
  loadedOf(ROUTE + policy(jwksUri), options).warnings.filter((w) => w.includes('plain http'));

describe('SecurityPolicy remoteJWKS over plain http', () => {
  it('is warned about: whoever is on the path can substitute the keys', () => {
    assert.deepEqual(jwksWarnings('http://keycloak.auth.svc:8080/realms/corp/certs'), [
      'gw.yaml:15: document 2 (SecurityPolicy "p"): spec.jwt.providers[0].remoteJWKS.uri: JWT provider "corp" fetches its signing keys over plain http: anyone on the network path can replace them and sign tokens this gateway accepts as any user and tier; use https',
    ]);
  });

  it('is not warned about over https, nor from a key server on this host', () => {
    for (const uri of [
      'https://id.example/.well-known/jwks.json',
      'http://127.0.0.1:9000/jwks.json',
      'http://localhost:9000/jwks.json',
      'http://[::1]:9000/jwks.json',
    ]) {
      assert.deepEqual(jwksWarnings(uri), [], uri);
    }
  });
});
