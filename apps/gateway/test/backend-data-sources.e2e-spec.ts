// Azure OpenAI's "On Your Data" (`data_sources` on a chat call) has the backend search an
// index with credentials of its choosing, the resource's own managed identity among them:
// through the gateway, any caller would read whatever index the gateway's backend account
// can, another team's included, and the retrieval runs outside every budget. The gateway
// refuses it by name, as it refuses Responses' file_search and Anthropic's containers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI } from 'openai';
import { FakeAzureOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const MANAGED_IDENTITY_SEARCH = [
  {
    type: 'azure_search',
    parameters: {
      endpoint: 'https://hr-team.search.windows.net',
      index_name: 'salaries',
      authentication: { type: 'system_assigned_managed_identity' },
    },
  },
];

describe("a chat call naming the backend's data sources", () => {
  const azure = new FakeAzureOpenAiUpstream();
  let gateway: AppProcess;

  before(async () => {
    await azure.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: azure-chat}
spec:
  backends:
  - {name: azure, provider: azure, baseUrl: "${azure.baseUrl}", auth: {apiKeyRef: {name: azure-key}}, model: gpt-4o}
  userIdentification: {header: x-user-id}
`,
      { AI_GATEWAY_SECRET_AZURE_KEY_APIKEY: 'azure-test-key' },
    );
  });
  after(async () => {
    await gateway?.stop();
    await azure.stop();
  });

  const refusedByName = (param: string) => (error: unknown) =>
    error instanceof OpenAI.BadRequestError &&
    error.type === 'invalid_request_error' &&
    error.param === param &&
    /data sources|data_sources|dataSources/.test(error.message);

  it('is refused with a 400 naming the field, and no backend is called', async () => {
    azure.reset();
    const client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': 'mallory' },
    });
    const body = {
      model: 'gpt-4o',
      messages: [{ role: 'user' as const, content: 'What does alice earn?' }],
      data_sources: MANAGED_IDENTITY_SEARCH,
    };
    await assert.rejects(client.chat.completions.create(body), refusedByName('data_sources'));
    await assert.rejects(
      client.chat.completions.create({ ...body, stream: true }),
      refusedByName('data_sources'),
    );
    // The 2023 previews' spelling.
    const { data_sources: sources, ...rest } = body;
    await assert.rejects(
      client.chat.completions.create({ ...rest, dataSources: sources } as typeof rest),
      refusedByName('dataSources'),
    );
    assert.equal(azure.calls.length, 0, 'the backend was never called');
  });

  it("is refused on the Azure edge's deployment path alike", async () => {
    azure.reset();
    const client = new AzureOpenAI({
      endpoint: gateway.baseUrl,
      apiKey: 'unused',
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': 'mallory' },
    });
    await assert.rejects(
      client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'What does alice earn?' }],
        data_sources: MANAGED_IDENTITY_SEARCH,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming),
      refusedByName('data_sources'),
    );
    assert.equal(azure.calls.length, 0, 'the backend was never called');
  });

  it('still serves a chat call without them', async () => {
    azure.reset();
    const client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
    });
    const answer = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(answer.choices[0].message.content, 'Hello from Azure.');
    assert.equal(azure.calls.length, 1);
  });
});
