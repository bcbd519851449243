import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const ISSUER = 'https://auth.agent-platform.test';

function configYaml(jwksUri: string, upstreamUrl: string): string {
  return `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: agent-platform}
spec:
  backends:
  - {name: big, provider: local, model: gpt-4}
  - {name: small, provider: local, model: gpt-3.5-turbo}
  userIdentification:
    header: x-user-id
    jwt: {claim: sub, provider: agent-auth}
  userTiers:
  - name: free
    selector: {header: x-user-plan, value: free}
    tokenBudget: {daily: 10000}
    allowedModels: [gpt-3.5-turbo]
  - name: pro
    selector: {header: x-user-plan, value: pro}
    tokenBudget: {daily: 100000}
    allowedModels: [gpt-4, gpt-3.5-turbo]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: agent-sandbox}
spec:
  backends:
  - {name: mini, provider: local, model: gpt-4o-mini}
  userIdentification:
    header: x-user-id
    jwt: {claim: sub, provider: agent-auth}
  userTiers:
  - name: trial
    default: true
    selector: {header: x-user-plan, value: trial}
    tokenBudget: {daily: 10000}
    allowedModels: [gpt-4o-mini]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: agent-upstream}
spec:
  backends:
  - {name: remote, provider: vllm, baseUrl: ${upstreamUrl}, model: remote-model}
  userIdentification:
    header: x-user-id
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open-upstream}
spec:
  backends:
  - {name: open-remote, provider: vllm, baseUrl: ${upstreamUrl}, model: open-remote-model}
  userIdentification:
    header: x-user-id
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: agent-auth}
spec:
  targetRefs:
  - kind: AIGatewayRoute
    name: agent-platform
  - kind: AIGatewayRoute
    name: agent-upstream
  jwt:
    providers:
    - name: agent-auth
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS:
        uri: ${jwksUri}
      claimToHeaders:
      - claim: sub
        header: x-user-id
      - claim: plan
        header: x-user-plan
`;
}

describe('all-in-one gateway with a JWT SecurityPolicy', () => {
  const jwks = new LocalJwksServer();
  const upstream = new FakeOpenAiUpstream('remote');
  let issuer: TestIssuer;
  let gateway: AppProcess;

  const chat = (model: string, headers: Record<string, string>) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    });

  before(async () => {
    await Promise.all([jwks.start(), upstream.start()]);
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-identity-e2e-'));
    const config = join(dir, 'identity.yaml');
    writeFileSync(config, configYaml(jwks.url, upstream.baseUrl));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([jwks.stop(), upstream.stop()]);
  });

  it("sends the provider none of the identity headers it set from the token's claims", async () => {
    upstream.reset();
    const token = await issuer.sign({ sub: 'dana@example.com', plan: 'pro' });
    const response = await chat('remote-model', {
      authorization: `Bearer ${token}`,
      'x-user-id': 'mallory',
      'x-request-tag': 'tag-1',
    });
    assert.equal(response.status, 200, await response.clone().text());
    const call = upstream.calls[0];
    assert.ok(call);
    assert.equal(call.headers['x-user-id'], undefined);
    assert.equal(call.headers['x-user-plan'], undefined);
    assert.ok(!JSON.stringify(call.headers).includes('dana@example.com'));
    assert.ok(!JSON.stringify(call.headers).includes('mallory'));
    assert.equal(call.headers['x-request-tag'], 'tag-1');
  });

  it('forwards a header the client chose to send on a route without JWT', async () => {
    upstream.reset();
    const response = await chat('open-remote-model', { 'x-user-id': 'erin' });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(upstream.calls[0]?.headers['x-user-id'], 'erin');
  });

  it('answers 401 without a token, and with a forged one, leaking nothing', async () => {
    const missing = await chat('gpt-4', { 'x-user-id': 'mallory' });
    assert.equal(missing.status, 401);
    const body = (await missing.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'authentication_error');

    const forged = await issuer.signWithForeignKey({ sub: 'mallory', plan: 'pro' });
    const bad = await chat('gpt-4', { authorization: `Bearer ${forged}` });
    assert.equal(bad.status, 401);
    const text = await bad.text();
    for (const leak of [forged.split('.')[1].slice(0, 16), issuer.kid, ISSUER, 'mallory']) {
      assert.ok(!text.includes(leak), `the 401 body must not contain ${leak}`);
    }
  });

  it('serves a valid token, and bills the token subject, not a spoofed x-user-id', async () => {
    const token = await issuer.sign({ sub: 'alice', plan: 'pro' });
    for (let i = 0; i < 2; i++) {
      const response = await chat('gpt-4', {
        authorization: `Bearer ${token}`,
        'x-user-id': 'mallory',
        'x-user-plan': 'enterprise',
      });
      assert.equal(response.status, 200, await response.clone().text());
    }
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.match(metrics, /ai_gateway_tokens_total\{user="alice",model="gpt-4",type="input"\} \d+/);
    assert.doesNotMatch(metrics, /user="mallory"/);
  });

  it("enforces the tier chosen by the token's plan claim", async () => {
    const free = await issuer.sign({ sub: 'bob', plan: 'free' });
    const allowed = await chat('gpt-3.5-turbo', { authorization: `Bearer ${free}` });
    assert.equal(allowed.status, 200);
    const denied = await chat('gpt-4', {
      authorization: `Bearer ${free}`,
      'x-user-plan': 'pro', // a client-sent plan header is dropped, not trusted
    });
    assert.equal(denied.status, 403);
    const body = (await denied.json()) as { error: { type: string } };
    assert.equal(body.error.type, 'permission_error');

    const noTier = await issuer.sign({ sub: 'carol', plan: 'gold' });
    const unmatched = await chat('gpt-3.5-turbo', { authorization: `Bearer ${noTier}` });
    assert.equal(unmatched.status, 403);
    assert.ok(!(await unmatched.text()).includes('gold'));
  });

  it('gives a token matching no tier the default tier of a route that has one', async () => {
    const noTier = await issuer.sign({ sub: 'carol', plan: 'gold' });
    const served = await chat('gpt-4o-mini', { authorization: `Bearer ${noTier}` });
    assert.equal(served.status, 200, await served.clone().text());
  });
});
