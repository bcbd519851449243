// Azure OpenAI clients against the split deployment's ingress (ingress, router and
// provider-adapter as three processes): the ingress serves the Azure-style paths from the
// same route table as the all-in-one gateway, and the call crosses both internal hops as
// the OpenAI endpoint it stands for, the deployment the model.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { AzureOpenAI, NotFoundError } from 'openai';
import { GatewayEndpoint } from '@aigw/contracts';
import { metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

describe('split deployment: Azure OpenAI clients at the ingress', () => {
  const upstream = new FakeOpenAiUpstream('split-azure');
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-azure-'));
  const services: AppProcess[] = [];
  let ingress: AppProcess;

  before(async () => {
    await upstream.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-azure}
spec:
  backends:
  - {name: chat, provider: vllm, baseUrl: "${upstream.baseUrl}", model: upstream-chat, modelNameOverride: chat-prod}
  - {name: embed, provider: vllm, baseUrl: "${upstream.baseUrl}", model: upstream-embed, modelNameOverride: embedder}
`,
    );
    ({ ingress } = await startSplitDataPlane({ AI_GATEWAY_CONFIG: path }, dir, services));
  });
  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  const azure = (deployment?: string) =>
    new AzureOpenAI({
      endpoint: ingress.baseUrl,
      apiKey: 'azure-style-key',
      apiVersion: '2025-04-01-preview',
      deployment,
      maxRetries: 0,
    });
  const requests = async (route: string) =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${ingress.adminPort}/metrics`)).text(),
      'ai_gateway_requests_total',
      { route, status: '200' },
    );

  it('answers chat at the deployment path, plain and streamed, counted as chat', async () => {
    const before = await requests(GatewayEndpoint.ChatCompletions);
    const answer = await azure('chat-prod').chat.completions.create({
      model: 'ignored-by-azure',
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.equal(answer.choices[0].message.content, 'Hello from the fake upstream.');
    const stream = await azure().chat.completions.create({
      model: 'chat-prod',
      stream: true,
      messages: [{ role: 'user', content: 'hello' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'Hello from the fake upstream.');
    assert.deepEqual(
      upstream.calls.map((call) => [call.path, call.body.model]),
      [
        ['/v1/chat/completions', 'upstream-chat'],
        ['/v1/chat/completions', 'upstream-chat'],
      ],
    );
    for (const call of upstream.calls) assert.equal(call.headers['api-key'], undefined);
    assert.equal((await requests(GatewayEndpoint.ChatCompletions)) - before, 2);
  });

  it('answers embeddings at the deployment path and at /openai/v1', async () => {
    const viaDeployment = await azure('embedder').embeddings.create({
      model: 'embedder',
      input: 'a',
      encoding_format: 'float',
    });
    const v1 = new OpenAI({ baseURL: `${ingress.baseUrl}/openai/v1/`, apiKey: 'k', maxRetries: 0 });
    const viaV1 = await v1.embeddings.create({
      model: 'embedder',
      input: 'a',
      encoding_format: 'float',
    });
    for (const answer of [viaDeployment, viaV1]) {
      assert.deepEqual(answer.data[0].embedding, [0.1, 0.2, 0.3]);
    }
    assert.deepEqual(
      upstream.calls.map((call) => [call.path, call.body.model]),
      [
        ['/v1/embeddings', 'upstream-embed'],
        ['/v1/embeddings', 'upstream-embed'],
      ],
    );
  });

  it('answers an unknown deployment with the unknown-model 404', async () => {
    await assert.rejects(
      azure('no-such-deployment').chat.completions.create({
        model: 'x',
        messages: [{ role: 'user', content: 'hello' }],
      }),
      (error: unknown) => {
        assert.ok(error instanceof NotFoundError, String(error));
        assert.equal(error.code, 'model_not_found');
        return true;
      },
    );
    assert.equal(upstream.calls.length, 0);
  });
});
