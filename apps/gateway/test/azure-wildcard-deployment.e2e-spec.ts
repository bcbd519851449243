// An Azure backend without a `model` (a wildcard) calls the deployment the client names. A
// deployment that does not exist is Azure's 404 `DeploymentNotFound`: the client named a
// model that is not there, and hears so as Azure (and OpenAI, for an unknown model) says it,
// a 404 (the SDKs' NotFoundError), not a 400 that reads as a malformed request; no failover.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAzureOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const yaml = (azureUrl: string) => `kind: AIGatewayRoute
metadata: {name: azure-any}
spec:
  backends:
  - {name: azure, provider: azure, baseUrl: "${azureUrl}", auth: {apiKeyRef: {name: azure-key}}}
`;

/** What Azure answers a call to a deployment the resource does not have. */
const DEPLOYMENT_NOT_FOUND = {
  error: {
    code: 'DeploymentNotFound',
    message:
      'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
  },
};

describe("a wildcard Azure backend's missing deployment", () => {
  const azure = new FakeAzureOpenAiUpstream();
  let gateway: AppProcess;

  before(async () => {
    await azure.start();
    gateway = await startGatewayWithConfig(yaml(azure.baseUrl), {
      AI_GATEWAY_SECRET_AZURE_KEY_APIKEY: '0123456789abcdef0123456789abcdef',
    });
  });
  after(async () => {
    await gateway?.stop();
    await azure.stop();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const messages = [{ role: 'user', content: 'hello' }];

  for (const path of [
    '/v1/chat/completions',
    '/openai/deployments/no-such-deployment/chat/completions?api-version=2024-10-21',
  ]) {
    it(`is a 404 carrying Azure's code on ${path.split('?')[0]}`, async () => {
      azure.next({ kind: 'status', status: 404, body: DEPLOYMENT_NOT_FOUND });
      const response = await post(path, { model: 'no-such-deployment', messages });
      const text = await response.text();
      assert.equal(response.status, 404, text);
      const { error } = JSON.parse(text) as { error: { code: string; message: string } };
      assert.equal(error.code, 'DeploymentNotFound');
      assert.match(error.message, /deployment for this resource does not exist/);
      assert.equal(azure.calls.length, 1);
      azure.reset();
    });
  }

  it('is a 404 not_found_error on /v1/messages', async () => {
    azure.next({ kind: 'status', status: 404, body: DEPLOYMENT_NOT_FOUND });
    const response = await post('/v1/messages', {
      model: 'no-such-deployment',
      max_tokens: 20,
      messages,
    });
    const text = await response.text();
    assert.equal(response.status, 404, text);
    assert.equal((JSON.parse(text) as { error: { type: string } }).error.type, 'not_found_error');
  });

  it('still serves a deployment that exists', async () => {
    const response = await post('/v1/chat/completions', { model: 'prod-chat', messages });
    assert.equal(response.status, 200, await response.text());
  });
});
