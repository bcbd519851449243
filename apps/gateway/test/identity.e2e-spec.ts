import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const ISSUER = 'https://auth.agent-platform.test';

function configYaml(jwksUri: string, upstreamUrl: string, brokenJwksUri: string): string {
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
kind: AIGatewayRoute
metadata: {name: agent-keys-down}
spec:
  backends:
  - {name: down, provider: local, model: keys-down-model}
  userIdentification:
    header: x-user-id
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: broken-auth}
spec:
  targetRefs:
  - kind: AIGatewayRoute
    name: agent-keys-down
  jwt:
    providers:
    - name: broken-auth
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS:
        uri: ${brokenJwksUri}
      claimToHeaders:
      - claim: sub
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
  // A key-set endpoint answering garbage, as a misconfigured or failing provider does.
  const brokenJwks = createServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>'),
  );
  let issuer: TestIssuer;
  let gateway: AppProcess;

  const chat = (model: string, headers: Record<string, string>) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    });

  before(async () => {
    await Promise.all([
      jwks.start(),
      upstream.start(),
      new Promise<void>((resolve) => brokenJwks.listen(0, '127.0.0.1', resolve)),
    ]);
    const brokenPort = (brokenJwks.address() as AddressInfo).port;
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-identity-e2e-'));
    const config = join(dir, 'identity.yaml');
    writeFileSync(
      config,
      configYaml(jwks.url, upstream.baseUrl, `http://127.0.0.1:${brokenPort}/jwks.json`),
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(async () => {
    await gateway?.stop();
    brokenJwks.closeAllConnections();
    await Promise.all([
      jwks.stop(),
      upstream.stop(),
      new Promise((resolve) => brokenJwks.close(resolve)),
    ]);
  });

  it("answers 503 with Retry-After, not 401, when the provider's keys cannot be fetched", async () => {
    const token = await issuer.sign({ sub: 'gina', plan: 'pro' });
    const openai = await chat('keys-down-model', { authorization: `Bearer ${token}` });
    assert.equal(openai.status, 503);
    assert.equal(openai.headers.get('retry-after'), '5');
    const openaiBody = (await openai.json()) as { error: { type: string; code: string } };
    assert.equal(openaiBody.error.type, 'service_unavailable');
    assert.equal(openaiBody.error.code, 'identity_provider_unavailable');

    // Anthropic's "try again shortly" status, as for every unavailable dependency there.
    const messages = await fetch(`${gateway.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        model: 'keys-down-model',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hello' }],
      }),
    });
    assert.equal(messages.status, 529);
    assert.ok(messages.headers.get('retry-after'));
    const messagesBody = (await messages.json()) as { type: string; error: { type: string } };
    assert.equal(messagesBody.type, 'error');
    assert.equal(messagesBody.error.type, 'overloaded_error');

    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.match(
      metrics,
      /ai_gateway_identity_keys_unavailable_total\{reason="(bad_response|backoff)"\} \d+/,
    );
    // The fetch itself is counted by result, as a failing background refresh would be.
    assert.match(
      metrics,
      /ai_gateway_identity_key_fetches_total\{jwks_host="127\.0\.0\.1:\d+",result="bad_response"\} [1-9]/,
    );
    assert.ok(!gateway.output().includes(token.split('.')[1]), 'the token is never logged');
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
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    const body = (await missing.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'authentication_error');

    const forged = await issuer.signWithForeignKey({ sub: 'mallory', plan: 'pro' });
    const bad = await chat('gpt-4', { authorization: `Bearer ${forged}` });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    const text = await bad.text();
    for (const leak of [forged.split('.')[1].slice(0, 16), issuer.kid, ISSUER, 'mallory']) {
      assert.ok(!text.includes(leak), `the 401 body must not contain ${leak}`);
    }
  });

  it('counts refusals by reason on every endpoint that identifies callers, not only model calls', async () => {
    const refusals = async (reason: string) => {
      const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
      const line = new RegExp(
        `^ai_gateway_identity_refusals_total\\{reason="${reason}"\\} (\\d+)$`,
        'm',
      );
      return Number(line.exec(text)?.[1] ?? 0);
    };
    const expiredBefore = await refusals('expired');
    const expired = await issuer.sign({ sub: 'hal', plan: 'pro' }, { expiresIn: -300 });
    const counted = await fetch(`${gateway.baseUrl}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${expired}` },
      body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(counted.status, 401);
    assert.equal(
      ((await counted.json()) as { error: { type: string } }).error.type,
      'authentication_error',
    );
    assert.equal(await refusals('expired'), expiredBefore + 1);

    const forgedBefore = await refusals('bad_signature');
    const forged = await issuer.signWithForeignKey({ sub: 'mallory', plan: 'pro' });
    const files = await fetch(`${gateway.baseUrl}/v1/files`, {
      headers: { authorization: `Bearer ${forged}`, 'x-ai-gateway-model': 'gpt-4' },
    });
    assert.equal(files.status, 401);
    assert.equal(await refusals('bad_signature'), forgedBefore + 1);
  });

  it('refuses a token whose user claim cannot name one user, never serving it as another', async () => {
    // agent-sandbox has a default tier: read as anonymous (or trimmed to alice), these were served.
    const subs: unknown[] = [' alice', { id: 'alice' }, 2 ** 60, 'al\ud800ice'];
    for (const sub of subs) {
      // Claims of any JSON type, as a provider may sign them (JWTPayload types sub a string).
      const claims: Record<string, unknown> = { sub };
      const token = await issuer.sign(claims);
      const response = await chat('gpt-4o-mini', { authorization: `Bearer ${token}` });
      assert.equal(response.status, 401, `sub ${JSON.stringify(sub)}`);
      const body = (await response.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'authentication_error');
      assert.match(body.error.message, /claim 'sub' does not name a user/);
      assert.ok(!body.error.message.includes('alice'), 'the claim value is never echoed');
    }
  });

  it('refuses a token without the user claim, never serving it as anonymous', async () => {
    // As a client gets when it leaves a scope out: agent-sandbox's default tier served it.
    const token = await issuer.sign({ email: 'alice@example.com' });
    const response = await chat('gpt-4o-mini', {
      authorization: `Bearer ${token}`,
      'x-user-id': 'mallory',
    });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'authentication_error');
    assert.equal(
      body.error.message,
      "The bearer token does not name a user: it has no claim 'sub'",
    );
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
