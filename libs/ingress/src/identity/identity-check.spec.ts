import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { identityConfigProblems, warnIdentityConfigProblems } from './identity-check';
import { identityOptionsFromEnv } from './identity-options';

function load(yaml: string): GatewayConfig {
  const result = parseGatewayConfig(yaml, { env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const ROUTE = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: local}]
  userIdentification: {header: x-user-id, jwt: {claim: sub, provider: auth}}
  userTiers:
  - {name: free, selector: {header: x-plan, value: free}, tokenBudget: {daily: 10}}
`;
const POLICY = `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: p}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: r}]
  jwt:
    providers:
    - name: auth
      issuer: https://issuer.test
      remoteJWKS: {uri: "http://127.0.0.1:9/jwks"}
      claimToHeaders: [{claim: plan, header: x-plan}]
`;

describe('identityConfigProblems', () => {
  it('is quiet for a sound configuration', () => {
    assert.deepEqual(identityConfigProblems(load(ROUTE + POLICY), { defaultTier: 'free' }), []);
  });

  it('names an unknown default tier and a JWT provider nobody declares', () => {
    const problems = identityConfigProblems(load(ROUTE), { defaultTier: 'gold' });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0], /AI_GATEWAY_DEFAULT_TIER names tier "gold"/);
    assert.match(problems[1], /JWT provider "auth", which no SecurityPolicy declares/);
    assert.match(problems[2], /tier "free" is selected by header x-plan, which clients can set/);
  });

  it('says what a client tier header does on a JWT route: refused past the token, or chosen by any caller when clientSelectable', () => {
    const policy = POLICY.replace(
      '[{claim: plan, header: x-plan}]',
      '[{claim: sub, header: x-user-id}]',
    );
    const tiers = ROUTE.replace(
      '  - {name: free, selector: {header: x-plan, value: free}, tokenBudget: {daily: 10}}\n',
      `  - {name: free, default: true, selector: {header: x-plan, value: free}, tokenBudget: {daily: 10}}
  - {name: trial, clientSelectable: true, selector: {header: x-plan, value: trial}, tokenBudget: {daily: 1}}
`,
    );
    assert.notEqual(tiers, ROUTE);
    const problems = identityConfigProblems(load(tiers + policy));
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(
      problems[0],
      /tier "free" is selected by header x-plan, which clients can set: that header does not choose the tier there .*gets 403.*clientSelectable: true/,
    );
    assert.match(
      problems[1],
      /tier "trial" is clientSelectable: any caller may choose it with header x-plan, whatever its token grants/,
    );
  });

  it('says which default tier applies where AI_GATEWAY_DEFAULT_TIER cannot, and flags a lost global default', () => {
    const OTHER = `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: other}
spec:
  backends: [{name: o, provider: local}]
  userIdentification: {header: x-user-id}
  userTiers:
  - {name: basic, selector: {header: x-plan, value: basic}, tokenBudget: {daily: 10}}
---
userTiers:
- {name: starter, default: true, selector: {header: x-plan, value: starter}, tokenBudget: {daily: 10}}
`;
    const config = load(ROUTE + POLICY + OTHER);
    assert.deepEqual(identityConfigProblems(config), []);
    assert.deepEqual(identityConfigProblems(config, { defaultTier: 'basic' }), [
      'route "r" has no tier "basic": its requests matching no tier get the configured default tier "starter"',
    ]);
    const redefined = load(
      ROUTE + POLICY + OTHER.replace('name: basic, selector', 'name: starter, selector'),
    );
    assert.deepEqual(identityConfigProblems(redefined), [
      'route "other" redefines tier "starter", the global default, without default: true: its requests matching no tier get 403',
    ]);
  });

  it('flags a JWT route whose users no verified claim names: every caller would be anonymous', () => {
    // No userIdentification: users by x-user-id, which the route's provider never sets, and
    // a client's own x-user-id is removed on a JWT route.
    const unnamed = load(ROUTE.replace(/  userIdentification: .*\n/, '') + POLICY);
    assert.deepEqual(identityConfigProblems(unnamed), [
      'route "r" requires JWT, but identifies users by header x-user-id, which no claimToHeaders of its JWT providers sets (a client\'s own is removed): every caller\'s user key is "anonymous", one budget and one owner of stored responses and files; map a claim (sub) to that header, or set userIdentification.jwt',
    ]);
    const mapped = load(
      ROUTE.replace(/  userIdentification: .*\n/, '') +
        POLICY.replace(
          '[{claim: plan, header: x-plan}]',
          '[{claim: plan, header: x-plan}, {claim: sub, header: X-User-Id}]',
        ),
    );
    assert.deepEqual(identityConfigProblems(mapped), []);
  });

  it('flags a JWT provider of a route whose tokens no source reads a user from: its callers would be anonymous', () => {
    const partners = POLICY.replace('name: p}', 'name: partners-policy}')
      .replace('name: auth', 'name: partners')
      .replace('https://issuer.test', 'https://partners.test');
    assert.deepEqual(identityConfigProblems(load(ROUTE + POLICY + partners)), [
      'route "r" accepts tokens of JWT provider "partners", but reads users from claim sub of provider "auth" and header x-user-id, none of which its tokens set: every caller with its token is "anonymous", one budget and one owner of stored responses and files; map a claim (sub) of "partners" to header x-user-id',
    ]);
    const mapped = partners.replace(
      '[{claim: plan, header: x-plan}]',
      '[{claim: plan, header: x-plan}, {claim: sub, header: x-user-id}]',
    );
    assert.deepEqual(identityConfigProblems(load(ROUTE + POLICY + mapped)), []);
  });

  it('flags providers of one name with different issuers: their users would share keys', () => {
    const other = POLICY.replace('name: p}', 'name: q}')
      .replace('name: r}]', 'name: r2}]')
      .replace('https://issuer.test', 'https://other-issuer.test');
    const route2 = `---\n${ROUTE.replace('name: r}', 'name: r2}')}`;
    assert.deepEqual(identityConfigProblems(load(ROUTE + POLICY + route2 + other)), [
      'JWT providers named "auth" (SecurityPolicies p, q) have different issuers, but users and budgets are keyed by provider name: a subject of one issuer is the same user as that subject of the other; give each provider its own name',
    ]);
    // The same issuer under one name (another audience, say) is one user space.
    const same = POLICY.replace('name: p}', 'name: q}').replace('name: r}]', 'name: r2}]');
    assert.deepEqual(identityConfigProblems(load(ROUTE + POLICY + route2 + same)), []);
  });

  it('logs the problems of the config in force, then of every reloaded one', () => {
    const sound = load(ROUTE + POLICY);
    const unnamed = load(ROUTE.replace(/  userIdentification: .*\n/, '') + POLICY);
    const warnings: string[] = [];
    let reload: ((config: GatewayConfig) => void) | undefined;
    warnIdentityConfigProblems({
      config: () => sound,
      onConfigReload: (listener) => (reload = listener),
      logger: { warn: (line) => warnings.push(line) },
    });
    assert.deepEqual(warnings, []);
    assert.ok(reload);
    reload(unnamed);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /^identity: route "r" requires JWT, but identifies users by header x-user-id/,
    );
  });

  it('reads the default tier from the environment and refuses a malformed one', () => {
    assert.equal(identityOptionsFromEnv({}).defaultTier, undefined);
    assert.equal(identityOptionsFromEnv({ AI_GATEWAY_DEFAULT_TIER: ' free ' }).defaultTier, 'free');
    assert.throws(
      () => identityOptionsFromEnv({ AI_GATEWAY_DEFAULT_TIER: 'a\nb' }),
      /AI_GATEWAY_DEFAULT_TIER/,
    );
  });
});
