// claimToHeaders naming a nested claim by its dotted path, as Envoy Gateway's does
// ("claim.nested.key"): Keycloak's realm_access.roles, an org object's id. A claim whose own
// name has dots (Auth0's namespaced "https://example.com/plan") is read by that name first.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayConfig } from '@aigw/config';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { applyClaimHeaders } from './claim-headers';
import { CallerIdentifier } from './caller-identifier';
import { loadConfig, reasonOf, rejection, routeNamed } from './jwt-spec-fixture';

const ISSUER = 'https://keycloak.test/realms/agents';

function load(jwksUri: string): GatewayConfig {
  return loadConfig(`kind: AIGatewayRoute
metadata: {name: nested}
spec:
  backends: [{name: n, provider: local, model: nested-model}]
  userIdentification: {header: x-user-id}
  userTiers:
  - {name: free, default: true, selector: {header: x-user-plan, value: free}, tokenBudget: {daily: 10}}
  - {name: pro, selector: {header: x-user-plan, value: pro}, tokenBudget: {daily: 100}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: keycloak}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: nested}]
  jwt:
    providers:
    - name: keycloak
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders:
      - {claim: org.id, header: x-user-id}
      - {claim: "https://example.com/plan", header: x-user-plan}
      - {claim: realm_access.roles, header: x-user-roles}
`);
}

describe('claimToHeaders: nested claims', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let config: GatewayConfig;
  let ids: CallerIdentifier;

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    config = load(jwks.url);
    ids = new CallerIdentifier(() => config);
  });
  after(() => jwks.stop());

  const identify = async (claims: Record<string, unknown>) =>
    ids.identify(
      { authorization: `Bearer ${await issuer.sign({ sub: 'u-1', ...claims })}` },
      routeNamed(config, 'nested'),
    );

  it('names the user by a dotted path, takes the tier from a namespaced claim, joins a list', async () => {
    const identity = await identify({
      org: { id: 'acme-42', name: 'Acme' },
      'https://example.com/plan': 'pro',
      realm_access: { roles: ['offline_access', 'agent-admin'] },
    });
    assert.equal(identity.caller.userKey, 'acme-42');
    assert.equal(identity.caller.tier, 'pro');
    assert.equal(identity.headers['x-user-id'], 'acme-42');
    assert.equal(identity.headers['x-user-roles'], 'offline_access,agent-admin');
  });

  it('refuses a token without the nested user claim as one without the claim', async () => {
    const error = await rejection(() => identify({ org: { name: 'Acme' } }));
    assert.equal(error.httpStatus, 401);
    assert.equal(reasonOf(error), 'no-user-claim');
  });
});

describe('applyClaimHeaders: which values become headers', () => {
  const headerOf = (claims: Record<string, unknown>, claim: string) => {
    const headers: Record<string, string | string[] | undefined> = {};
    applyClaimHeaders(headers, claims, [{ claim, header: 'x-h' }]);
    return headers['x-h'];
  };

  it('walks plain objects only, and a name that is a claim of its own wins', () => {
    assert.equal(headerOf({ a: { b: { c: 'deep' } } }, 'a.b.c'), 'deep');
    assert.equal(headerOf({ 'a.b': 'flat', a: { b: 'nested' } }, 'a.b'), 'flat');
    assert.equal(headerOf({ a: ['x'] }, 'a.0'), undefined);
    assert.equal(headerOf({ a: 'text' }, 'a.length'), undefined);
    assert.equal(headerOf({ a: {} }, 'a.constructor.name'), undefined);
    assert.equal(headerOf({ a: { b: 'x' } }, 'a..b'), undefined);
  });

  it('joins a list of strings, numbers and booleans by commas, bounded as a single value', () => {
    assert.equal(headerOf({ roles: ['a', 2, true] }, 'roles'), 'a,2,true');
    assert.equal(headerOf({ roles: [] }, 'roles'), undefined);
    assert.equal(headerOf({ roles: ['a', { b: 1 }] }, 'roles'), undefined);
    assert.equal(headerOf({ roles: ['a', ['b']] }, 'roles'), undefined);
    assert.equal(headerOf({ roles: ['a\nb'] }, 'roles'), undefined);
    assert.equal(headerOf({ roles: ['r'.repeat(300), 'r'.repeat(300)] }, 'roles'), undefined);
    assert.equal(
      headerOf({ roles: Array.from({ length: 100_000 }, () => 'r') }, 'roles'),
      undefined,
    );
    assert.equal(headerOf({ org: { id: 'x'.repeat(513) } }, 'org.id'), undefined);
  });
});
