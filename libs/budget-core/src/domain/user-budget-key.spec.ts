import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml } from '@aigw/testing';
import {
  budgetsNamed,
  configIdentifications,
  headerIdentification,
  jwtIdentification,
  qualifiedBudgetKey,
  qualifiesBudgetKeys,
} from './user-budget-key';

const route = (name: string, model: string, identification: string) => `---
kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends: [{name: ${name}-b, provider: openai, model: ${model}}]
${identification}`;

const policy = (target: string, claimToHeaders = '') => `---
kind: SecurityPolicy
metadata: {name: corp-${target}}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: ${target}}]
  jwt:
    providers:
    - name: corp
      issuer: https://corp.example
      remoteJWKS: {uri: "https://corp.example/jwks"}
${claimToHeaders}`;

const JWT_SUB = '  userIdentification:\n    jwt: {claim: sub, provider: corp}\n';
const HEADER = '  userIdentification: {header: x-user-id}\n';
const SUB_TO_HEADER = '      claimToHeaders: [{claim: sub, header: x-user-id}]\n';

describe('budget keys by identification', () => {
  it('one identification in the whole config: keys stay the user key (the spec’s YAML)', () => {
    const headerOnly = configFromYaml(route('a', 'm1', HEADER) + route('b', 'm2', ''));
    assert.deepEqual([...configIdentifications(headerOnly)], ['header:x-user-id']);
    assert.equal(qualifiesBudgetKeys(headerOnly), false);
    assert.deepEqual(budgetsNamed(headerOnly, 'alice'), [
      { budgetKey: 'alice', routes: headerOnly.routes },
    ]);
    const jwtOnly = configFromYaml(route('s', 'm1', JWT_SUB) + policy('s'));
    assert.equal(qualifiesBudgetKeys(jwtOnly), false);
  });

  it('a JWT route and a header route: two identifications, qualified keys', () => {
    const config = configFromYaml(
      route('s', 'm1', JWT_SUB) + route('o', 'm2', HEADER) + policy('s'),
    );
    assert.deepEqual([...configIdentifications(config)].sort(), [
      'header:x-user-id',
      'jwt:corp:sub',
    ]);
    assert.equal(qualifiesBudgetKeys(config), true);
    const named = budgetsNamed(config, 'alice').map((b) => [
      b.budgetKey,
      b.routes.map((r) => r.name),
    ]);
    assert.deepEqual(named.sort(), [
      ['header:x-user-id:alice', ['o']],
      ['jwt:corp:sub:alice', ['s']],
    ]);
  });

  it("a header a JWT route's provider sets from a claim is that claim's identification", () => {
    // Route `h` names the header, but on a JWT route only the verified `sub` can set it.
    const config = configFromYaml(
      route('s', 'm1', JWT_SUB) +
        route('h', 'm2', HEADER) +
        policy('s') +
        policy('h', SUB_TO_HEADER),
    );
    assert.deepEqual([...configIdentifications(config)], ['jwt:corp:sub']);
    assert.equal(qualifiesBudgetKeys(config), false);
  });

  it('every credential header is one identification: one key is one user in either', () => {
    assert.equal(headerIdentification('x-api-key'), 'apikey');
    assert.equal(headerIdentification('Authorization'), 'apikey');
    assert.equal(headerIdentification('X-User-Id'), 'header:x-user-id');
  });

  it('parts that hold `:` are escaped, so no two identifications read alike', () => {
    // Claim `a:b` of user `c` against claim `a` of user `b:c`.
    const first = qualifiedBudgetKey(jwtIdentification('p', 'a:b'), 'c');
    const second = qualifiedBudgetKey(jwtIdentification('p', 'a'), 'b:c');
    assert.notEqual(first, second);
    assert.equal(jwtIdentification('p%', 'https://x/uid'), 'jwt:p%25:https%3A//x/uid');
  });

  it('a key past what events carry becomes its digest', () => {
    const key = qualifiedBudgetKey('header:x-user-id', 'u'.repeat(256));
    assert.match(key, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(key, qualifiedBudgetKey('jwt:corp:sub', 'u'.repeat(256)));
  });
});
