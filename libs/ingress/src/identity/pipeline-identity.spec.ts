import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { IngressPipeline } from '../ingress-pipeline';

const ISSUER = 'https://issuer.pipeline.test';

function load(jwksUri: string): GatewayConfig {
  const result = parseGatewayConfig(
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends: [{name: s, provider: local, model: secure-model}]
  security:
    stripHeaders: [x-user-plan]
    promptValidation: {enabled: true, blockPatterns: ["forbidden"]}
  userTiers:
  - {name: pro, selector: {header: x-user-plan, value: pro}, tokenBudget: {daily: 10}, allowedModels: [secure-model]}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: local, model: open-model}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: p}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: secured}]
  jwt:
    providers:
    - name: auth
      issuer: ${ISSUER}
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders: [{claim: sub, header: x-user-id}, {claim: plan, header: x-user-plan}]
`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('not used')),
  listModels: () => [],
};

const body = (model: string, content = 'hi') => ({
  model,
  messages: [{ role: 'user', content }],
});

describe('IngressPipeline.prepare with identity', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let pipeline: IngressPipeline;

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'unused');
    jwks.publish(issuer.publicJwk);
    const config = load(jwks.url);
    pipeline = new IngressPipeline(() => config, router, {});
  });
  after(() => jwks.stop());

  it('stays synchronous for a route without JWT', () => {
    const prepared = pipeline.prepare('chat', body('open-model'), { 'x-user-id': 'dan' }, 'r1');
    assert.ok(!(prepared instanceof Promise));
    assert.equal(prepared.caller.userKey, 'dan');
    assert.equal(prepared.forwardHeaders['x-user-id'], 'dan');
  });

  it('verifies a JWT once, then answers synchronously; stripHeaders still apply', async () => {
    const token = await issuer.sign({ sub: 'erin', plan: 'pro' });
    const headers = { authorization: `Bearer ${token}`, 'x-user-id': 'spoof' };
    const first = pipeline.prepare('chat', body('secure-model'), headers, 'r2');
    assert.ok(first instanceof Promise);
    const request: GatewayRequest = await first;
    assert.deepEqual(request.caller, {
      userKey: 'erin',
      budgetKey: 'jwt:auth:sub:erin',
      tier: 'pro',
    });
    assert.deepEqual(request.allowedModels, ['secure-model']);
    assert.equal(request.forwardHeaders['x-user-id'], undefined, 'the gateway set it: withheld');
    assert.equal(request.forwardHeaders['x-user-plan'], undefined, 'stripped by the route');
    assert.equal(request.forwardHeaders.authorization, undefined);

    const second = pipeline.prepare('chat', body('secure-model'), headers, 'r3');
    assert.ok(!(second instanceof Promise));
  });

  it('never forwards the identity headers it set from claims, whatever stripHeaders says', async () => {
    const token = await issuer.sign({ sub: 'frank@example.com', plan: 'pro' });
    const request = await pipeline.prepare(
      'chat',
      body('secure-model'),
      { authorization: `Bearer ${token}`, 'x-user-id': 'spoof', 'x-trace-id': 't-1' },
      'r2b',
    );
    assert.equal(request.caller.userKey, 'frank@example.com');
    assert.equal(request.forwardHeaders['x-user-id'], undefined);
    assert.ok(!JSON.stringify(request.forwardHeaders).includes('frank'));
    // Other client headers still travel.
    assert.equal(request.forwardHeaders['x-trace-id'], 't-1');
  });

  it('refuses a model no route of its configuration serves, never forwarding it as anonymous', () => {
    // Each service reloads the configuration in its own time: a router already serving a
    // newly added JWT route must never get this ingress's request as an anonymous caller
    // with every model allowed.
    assert.throws(
      () => pipeline.prepare('chat', body('model-added-later'), { 'x-user-id': 'mallory' }, 'r6'),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.ModelNotFound &&
        /model-added-later/.test(error.message),
    );
  });

  it('authenticates before applying prompt rules', async () => {
    assert.throws(
      () => pipeline.prepare('chat', body('secure-model', 'forbidden words'), {}, 'r4'),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.Unauthenticated,
    );
    const token = await issuer.sign({ sub: 'erin', plan: 'pro' });
    await assert.rejects(
      async () =>
        pipeline.prepare(
          'chat',
          body('secure-model', 'forbidden words'),
          { authorization: `Bearer ${token}` },
          'r5',
        ),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.PromptBlocked,
    );
  });
});
