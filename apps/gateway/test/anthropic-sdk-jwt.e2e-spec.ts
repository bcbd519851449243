// A JWT as an Anthropic client's API key, on a JWT route: sent as the SDK sends its apiKey
// (this version: Authorization: Bearer) or as `x-api-key` (the header Anthropic's API
// documents for keys), it is checked as a bearer token is. A tier header the caller sets
// cannot raise the tier its token grants.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const ISSUER = 'https://auth.claude-agents.test';

const yaml = (jwksUri: string) => `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: claude-agents}
spec:
  backends:
  - {name: claude-local, provider: local, model: claude-local}
  userIdentification: {header: x-user-id}
  userTiers:
  - name: free
    selector: {header: x-user-plan, value: free}
    tokenBudget: {daily: 100000}
  - name: enterprise
    selector: {header: x-plan, value: enterprise}
    tokenBudget: {unlimited: true}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: agent-auth}
spec:
  targetRefs:
  - {kind: AIGatewayRoute, name: claude-agents}
  jwt:
    providers:
    - name: agent-auth
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders:
      - {claim: sub, header: x-user-id}
      - {claim: plan, header: x-user-plan}
`;

describe('Anthropic SDK with a JWT as its API key (all-in-one gateway)', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let gateway: AppProcess;

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    gateway = await startGatewayWithConfig(yaml(jwks.url));
  });
  after(async () => {
    await gateway?.stop();
    await jwks.stop();
  });

  /** The SDK's apiKey (this SDK version sends it as Authorization: Bearer). */
  const client = (apiKey: string, defaultHeaders: Record<string, string> = {}) =>
    new Anthropic({ baseURL: gateway.baseUrl, apiKey, defaultHeaders, maxRetries: 0 });
  /** The key as `x-api-key`, the header Anthropic's API reference documents for it. */
  const xApiKeyClient = (token: string, headers: Record<string, string> = {}) =>
    new Anthropic({
      baseURL: gateway.baseUrl,
      apiKey: null,
      defaultHeaders: { 'x-api-key': token, ...headers },
      maxRetries: 0,
    });
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  const ask = (anthropic: Anthropic) =>
    anthropic.messages.create({
      model: 'claude-local',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'hello' }],
    });
  const refusal = async (
    work: Promise<unknown>,
  ): Promise<InstanceType<typeof Anthropic.APIError>> => {
    try {
      await work;
    } catch (error) {
      assert.ok(error instanceof Anthropic.APIError, String(error));
      return error;
    }
    assert.fail('expected the gateway to refuse');
  };
  const errorOf = (error: InstanceType<typeof Anthropic.APIError>) =>
    (error.error as { type?: string; error?: { type?: string; message?: string } }) ?? {};

  it('authenticates with the JWT as apiKey, and as x-api-key, streamed or not', async () => {
    const token = await issuer.sign({ sub: 'alice', plan: 'free' });
    const message = await ask(client(token));
    assert.equal(message.type, 'message');
    assert.ok(message.content.length > 0);

    const zoe = await issuer.sign({ sub: 'zoe', plan: 'free' });
    const viaHeader = xApiKeyClient(zoe);
    assert.equal((await ask(viaHeader)).type, 'message');
    const streamed = await viaHeader.messages
      .stream({
        model: 'claude-local',
        max_tokens: 32,
        messages: [{ role: 'user', content: 'hello' }],
      })
      .finalMessage();
    assert.equal(streamed.type, 'message');
    // The token's sub named the user, as it does for a bearer token.
    assert.match(await metrics(), /ai_gateway_tokens_total\{user="zoe",model="claude-local"/);
  });

  it('refuses a token it cannot verify with 401 authentication_error', async () => {
    const forged = await issuer.signWithForeignKey({ sub: 'alice', plan: 'free' });
    for (const sdk of [client(forged), xApiKeyClient(forged)]) {
      const error = await refusal(ask(sdk));
      assert.equal(error.status, 401);
      assert.equal(errorOf(error).type, 'error');
      assert.equal(errorOf(error).error?.type, 'authentication_error');
    }
  });

  it('refuses x-api-key and Authorization carrying different credentials with 401', async () => {
    const alice = await issuer.sign({ sub: 'alice', plan: 'free' });
    const bob = await issuer.sign({ sub: 'bob', plan: 'free' });
    // The SDK takes one credential; a header added beside it is the usual slip.
    const error = await refusal(ask(client(alice, { 'x-api-key': bob })));
    assert.equal(error.status, 401);
    assert.equal(errorOf(error).error?.type, 'authentication_error');
    const message = errorOf(error).error?.message ?? '';
    assert.match(message, /authorization and x-api-key/);
    assert.ok(!message.includes(alice.split('.')[1]) && !message.includes(bob.split('.')[1]));
    assert.match(
      await metrics(),
      /ai_gateway_identity_refusals_total\{reason="conflicting_credentials"\} 1\b/,
    );
  });

  it('refuses with 403 permission_error a tier header naming a tier the token does not grant, and counts it', async () => {
    const token = await issuer.sign({ sub: 'carol', plan: 'free' });
    const error = await refusal(ask(xApiKeyClient(token, { 'x-plan': 'enterprise' })));
    assert.equal(error.status, 403);
    assert.equal(errorOf(error).error?.type, 'permission_error');
    assert.match(errorOf(error).error?.message ?? '', /x-plan/);

    assert.match(
      await metrics(),
      /ai_gateway_identity_refusals_total\{reason="tier_not_granted"\} 1\b/,
    );
    assert.ok(!gateway.output().includes(token.split('.')[1]), 'the token is never logged');
  });

  it('reads x-goog-api-key on the Gemini edge the same way, and refuses it beside a different bearer', async () => {
    const token = await issuer.sign({ sub: 'dana', plan: 'free' });
    const generate = (headers: Record<string, string>) =>
      fetch(`${gateway.baseUrl}/v1beta/models/claude-local:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hello' }] }] }),
      });
    const served = await generate({ 'x-goog-api-key': token });
    assert.equal(served.status, 200, await served.clone().text());
    const other = await issuer.sign({ sub: 'erin', plan: 'free' });
    const refused = await generate({ 'x-goog-api-key': token, authorization: `Bearer ${other}` });
    assert.equal(refused.status, 401);
    const body = (await refused.json()) as { error: { code: number; status: string } };
    assert.equal(body.error.code, 401);
    assert.equal(body.error.status, 'UNAUTHENTICATED');
  });
});
