// Azure OpenAI's content filter as clients meet it through the gateway: the 400 Azure answers
// a prompt its filter blocks (`code: content_filter`, with `innererror.content_filter_result`
// naming the category that fired), on the OpenAI endpoints, the Azure deployment paths and
// /v1/messages; and streams that open with Azure's choice-less prompt-filter chunk or end with
// `finish_reason: content_filter`.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAzureOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const AZURE_KEY = '0123456789abcdef0123456789abcdef';

const yaml = (azureUrl: string) => `kind: AIGatewayRoute
metadata: {name: azure-filter}
spec:
  backends:
  - {name: azure, provider: azure, baseUrl: "${azureUrl}", auth: {apiKeyRef: {name: azure-key}}, model: prod-chat, modelNameOverride: chat}
  - {name: azure-images, provider: azure, baseUrl: "${azureUrl}", auth: {apiKeyRef: {name: azure-key}}, model: prod-dalle, modelNameOverride: dall-e-3}
  userIdentification: {header: x-user-id}
`;

/** Azure's 400 for a prompt its filter blocked, as its REST reference documents it. */
const FILTERED_PROMPT = {
  error: {
    message:
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
    type: null,
    param: 'prompt',
    code: 'content_filter',
    status: 400,
    innererror: {
      code: 'ResponsibleAIPolicyViolation',
      content_filter_result: {
        hate: { filtered: true, severity: 'high' },
        jailbreak: { filtered: false, detected: false },
        self_harm: { filtered: false, severity: 'safe' },
        sexual: { filtered: false, severity: 'safe' },
        violence: { filtered: false, severity: 'safe' },
      },
    },
  },
};

describe('Azure OpenAI content filter through the gateway', () => {
  const azure = new FakeAzureOpenAiUpstream();
  let gateway: AppProcess;

  before(async () => {
    await azure.start();
    gateway = await startGatewayWithConfig(yaml(azure.baseUrl), {
      AI_GATEWAY_SECRET_AZURE_KEY_APIKEY: AZURE_KEY,
    });
  });
  after(async () => {
    await gateway?.stop();
    await azure.stop();
  });
  beforeEach(() => azure.reset());

  const post = (path: string, body: unknown) =>
    fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'u1' },
      body: JSON.stringify(body),
    });
  const messages = [{ role: 'user', content: 'hello' }];

  for (const [path, stream] of [
    ['/v1/chat/completions', false],
    ['/v1/chat/completions', true],
    ['/openai/deployments/chat/chat/completions?api-version=2024-10-21', false],
  ] as const) {
    it(`passes the filter's verdict on to ${path}${stream ? ' (stream)' : ''}, as Azure sends it`, async () => {
      azure.next({ kind: 'status', status: 400, body: FILTERED_PROMPT });
      const response = await post(path, { model: 'chat', messages, stream });
      const text = await response.text();
      assert.equal(response.status, 400, text);
      const { error } = JSON.parse(text) as {
        error: { code: string; type: string; param: string | null; innererror?: unknown };
      };
      assert.equal(error.code, 'content_filter');
      assert.equal(error.type, 'invalid_request_error');
      assert.deepEqual(error.innererror, FILTERED_PROMPT.error.innererror);
      assert.ok(!text.includes(AZURE_KEY));
      assert.ok(!text.includes('127.0.0.1'), text);
    });
  }

  it('names the category that fired in a /v1/messages error, in Anthropic’s shape', async () => {
    azure.next({ kind: 'status', status: 400, body: FILTERED_PROMPT });
    const response = await post('/v1/messages', { model: 'chat', max_tokens: 50, messages });
    const text = await response.text();
    assert.equal(response.status, 400, text);
    const body = JSON.parse(text) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /content management policy/);
    assert.match(body.error.message, /\(filtered: hate \(high\)\)$/);
    assert.doesNotMatch(body.error.message, /sexual|violence|jailbreak/);
  });

  it("passes an image refusal's inner_error on under Azure's own name for it", async () => {
    // Azure's image generation words its content-filter refusal so.
    const inner = {
      code: 'ResponsibleAIPolicyViolation',
      content_filter_results: {
        sexual: { filtered: false, severity: 'safe' },
        violence: { filtered: true, severity: 'medium' },
      },
    };
    azure.next({
      kind: 'status',
      status: 400,
      body: {
        error: {
          code: 'content_policy_violation',
          inner_error: inner,
          message: 'Your request was rejected as a result of our safety system.',
          type: 'invalid_request_error',
        },
      },
    });
    const response = await post('/v1/images/generations', { model: 'dall-e-3', prompt: 'x' });
    const text = await response.text();
    assert.equal(response.status, 400, text);
    const { error } = JSON.parse(text) as {
      error: { code: string; message: string; inner_error?: unknown };
    };
    assert.equal(error.code, 'content_policy_violation');
    assert.deepEqual(error.inner_error, inner);
    assert.match(error.message, /\(filtered: violence \(medium\)\)$/);
  });

  it('streams a Messages answer from a stream opening with the prompt-filter chunk', async () => {
    const response = await post('/v1/messages', {
      model: 'chat',
      max_tokens: 50,
      messages,
      stream: true,
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    const deltas = [...text.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]);
    assert.equal(deltas.join(''), 'Hello from Azure.', text);
    assert.match(text, /"stop_reason":"end_turn"/);
    assert.match(text, /event: message_stop/);
  });
});
