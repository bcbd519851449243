// On a JWT route the tier is the token's: a tier header the client sets cannot raise it.
// It is honoured only for a tier the configuration lets any caller choose (clientSelectable).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayConfig } from '@aigw/config';
import { DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { CallerIdentifier } from './caller-identifier';
import { IdentityRejection } from './identity.errors';
import { agentAuthPolicy, loadConfig, rejection, routeNamed } from './jwt-spec-fixture';

const ISSUER = 'https://auth.tiers.test';

// Route "claims": tiers from the token's plan claim, plus client-header ones. Route
// "plans": the spec's Pattern 1 (tiers on x-plan) with a default, on a JWT route. Route
// "open": the same tiers without JWT.
function load(jwksUri: string): GatewayConfig {
  return loadConfig(`kind: AIGatewayRoute
metadata: {name: claims}
spec:
  backends: [{name: c, provider: local, model: claims-model}]
  userIdentification: {header: x-user-id}
  userTiers:
  - {name: free, selector: {header: x-user-plan, value: free}, tokenBudget: {daily: 10}}
  - {name: pro, selector: {header: x-user-plan, value: pro}, tokenBudget: {daily: 100}}
  - {name: enterprise, selector: {header: x-plan, value: enterprise}, tokenBudget: {unlimited: true}}
  - {name: sandbox, clientSelectable: true, selector: {header: x-plan, value: sandbox}, tokenBudget: {daily: 1}}
---
kind: AIGatewayRoute
metadata: {name: plans}
spec:
  backends: [{name: p, provider: local, model: plans-model}]
  userIdentification: {header: x-user-id}
  userTiers:
  - {name: free, default: true, selector: {header: x-plan, value: free}, tokenBudget: {daily: 10000}}
  - {name: pro, selector: {header: x-plan, value: pro}, tokenBudget: {daily: 100000}}
  - {name: enterprise, selector: {header: x-plan, value: enterprise}, tokenBudget: {unlimited: true}}
---
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: local, model: open-model}]
  userIdentification: {header: x-user-id}
  userTiers:
  - {name: free, selector: {header: x-plan, value: free}, tokenBudget: {daily: 10000}}
  - {name: enterprise, selector: {header: x-plan, value: enterprise}, tokenBudget: {unlimited: true}}
---
${agentAuthPolicy(ISSUER, jwksUri, ['claims', 'plans'])}`);
}

describe('CallerIdentifier: a tier header on a JWT route', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let config: GatewayConfig;
  let ids: CallerIdentifier;
  const route = (name: string) => routeNamed(config, name);

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    config = load(jwks.url);
    ids = new CallerIdentifier(() => config);
  });
  after(() => jwks.stop());

  const tierOf = async (routeName: string, plan: string | undefined, extra = {}) => {
    const token = await issuer.sign({ sub: 'alice', ...(plan ? { plan } : {}) });
    const identity = await ids.identify(
      { authorization: `Bearer ${token}`, ...extra },
      route(routeName),
    );
    return identity.caller.tier;
  };
  const refusedTier = (routeName: string, plan: string | undefined, extra = {}) =>
    rejection(() => tierOf(routeName, plan, extra));

  it("takes the tier from the token's claim", async () => {
    assert.equal(await tierOf('claims', 'free'), 'free');
    assert.equal(await tierOf('claims', 'pro'), 'pro');
  });

  it('refuses with 403 a tier header naming a tier the token does not grant', async () => {
    const error = await refusedTier('claims', 'free', { 'x-plan': 'enterprise' });
    assert.equal(error.code, DataPlaneErrorCode.Forbidden);
    assert.equal(error.httpStatus, 403);
    assert.ok(error.cause instanceof IdentityRejection);
    assert.equal(error.cause.reason, 'tier-not-granted');
    const body = JSON.stringify(error.toOpenAiBody());
    assert.match(body, /x-plan/, 'names the header');
    assert.ok(!body.includes('enterprise') && !body.includes('free'), 'names no tier');
  });

  it('honours a tier header for a clientSelectable tier', async () => {
    assert.equal(await tierOf('claims', 'pro', { 'x-plan': 'sandbox' }), 'sandbox');
    assert.equal(await tierOf('claims', undefined, { 'x-plan': 'sandbox' }), 'sandbox');
  });

  it("ignores a tier header value that names no tier: the token's tier stands", async () => {
    assert.equal(await tierOf('claims', 'pro', { 'x-plan': 'gold' }), 'pro');
  });

  it("the spec's Pattern 1 tiers on a JWT route: the default tier, unless the token grants another", async () => {
    assert.equal(await tierOf('plans', 'pro'), 'free', 'no claim header selects: the default');
    assert.equal(await tierOf('plans', 'pro', { 'x-plan': 'free' }), 'free');
    for (const asked of ['pro', 'enterprise']) {
      const error = await refusedTier('plans', 'pro', { 'x-plan': asked });
      assert.equal(error.httpStatus, 403, asked);
      assert.ok(error.cause instanceof IdentityRejection);
      assert.equal(error.cause.reason, 'tier-not-granted');
    }
  });

  it('leaves a route without JWT as it was: the header chooses the tier', () => {
    const identity = ids.identify({ 'x-plan': 'enterprise' }, route('open'));
    assert.ok(!(identity instanceof Promise));
    assert.equal(identity.caller.tier, 'enterprise');
  });
});
