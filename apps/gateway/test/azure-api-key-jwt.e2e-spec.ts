// A JWT in `api-key`, the header Azure OpenAI's SDKs send their key in, on a JWT route: it is
// checked as a bearer token is, and never reaches a provider, neither an Azure backend (which
// gets the gateway's own api-key) nor any other. Raw requests to /v1/chat/completions carry
// the header as that client would; azure-openai-client.e2e-spec.ts drives the AzureOpenAI
// client itself at the Azure-style paths.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAzureOpenAiUpstream, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const ISSUER = 'https://auth.azure-clients.test';
const AZURE_BACKEND_KEY = 'azure-backend-key-5f1e';
const OPENAI_BACKEND_KEY = 'sk-openai-backend-9c2d';

const yaml = (jwksUri: string, azureUrl: string, openaiUrl: string) => `kind: AIGatewayRoute
metadata: {name: azure-clients}
spec:
  backends:
  - {name: azure, provider: azure, baseUrl: "${azureUrl}", auth: {apiKeyRef: {name: azure-key}}, model: gpt-4o-deployment, modelNameOverride: azure-gpt}
  - {name: openai, provider: openai, baseUrl: "${openaiUrl}", auth: {apiKeyRef: {name: openai-key}}, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
---
kind: SecurityPolicy
metadata: {name: azure-auth}
spec:
  targetRefs:
  - {kind: AIGatewayRoute, name: azure-clients}
  jwt:
    providers:
    - name: azure-auth
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders:
      - {claim: sub, header: x-user-id}
`;

describe('a JWT in api-key (Azure OpenAI clients), all-in-one gateway', () => {
  const jwks = new LocalJwksServer();
  const azure = new FakeAzureOpenAiUpstream();
  const openai = new FakeOpenAiUpstream('openai');
  let issuer: TestIssuer;
  let gateway: AppProcess;

  before(async () => {
    await Promise.all([jwks.start(), azure.start(), openai.start()]);
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    gateway = await startGatewayWithConfig(yaml(jwks.url, azure.baseUrl, openai.baseUrl), {
      AI_GATEWAY_SECRET_AZURE_KEY_APIKEY: AZURE_BACKEND_KEY,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: OPENAI_BACKEND_KEY,
    });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([jwks.stop(), azure.stop(), openai.stop()]);
  });
  beforeEach(() => {
    azure.calls.length = 0;
    openai.reset();
  });

  const chat = (model: string, headers: Record<string, string>, stream = false) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hello' }] }),
    });
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  /** Every header value a backend received, to look for the client's token in. */
  const sentValues = (calls: readonly { headers: Record<string, unknown> }[]) =>
    calls.flatMap((call) => Object.values(call.headers).map(String)).join('\n');

  it('authenticates the token in api-key; the Azure backend gets the gateway key, not the token', async () => {
    const token = await issuer.sign({ sub: 'alice' });
    const response = await chat('azure-gpt', { 'api-key': token });
    assert.equal(response.status, 200, await response.clone().text());
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0].message.content, 'Hello from Azure.');

    assert.equal(azure.calls.length, 1);
    const [call] = azure.calls;
    assert.equal(call.path, '/openai/deployments/gpt-4o-deployment/chat/completions');
    assert.equal(call.headers['api-key'], AZURE_BACKEND_KEY);
    assert.equal(call.headers.authorization, undefined);
    assert.ok(!sentValues(azure.calls).includes(token), 'the client token reached Azure');
    // The token's sub named the user.
    assert.match(await metrics(), /ai_gateway_tokens_total\{user="alice",model="azure-gpt"/);
  });

  it('never forwards api-key to another provider either, streamed or not', async () => {
    const token = await issuer.sign({ sub: 'bob' });
    for (const stream of [false, true]) {
      const response = await chat('gpt-4o-mini', { 'Api-Key': token }, stream);
      assert.equal(response.status, 200, await response.clone().text());
      await response.text();
    }
    assert.equal(openai.calls.length, 2);
    for (const call of openai.calls) {
      assert.equal(call.headers['api-key'], undefined);
      assert.equal(call.headers.authorization, `Bearer ${OPENAI_BACKEND_KEY}`);
    }
    assert.ok(!sentValues(openai.calls).includes(token), 'the client token reached OpenAI');
  });

  it('refuses api-key beside a different credential with 401, named, counted, never echoed', async () => {
    const carol = await issuer.sign({ sub: 'carol' });
    const mallory = await issuer.sign({ sub: 'mallory' });
    const before = await metrics();
    const refused = [
      await chat('azure-gpt', { authorization: `Bearer ${carol}`, 'api-key': mallory }),
      // An Azure resource key left in the client beside the token.
      await chat('azure-gpt', {
        'x-api-key': carol,
        'api-key': '0123456789abcdef0123456789abcdef',
      }),
    ];
    const named = [/authorization and api-key/, /x-api-key and api-key/];
    for (const [i, response] of refused.entries()) {
      assert.equal(response.status, 401);
      const text = await response.text();
      const body = JSON.parse(text) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'authentication_error');
      assert.match(body.error.message, named[i]);
      for (const secret of [carol, mallory]) assert.ok(!text.includes(secret.split('.')[1]));
      assert.ok(!text.includes('0123456789abcdef'));
    }
    assert.equal(azure.calls.length, 0, 'a refused request reaches no backend');
    const counted = (text: string) =>
      Number(
        /ai_gateway_identity_refusals_total\{reason="conflicting_credentials"\} (\d+)/.exec(
          text,
        )?.[1] ?? 0,
      );
    assert.equal(counted(await metrics()) - counted(before), 2);
  });

  it('refuses a forged token or a plain Azure key in api-key with 401', async () => {
    const forged = await issuer.signWithForeignKey({ sub: 'alice' });
    for (const key of [forged, '0123456789abcdef0123456789abcdef']) {
      const response = await chat('azure-gpt', { 'api-key': key });
      assert.equal(response.status, 401);
      const body = (await response.json()) as { error: { type: string } };
      assert.equal(body.error.type, 'authentication_error');
    }
    assert.equal(azure.calls.length, 0);
  });

  it('logs no token sent in api-key', async () => {
    const token = await issuer.sign({ sub: 'dana' });
    const response = await chat('azure-gpt', { 'api-key': token });
    assert.equal(response.status, 200);
    await response.text();
    const output = gateway.output();
    assert.ok(!output.includes(token.split('.')[1]), 'a token payload is in the logs');
    assert.ok(!output.includes(token.split('.')[2]), 'a token signature is in the logs');
  });
});
