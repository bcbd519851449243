// A JWT sent in the header an API documents for keys: Anthropic's `x-api-key`, Azure
// OpenAI's `api-key`, Google's `x-goog-api-key`. Read like a bearer token, and two
// different credentials in one request are refused, never one picked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayConfig, RouteConfig } from '@aigw/config';
import { DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { CallerIdentifier, type CallerIdentity } from './caller-identifier';
import { credentialUserKey } from './credential-user-key';
import type { RejectionReason } from './identity.errors';
import {
  agentAuthPolicy,
  FAST_KEY_SETS,
  loadConfig,
  reasonOf,
  rejection,
  routeNamed,
} from './jwt-spec-fixture';

const ISSUER = 'https://auth.keys.test';

function load(jwksUri: string): GatewayConfig {
  return loadConfig(`kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends: [{name: claude, provider: local, model: claude-sonnet}]
  userIdentification: {header: x-user-id}
  userTiers:
  - {name: pro, selector: {header: x-user-plan, value: pro}, tokenBudget: {daily: 100}, allowedModels: [claude-sonnet]}
---
kind: AIGatewayRoute
metadata: {name: keyed}
spec:
  backends: [{name: keyed, provider: local, model: keyed-model}]
  userIdentification: {header: x-api-key}
---
${agentAuthPolicy(ISSUER, jwksUri, ['secured'])}`);
}

describe('CallerIdentifier: a JWT in an API-key header', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let config: GatewayConfig;
  let secured: RouteConfig;
  let keyed: RouteConfig;
  const identifier = () => new CallerIdentifier(() => config, { keySetTiming: FAST_KEY_SETS });

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    config = load(jwks.url);
    secured = routeNamed(config, 'secured');
    keyed = routeNamed(config, 'keyed');
  });
  after(() => jwks.stop());

  const expected = (identity: CallerIdentity) => {
    assert.deepEqual(identity.caller, {
      userKey: 'alice',
      budgetKey: 'jwt:agent-auth:sub:alice',
      tier: 'pro',
    });
    assert.deepEqual(identity.allowedModels, ['claude-sonnet']);
    assert.equal(identity.headers['x-user-id'], 'alice');
  };

  it('reads x-api-key as the bearer token: same claims, user and tier', async () => {
    const token = await issuer.sign({ sub: 'alice', plan: 'pro' });
    expected(await identifier().identify({ 'x-api-key': token }, secured));
  });

  it("reads x-goog-api-key too (Google's SDKs), and the same token in several headers", async () => {
    const token = await issuer.sign({ sub: 'alice', plan: 'pro' });
    expected(await identifier().identify({ 'x-goog-api-key': token }, secured));
    // The Gemini edge copies x-goog-api-key into Authorization when none was sent.
    expected(
      await identifier().identify(
        { authorization: `Bearer ${token}`, 'x-goog-api-key': token, 'x-api-key': ` ${token} ` },
        secured,
      ),
    );
  });

  it("reads api-key too (Azure OpenAI's SDKs), alone or beside the same token", async () => {
    const token = await issuer.sign({ sub: 'alice', plan: 'pro' });
    expected(await identifier().identify({ 'api-key': token }, secured));
    expected(
      await identifier().identify(
        { authorization: `Bearer ${token}`, 'api-key': token, 'x-api-key': token },
        secured,
      ),
    );
  });

  it('validates it as a bearer token: a bad signature, expiry, or not a JWT at all is 401', async () => {
    const ids = identifier();
    const cases: [Record<string, string>, RejectionReason][] = [
      [{ 'x-api-key': await issuer.signWithForeignKey({ sub: 'alice' }) }, 'bad-signature'],
      [{ 'x-api-key': await issuer.sign({ sub: 'alice' }, { expiresIn: -120 }) }, 'expired'],
      [{ 'x-api-key': 'sk-ant-api03-static-key' }, 'malformed-token'],
      [{ 'x-api-key': '' }, 'missing-token'],
      [{ 'api-key': await issuer.signWithForeignKey({ sub: 'alice' }) }, 'bad-signature'],
      [{ 'api-key': await issuer.sign({ sub: 'alice' }, { expiresIn: -120 }) }, 'expired'],
      [{ 'api-key': '0123456789abcdef0123456789abcdef' }, 'malformed-token'],
    ];
    for (const [headers, reason] of cases) {
      const error = await rejection(() => ids.identify(headers, secured));
      assert.equal(error.code, DataPlaneErrorCode.Unauthenticated);
      assert.equal(reasonOf(error), reason, JSON.stringify(Object.keys(headers)));
    }
  });

  it('refuses two different credentials with 401, naming the headers and never their values', async () => {
    const ids = identifier();
    const alice = await issuer.sign({ sub: 'alice', plan: 'pro' });
    const mallory = await issuer.sign({ sub: 'mallory', plan: 'pro' });
    const pairs: Record<string, string>[] = [
      { authorization: `Bearer ${alice}`, 'x-api-key': mallory },
      { authorization: `Bearer ${alice}`, 'x-api-key': 'sk-ant-api03-static-key' },
      { 'x-api-key': alice, 'x-goog-api-key': mallory },
      { authorization: `Bearer ${alice}`, 'api-key': mallory },
      { 'api-key': alice, 'x-api-key': 'sk-ant-api03-static-key' },
    ];
    for (const headers of pairs) {
      const error = await rejection(() => ids.identify(headers, secured));
      assert.equal(error.code, DataPlaneErrorCode.Unauthenticated);
      assert.equal(error.httpStatus, 401);
      assert.equal(reasonOf(error), 'conflicting-credentials');
      const body = JSON.stringify(error.toOpenAiBody());
      for (const name of Object.keys(headers)) assert.ok(body.includes(name), body);
      for (const value of [alice, mallory, 'sk-ant-api03-static-key']) {
        assert.ok(!body.includes(value.slice(0, 24)), 'no credential in the answer');
      }
    }
  });

  it('leaves a route without JWT as it was: x-api-key is the static key its user id comes from', () => {
    const key = 'sk-ant-api03-static-key';
    const identity = identifier().identify(
      { 'x-api-key': key, authorization: 'Bearer something-else' },
      keyed,
    );
    assert.ok(!(identity instanceof Promise), 'no JWT here: answered synchronously');
    const id = credentialUserKey(key);
    assert.deepEqual(identity.caller, { userKey: id, budgetKey: `apikey:${id}` });
  });
});
