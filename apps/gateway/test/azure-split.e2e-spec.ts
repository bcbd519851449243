// What an Azure OpenAI backend tells the gateway crosses the split deployment's internal hops
// (provider-adapter -> router -> ingress) as it stays in the all-in-one gateway: a
// content-filter refusal's `innererror`, and the model Azure answered as, by which a
// deployment without a price of its own is priced (the ingress's cost header).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAzureOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const yaml = (azureUrl: string) => `kind: AIGatewayRoute
metadata: {name: azure-split}
spec:
  backends:
  - {name: azure, provider: azure, baseUrl: "${azureUrl}", auth: {apiKeyRef: {name: azure-key}}, model: prod-chat, modelNameOverride: chat}
`;

const INNER_ERROR = {
  code: 'ResponsibleAIPolicyViolation',
  content_filter_result: {
    hate: { filtered: false, severity: 'safe' },
    self_harm: { filtered: true, severity: 'medium' },
  },
};

describe('Azure OpenAI through the split deployment', () => {
  const azure = new FakeAzureOpenAiUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-azure-split-'));
  const apps: AppProcess[] = [];
  let ingress: AppProcess;

  before(async () => {
    await azure.start();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, yaml(azure.baseUrl));
    const env = { AI_GATEWAY_CONFIG: config };
    const adapterEnv = { AI_GATEWAY_SECRET_AZURE_KEY_APIKEY: '0123456789abcdef0123456789abcdef' };
    ({ ingress } = await startSplitDataPlane(env, dir, apps, adapterEnv));
  });
  after(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await azure.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const chat = () =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] }),
    });

  it("passes a content-filter refusal's innererror on", async () => {
    azure.next({
      kind: 'status',
      status: 400,
      body: {
        error: {
          message: 'filtered',
          code: 'content_filter',
          param: 'prompt',
          status: 400,
          innererror: INNER_ERROR,
        },
      },
    });
    const response = await chat();
    const text = await response.text();
    assert.equal(response.status, 400, text);
    const { error } = JSON.parse(text) as {
      error: { code: string; message: string; innererror: unknown };
    };
    assert.equal(error.code, 'content_filter');
    assert.deepEqual(error.innererror, INNER_ERROR);
    assert.match(error.message, /\(filtered: self_harm \(medium\)\)$/);
  });

  it('prices the deployment as the model Azure answered as', async () => {
    const response = await chat();
    assert.equal(response.status, 200, await response.clone().text());
    // gpt-4o's list price for the fake's 11 input and 4 output tokens.
    assert.equal(response.headers.get('x-ai-gateway-cost-usd'), '0.0000675');
    await response.text();
  });
});
