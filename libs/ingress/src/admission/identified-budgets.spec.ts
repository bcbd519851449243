// Budgets of one user id named two ways: a JWT route's `sub` and another route's header.
// A caller who sets the header must not spend (nor exhaust) the JWT user's budget.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig, type RouteConfig } from '@aigw/config';
import { ExhaustionView, LocalBudgetStore } from '@aigw/budget-core';
import { DataPlaneErrorCode, type GatewayRequest } from '@aigw/contracts/data-plane';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { CallerIdentifier } from '../identity';
import { START, refusalOf } from './admission-fixture';
import { BudgetAdmission } from './budget-admission';

const ISSUER = 'https://auth.budgets.test';

/** A JWT route (`sub`) and a header route, each giving every user 1000 tokens a day. */
function load(jwksUri: string, withHeaderRoute = true): GatewayConfig {
  const headerRoute = `---
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: openai, model: open-model}]
  userIdentification: {header: x-user-id}
  tokenBudget: {perUser: {limit: 1000, period: 1d}}
`;
  const parsed = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends: [{name: s, provider: openai, model: secure-model}]
  userIdentification:
    jwt: {claim: sub, provider: corp}
  tokenBudget: {perUser: {limit: 1000, period: 1d}}
${withHeaderRoute ? headerRoute : ''}---
kind: SecurityPolicy
metadata: {name: corp}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: secured}]
  jwt:
    providers:
    - name: corp
      issuer: ${ISSUER}
      remoteJWKS: {uri: "${jwksUri}"}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
  return parsed.config;
}

function routeNamed(config: GatewayConfig, name: string): RouteConfig {
  const route = config.routes.find((r) => r.name === name);
  assert.ok(route);
  return route;
}

/** A chat call of `model` whose worst case is a little over 900 tokens. */
function call(model: string, caller: GatewayRequest['caller']): GatewayRequest {
  return {
    requestId: `r-${caller.userKey}`,
    operation: 'chat',
    requestedModel: model,
    stream: false,
    clientWantsStreamUsage: false,
    body: { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 900 },
    caller,
    allowedModels: [],
    forwardHeaders: {},
  };
}

describe('budgets of one id identified two ways', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'unused');
    jwks.publish(issuer.publicJwk);
  });
  after(() => jwks.stop());

  function gateway(config: GatewayConfig) {
    const identifier = new CallerIdentifier(() => config);
    const admission = new BudgetAdmission(
      () => config,
      new LocalBudgetStore(':memory:'),
      new ExhaustionView(),
      { defaultMaxOutputTokens: 100, holdMs: 600_000, now: () => START },
    );
    const asJwtUser = async (sub: string) => {
      const token = await issuer.sign({ sub });
      const identity = await identifier.identify(
        { authorization: `Bearer ${token}` },
        routeNamed(config, 'secured'),
      );
      return call('secure-model', identity.caller);
    };
    const asHeaderUser = async (id: string) => {
      const identity = await identifier.identify({ 'x-user-id': id }, routeNamed(config, 'open'));
      return call('open-model', identity.caller);
    };
    return { admission, asJwtUser, asHeaderUser };
  }

  it('a header naming a JWT user spends a budget of its own, not the JWT user’s', async () => {
    const { admission, asJwtUser, asHeaderUser } = gateway(load(jwks.url));
    // The header caller takes all but a few tokens of "alice"'s day...
    const spoofed = await asHeaderUser('alice');
    assert.equal(spoofed.caller.userKey, 'alice', 'the user id the operator sees is unchanged');
    await admission.admit(spoofed);
    // ...and is refused the rest: its budget is a real one, merely not the JWT user's.
    const again = await refusalOf(admission.admit(await asHeaderUser('alice')));
    assert.equal(again.code, DataPlaneErrorCode.BudgetExceeded);
    // The JWT user "alice" still has her whole day.
    const jwtAlice = await asJwtUser('alice');
    assert.equal(jwtAlice.caller.userKey, 'alice');
    assert.notEqual(jwtAlice.caller.budgetKey, spoofed.caller.budgetKey);
    const admitted = await admission.admit(jwtAlice);
    assert.ok(admitted.reservationId, 'held against her own budget');
  });

  it('nor can the header caller exhaust it the other way round', async () => {
    const { admission, asJwtUser, asHeaderUser } = gateway(load(jwks.url));
    await admission.admit(await asJwtUser('bob'));
    const refused = await refusalOf(admission.admit(await asJwtUser('bob')));
    assert.equal(refused.code, DataPlaneErrorCode.BudgetExceeded);
    // Bob's JWT budget is held full; a header caller named bob has its own.
    const admitted = await admission.admit(await asHeaderUser('bob'));
    assert.ok(admitted.reservationId);
  });

  it('with one identification (JWT routes only) the budget key is the user key, as before', async () => {
    const { admission, asJwtUser } = gateway(load(jwks.url, false));
    const carol = await asJwtUser('carol');
    assert.deepEqual(carol.caller, { userKey: 'carol' });
    await admission.admit(carol);
    const refused = await refusalOf(admission.admit(await asJwtUser('carol')));
    assert.equal(refused.code, DataPlaneErrorCode.BudgetExceeded);
  });
});
