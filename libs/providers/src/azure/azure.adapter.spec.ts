import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequest, StreamAnswer, UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  collectStream,
  FakeAzureOpenAiUpstream,
  gatewayChatRequest,
  itMapsUpstreamFailures,
  streamedText,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { AzureOpenAiAdapter } from './azure.adapter';
import {
  AZURE_DEFAULT_API_VERSION,
  azureDeploymentUrl,
  azureTakesNewerChatFields,
} from './azure-urls';

describe('azureDeploymentUrl', () => {
  it('builds the deployment URL with the default api-version', () => {
    assert.equal(
      azureDeploymentUrl('https://res.openai.azure.com', 'gpt4o-prod', 'chat', {}),
      `https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=${AZURE_DEFAULT_API_VERSION}`,
    );
  });

  it('has no URL for moderations or rerank, which Azure OpenAI does not serve', () => {
    for (const operation of ['moderations', 'rerank'] as const) {
      assert.throws(
        () => azureDeploymentUrl('https://res.openai.azure.com', 'd', operation, {}),
        new RegExp(`Azure OpenAI has no ${operation} API`),
      );
    }
  });

  it('takes the api-version from baseUrl first, then AZURE_OPENAI_API_VERSION', () => {
    assert.equal(
      azureDeploymentUrl(
        'https://res.openai.azure.com/openai/?api-version=2025-01-01',
        'd',
        'embeddings',
        {
          AZURE_OPENAI_API_VERSION: '2024-06-01',
        },
      ),
      'https://res.openai.azure.com/openai/deployments/d/embeddings?api-version=2025-01-01',
    );
    assert.equal(
      azureDeploymentUrl('https://res.openai.azure.com', 'd', 'completions', {
        AZURE_OPENAI_API_VERSION: '2024-06-01',
      }),
      'https://res.openai.azure.com/openai/deployments/d/completions?api-version=2024-06-01',
    );
  });

  it('reads a baseUrl ending in /openai/v1 (Azure v1 API base URL) as the resource endpoint', () => {
    // The same backend's Files, Batch and Realtime calls read it so (heldObjectUrl, realtimeUrl).
    assert.equal(
      azureDeploymentUrl('https://res.openai.azure.com/openai/v1/', 'd', 'chat', {}),
      `https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=${AZURE_DEFAULT_API_VERSION}`,
    );
  });

  it('calls the v1 API, without api-version, when the version asked for is v1', () => {
    assert.equal(
      azureDeploymentUrl('https://res.openai.azure.com/openai/v1?api-version=v1', 'd', 'chat', {}),
      'https://res.openai.azure.com/openai/v1/chat/completions',
    );
    assert.equal(
      azureDeploymentUrl('https://res.openai.azure.com', 'd', 'embeddings', {
        AZURE_OPENAI_API_VERSION: 'v1',
      }),
      'https://res.openai.azure.com/openai/v1/embeddings',
    );
  });

  it('knows which api-versions take stream_options and max_completion_tokens', () => {
    for (const version of ['2024-02-01', '2024-06-01', '2024-08-01-preview']) {
      assert.equal(azureTakesNewerChatFields(version), false, version);
    }
    for (const version of ['2024-09-01-preview', AZURE_DEFAULT_API_VERSION, '2025-04-01-preview']) {
      assert.equal(azureTakesNewerChatFields(version), true, version);
    }
    assert.equal(azureTakesNewerChatFields('v1'), true);
  });

  it('refuses a backend without baseUrl', () => {
    assert.throws(() => azureDeploymentUrl(undefined, 'd', 'chat', {}), /baseUrl/);
  });
});

const JSON_ANSWER = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
};

describe('AzureOpenAiAdapter against a fake Azure OpenAI resource', () => {
  const upstream = new FakeAzureOpenAiUpstream();
  const adapter = new AzureOpenAiAdapter();
  let target: UpstreamTarget;
  const invoke = (request: GatewayRequest) =>
    adapter.invoke({ request, target, signal: new AbortController().signal });

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'azure', model: 'gpt4o-prod', baseUrl: upstream.baseUrl },
      { headerName: 'api-key', value: 'azure-secret-key' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('calls the deployment URL with api-version and the api-key header', async () => {
    const answer = await invoke(gatewayChatRequest({ temperature: 0.2, max_tokens: 64 }));
    assert.equal(answer.kind, 'json');
    const call = upstream.calls[0];
    assert.equal(call.path, '/openai/deployments/gpt4o-prod/chat/completions');
    assert.deepEqual(call.query, { 'api-version': AZURE_DEFAULT_API_VERSION });
    assert.equal(call.headers['api-key'], 'azure-secret-key');
    assert.equal(call.headers.authorization, undefined);
    assert.equal(call.body.temperature, 0.2);
    assert.equal(call.body.max_completion_tokens, 64);
    assert.equal('max_tokens' in call.body, false);
    assert.deepEqual(answer.usage, {
      inputTokens: 11,
      outputTokens: 4,
      cachedInputTokens: 0,
      source: 'reported',
      // The model behind the deployment, as Azure's answer names it: priced when the
      // deployment's own name has no price.
      answeredModel: 'gpt-4o-2024-08-06',
    });
  });

  it("names the model Azure answered as in a stream's usage and an embedding's", async () => {
    const streamed = (await invoke(gatewayChatRequest({ stream: true }))) as StreamAnswer;
    await collectStream(streamed);
    // The prompt-filter chunk that opens the stream names none ("").
    assert.equal((await streamed.usage).answeredModel, 'gpt-4o-2024-08-06');
    const embedded = await invoke(gatewayChatRequest({ input: 'x' }, { operation: 'embeddings' }));
    assert.equal(
      embedded.kind === 'json' && embedded.usage.answeredModel,
      'text-embedding-3-small',
    );
  });

  it('names no answered model when Azure answers with the deployment name', async () => {
    const body = { ...JSON_ANSWER, model: 'gpt4o-prod' };
    upstream.next({ kind: 'json', body });
    const answer = await invoke(gatewayChatRequest());
    assert.equal(answer.kind === 'json' && answer.usage.answeredModel, undefined);
  });

  it("calls Azure's v1 API with the deployment as the model when the api-version is v1", async () => {
    const v1 = { ...target, baseUrl: `${upstream.baseUrl}/openai/v1?api-version=v1` };
    const answer = await adapter.invoke({
      request: gatewayChatRequest(),
      target: v1,
      signal: new AbortController().signal,
    });
    assert.equal(answer.kind, 'json');
    const call = upstream.calls[0];
    assert.equal(call.path, '/openai/v1/chat/completions');
    assert.deepEqual(call.query, {});
    assert.equal(call.body.model, 'gpt4o-prod');
    assert.equal(call.headers['api-key'], 'azure-secret-key');
  });

  it('sends an api-version before 2024-09-01-preview no stream_options or max_completion_tokens, which it refuses', async () => {
    // Azure answers 400 "Unrecognized request argument supplied" to either on 2024-06-01 and
    // older (GA 2024-02-01 and 2024-06-01 are still served): a stream is estimated instead.
    const old = { ...target, baseUrl: `${upstream.baseUrl}?api-version=2024-06-01` };
    const call = (request: GatewayRequest) =>
      adapter.invoke({ request, target: old, signal: new AbortController().signal });
    const streamed = (await call(
      gatewayChatRequest({ stream: true, max_completion_tokens: 64 }),
    )) as StreamAnswer;
    assert.equal(streamedText(await collectStream(streamed)), 'Hello from Azure.');
    assert.equal((await streamed.usage).source, 'estimated');
    const json = await call(gatewayChatRequest({ max_tokens: 32 }));
    assert.equal(json.kind, 'json');
    const [first, second] = upstream.calls;
    assert.equal('stream_options' in first.body, false);
    assert.equal(first.body.max_tokens, 64);
    assert.equal('max_completion_tokens' in first.body, false);
    assert.equal(second.body.max_tokens, 32);
    assert.equal('max_completion_tokens' in second.body, false);
  });

  it('routes embeddings to the deployment embeddings path', async () => {
    const request = gatewayChatRequest({ input: 'x' }, { operation: 'embeddings' });
    const answer = await invoke(request);
    assert.equal(upstream.calls[0].path, '/openai/deployments/gpt4o-prod/embeddings');
    assert.equal(answer.kind === 'json' && answer.usage.inputTokens, 3);
  });

  it('streams without the prompt-filter chunk and with reported usage', async () => {
    const answer = (await invoke(gatewayChatRequest({ stream: true }))) as StreamAnswer;
    const chunks = await collectStream(answer);
    assert.equal(streamedText(chunks), 'Hello from Azure.');
    assert.ok(chunks.every((chunk) => (chunk.choices as unknown[]).length > 0));
    assert.deepEqual(upstream.calls[0].body.stream_options, { include_usage: true });
    assert.equal((await answer.usage).outputTokens, 4);
    assert.equal((await answer.usage).source, 'reported');
  });

  it('passes the usage chunk to a client that asked for it', async () => {
    const request = gatewayChatRequest({ stream: true, stream_options: { include_usage: true } });
    const chunks = await collectStream((await invoke(request)) as StreamAnswer);
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.equal((chunks.at(-1)!.usage as { total_tokens: number }).total_tokens, 15);
  });

  itMapsUpstreamFailures({
    upstream: () => upstream,
    invoke,
    plain: () => gatewayChatRequest(),
    streaming: () => gatewayChatRequest({ stream: true }),
  });
});
