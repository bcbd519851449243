// Requests that name no one route (the model list, conversations) identify the caller as
// every route does: a model is listed to a caller its route admits and its tier allows,
// and a conversation's owner is the caller's strongest identity, a JWT's where one verifies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayConfig } from '@aigw/config';
import {
  DataPlaneErrorCode,
  type DataPlaneError,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { IngressPipeline } from '../ingress-pipeline';
import { agentAuthPolicy, FAST_KEY_SETS, loadConfig, rejection } from './jwt-spec-fixture';

const ISSUER = 'https://issuer.across-routes.test';

const OPEN_ROUTE = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends:
  - {name: big, provider: local, model: open-big}
  - {name: small, provider: local, model: open-small}
  userIdentification: {header: x-user-id}
  userTiers:
  - {name: free, selector: {header: x-user-plan, value: free}, tokenBudget: {daily: 10}, allowedModels: [open-small]}
  - {name: basic, default: true, selector: {header: x-user-plan, value: basic}, tokenBudget: {daily: 10}}
`;

const SECURED_ROUTE = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends: [{name: s, provider: local, model: secure-model}]
  userIdentification: {header: x-user-id}
`;

// A second provider for the same issuer whose key server refuses connections: a token the
// issuer signed cannot be checked there (503 identity_provider_unavailable).
const GUARDED_ROUTE = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: guarded}
spec:
  backends: [{name: g, provider: local, model: guarded-model}]
  userIdentification: {header: x-user-id}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: keys-away}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: guarded}]
  jwt:
    providers:
    - name: keys-away
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "http://127.0.0.1:9/jwks"}
      claimToHeaders: [{claim: sub, header: x-user-id}]
`;

const routerListing = (models: readonly string[]): RouterPort => ({
  route: () => Promise.reject(new Error('not used')),
  listModels: () => models,
});

describe('IngressPipeline: the caller as every route identifies it', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let mixed: GatewayConfig;
  let jwtOnly: GatewayConfig;
  let withKeysAway: GatewayConfig;
  let jwtOnlyKeysAway: GatewayConfig;
  let refusals: DataPlaneError[];

  const pipelineOn = (config: GatewayConfig, models: readonly string[]) =>
    new IngressPipeline(() => config, routerListing(models), {
      onRefusal: (error) => refusals.push(error),
      keySetTiming: FAST_KEY_SETS,
    });
  const bearer = async (sub: string) => ({
    authorization: `Bearer ${await issuer.sign({ sub })}`,
  });

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    const policy = (routes: string[]) => agentAuthPolicy(ISSUER, jwks.url, routes);
    mixed = loadConfig(`${OPEN_ROUTE}---\n${SECURED_ROUTE}---\n${policy(['secured'])}`);
    jwtOnly = loadConfig(`${SECURED_ROUTE}---\n${policy(['secured'])}`);
    withKeysAway = loadConfig(`${OPEN_ROUTE}---\n${GUARDED_ROUTE}`);
    jwtOnlyKeysAway = loadConfig(
      `${SECURED_ROUTE}---\n${policy(['secured'])}---\n${GUARDED_ROUTE}`,
    );
  });
  after(() => jwks.stop());

  describe('modelsFor (GET /v1/models)', () => {
    const ALL = ['open-big', 'open-small', 'secure-model'];

    it("lists a free-tier caller only its tier's models, and no JWT route's without a token", async () => {
      refusals = [];
      const pipeline = pipelineOn(mixed, ALL);
      const free = { 'x-user-id': 'bob', 'x-user-plan': 'free' };
      assert.deepEqual(await pipeline.modelsFor(free), ['open-small']);
      // Keyless (a health check): the open route's models, as a call there is admitted.
      assert.deepEqual(await pipeline.modelsFor({}), ['open-big', 'open-small']);
      assert.deepEqual(await pipeline.modelsFor({ authorization: 'Bearer nope' }), [
        'open-big',
        'open-small',
      ]);
      assert.deepEqual(await pipeline.modelsFor(await bearer('alice')), ALL);
      assert.equal(refusals.length, 0, 'a list answered is no refused request');
    });

    it('answers 401 where every route needs a JWT and none verifies, counted once', async () => {
      refusals = [];
      const pipeline = pipelineOn(jwtOnly, ['secure-model']);
      const missing = await rejection(() => pipeline.modelsFor({}));
      assert.equal(missing.code, DataPlaneErrorCode.Unauthenticated);
      const invalid = await rejection(() => pipeline.modelsFor({ authorization: 'Bearer x.y.z' }));
      assert.equal(invalid.code, DataPlaneErrorCode.Unauthenticated);
      assert.equal(refusals.length, 2);
      assert.deepEqual(await pipeline.modelsFor(await bearer('alice')), ['secure-model']);
    });

    // Keys away is the gateway's trouble, not the caller's refusal: the route might list
    // its models to this token, so the answer is the 503 a call there gets, neither a
    // shorter list nor (where the first route refused the token) a 401 telling it to sign in.
    it("answers a route's 503 when it could not check the token, not a shorter list", async () => {
      refusals = [];
      const served = ['open-big', 'open-small', 'guarded-model'];
      const alice = await bearer('alice');
      const mixed = await rejection(() => pipelineOn(withKeysAway, served).modelsFor(alice));
      assert.equal(mixed.upstreamCode, 'identity_provider_unavailable');
      const other = await TestIssuer.create('https://issuer.elsewhere.test', 'ai-gateway');
      const stranger = { authorization: `Bearer ${await other.sign({ sub: 'eve' })}` };
      // The first route refuses this issuer's token (401); the second could not check it.
      const jwt = await rejection(() =>
        pipelineOn(jwtOnlyKeysAway, ['secure-model', 'guarded-model']).modelsFor(stranger),
      );
      assert.equal(jwt.upstreamCode, 'identity_provider_unavailable');
      assert.equal(refusals.length, 2);
      // Without a token nothing is fetched: the open route's list, as before.
      assert.deepEqual(await pipelineOn(withKeysAway, served).modelsFor({}), [
        'open-big',
        'open-small',
      ]);
    });

    it('lists nothing, and asks for no identity, where nothing is served', async () => {
      assert.deepEqual(await pipelineOn(jwtOnly, []).modelsFor({}), []);
    });

    it('leaves out a model no route serves (a call to it is a 404)', async () => {
      const pipeline = pipelineOn(mixed, ['open-small', 'gone-model']);
      assert.deepEqual(await pipeline.modelsFor({}), ['open-small']);
    });
  });

  describe('modelFor (GET /v1/models/{id})', () => {
    // One model is the business of the route serving it: a JWT route whose provider's keys
    // cannot be fetched answers 503 for its own models, never for the open route's.
    it("answers from the model's own route, not another route's 503", async () => {
      refusals = [];
      const pipeline = pipelineOn(withKeysAway, ['open-big', 'open-small', 'guarded-model']);
      const alice = await bearer('alice');
      assert.equal(await pipeline.modelFor(alice, 'open-big'), 'open-big');
      const guarded = await rejection(() => pipeline.modelFor(alice, 'guarded-model'));
      assert.equal(guarded.upstreamCode, 'identity_provider_unavailable');
      assert.equal(refusals.length, 1);
    });

    it("is a 404 for a model the caller's tier may not call, as for one not served", async () => {
      const pipeline = pipelineOn(mixed, ['open-big', 'open-small', 'secure-model']);
      const free = { 'x-user-id': 'bob', 'x-user-plan': 'free' };
      assert.equal(await pipeline.modelFor(free, 'open-small'), 'open-small');
      assert.equal(
        (await rejection(() => pipeline.modelFor(free, 'open-big'))).code,
        DataPlaneErrorCode.ModelNotFound,
      );
      // Without a token the JWT route's model is not listed, and so not found, while a route is open.
      assert.equal(
        (await rejection(() => pipeline.modelFor({}, 'secure-model'))).code,
        DataPlaneErrorCode.ModelNotFound,
      );
      assert.equal(
        (await rejection(() => pipeline.modelFor({}, 'no-such-model'))).code,
        DataPlaneErrorCode.ModelNotFound,
      );
    });

    it('answers 401 to a stranger of a JWT-only gateway, for served and unknown names', async () => {
      refusals = [];
      const pipeline = pipelineOn(jwtOnly, ['secure-model']);
      const served = await rejection(() => pipeline.modelFor({}, 'secure-model'));
      assert.equal(served.code, DataPlaneErrorCode.Unauthenticated);
      const unknown = await rejection(() => pipeline.modelFor({}, 'no-such-model'));
      assert.equal(unknown.code, DataPlaneErrorCode.Unauthenticated);
      assert.equal(refusals.length, 2);
      const alice = await bearer('alice');
      assert.equal(await pipeline.modelFor(alice, 'secure-model'), 'secure-model');
      assert.equal(
        (await rejection(() => pipeline.modelFor(alice, 'no-such-model'))).code,
        DataPlaneErrorCode.ModelNotFound,
      );
    });
  });

  describe('ownerKeysWithoutModel (conversations)', () => {
    it("puts a verified JWT's key first though the first route trusts a header", async () => {
      refusals = [];
      const pipeline = pipelineOn(mixed, []);
      const keys = await pipeline.ownerKeysWithoutModel({
        ...(await bearer('alice')),
        'x-user-id': 'alice',
      });
      assert.deepEqual(keys, ['jwt:agent-auth:sub:alice', 'header:x-user-id:alice']);
      // Without a token: the header's key alone, never the JWT user's.
      assert.deepEqual(await pipeline.ownerKeysWithoutModel({ 'x-user-id': 'alice' }), [
        'header:x-user-id:alice',
      ]);
      assert.equal(refusals.length, 0);
    });

    // Were the JWT route's look dropped, alice's new conversation would be made under the
    // open route's key for a keyless caller, there for any keyless caller to read.
    it("answers a JWT route's 503 when it could not check the token, not a weaker key", async () => {
      refusals = [];
      const pipeline = pipelineOn(withKeysAway, []);
      const away = await rejection(async () =>
        pipeline.ownerKeysWithoutModel(await bearer('alice')),
      );
      assert.equal(away.upstreamCode, 'identity_provider_unavailable');
      assert.equal(refusals.length, 1);
      assert.deepEqual(await pipeline.ownerKeysWithoutModel({ 'x-user-id': 'bob' }), [
        'header:x-user-id:bob',
      ]);
    });

    it('is the route refusal, counted, when no route identifies the caller', async () => {
      refusals = [];
      const pipeline = pipelineOn(jwtOnly, []);
      const refused = await rejection(() => pipeline.ownerKeysWithoutModel({ 'x-user-id': 'a' }));
      assert.equal(refused.code, DataPlaneErrorCode.Unauthenticated);
      assert.equal(refusals.length, 1);
    });
  });
});
