// An Azure OpenAI deployment is named by its owner (`prod-chat`), not by the model it runs:
// the catalog knows no such name, so its calls were metered at $0 (and dollar budgets never
// charged them). Azure names the model in every answer (`"model": "gpt-4o-2024-08-06"`, in
// JSON and in each stream chunk): a deployment without a price of its own is priced as that
// model. A `modelPricing` entry for the deployment still wins.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAzureOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const yaml = (azureUrl: string) => `kind: AIGatewayRoute
metadata: {name: azure-prices}
spec:
  backends:
  - {name: azure-chat, provider: azure, baseUrl: "${azureUrl}", auth: {apiKeyRef: {name: azure-key}}, model: prod-chat, modelNameOverride: chat}
  - {name: azure-priced, provider: azure, baseUrl: "${azureUrl}", auth: {apiKeyRef: {name: azure-key}}, model: team-chat, modelNameOverride: team}
  - {name: azure-embed, provider: azure, baseUrl: "${azureUrl}", auth: {apiKeyRef: {name: azure-key}}, model: prod-embed, modelNameOverride: embed}
  userIdentification: {header: x-user-id}
  costControl:
    modelPricing:
      team-chat: {inputPer1k: 1, outputPer1k: 1}
`;

/** gpt-4o's list price ($2.50 and $10 per million) for the fake's 11 input and 4 output tokens. */
const GPT_4O_DOLLARS = (11 * 2.5 + 4 * 10) / 1e6;
/** text-embedding-3-small's ($0.02 per million) for the fake's 3 input tokens. */
const EMBEDDING_DOLLARS = (3 * 0.02) / 1e6;

describe('an Azure deployment priced as the model Azure answered', () => {
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

  const post = (path: string, user: string, body: unknown) =>
    fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify(body),
    });
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  const metric = (text: string, pattern: RegExp): number | undefined => {
    const line = text.split('\n').find((row) => pattern.test(row));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
  const messages = [{ role: 'user', content: 'hello' }];
  const near = (actual: number | undefined, expected: number) =>
    assert.ok(
      actual !== undefined && Math.abs(actual - expected) < 1e-12,
      `${actual} != ${expected}`,
    );

  it('prices a chat call, plain and streamed, as the answered model', async () => {
    const plain = await post('/v1/chat/completions', 'ann', { model: 'chat', messages });
    assert.equal(plain.status, 200, await plain.clone().text());
    near(Number(plain.headers.get('x-ai-gateway-cost-usd')), GPT_4O_DOLLARS);
    await plain.text();
    const streamed = await post('/v1/chat/completions', 'bob', {
      model: 'chat',
      messages,
      stream: true,
    });
    assert.equal(streamed.status, 200);
    assert.match(await streamed.text(), /data: \[DONE\]/);

    const text = await metrics();
    near(metric(text, /^ai_gateway_cost_dollars\{user="ann",model="chat"\}/), GPT_4O_DOLLARS);
    near(metric(text, /^ai_gateway_cost_dollars\{user="bob",model="chat"\}/), GPT_4O_DOLLARS);
    assert.equal(metric(text, /^ai_gateway_unpriced_calls_total\{model="prod-chat"\}/), undefined);
  });

  it('prices an embedding deployment as the answered model', async () => {
    const response = await post('/v1/embeddings', 'cid', { model: 'embed', input: 'hello' });
    assert.equal(response.status, 200, await response.clone().text());
    // The header is to a tenth of a micro-dollar.
    assert.equal(response.headers.get('x-ai-gateway-cost-usd'), '0.0000001');
    await response.text();
    const text = await metrics();
    near(metric(text, /^ai_gateway_cost_dollars\{user="cid",model="embed"\}/), EMBEDDING_DOLLARS);
    assert.equal(metric(text, /^ai_gateway_unpriced_calls_total\{model="prod-embed"\}/), undefined);
  });

  it("keeps the deployment's own modelPricing entry first", async () => {
    const response = await post('/v1/chat/completions', 'dee', { model: 'team', messages });
    assert.equal(response.status, 200, await response.clone().text());
    near(Number(response.headers.get('x-ai-gateway-cost-usd')), (11 + 4) / 1000);
    await response.text();
  });
});
