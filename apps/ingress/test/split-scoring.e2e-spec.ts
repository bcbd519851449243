// Moderations and reranks in the split deployment (ingress, router and provider-adapter as
// three processes): a moderation through the official openai client and a rerank through
// fetch cross both internal hops under the served name, a failing backend fails over, and
// the ingress bills the rerank's search units that Cohere reported (usage.searches on the
// wire) at per1kSearches.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import {
  FAKE_FLAGGED_WORD,
  FakeCohereUpstream,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const COST_HEADER = 'x-ai-gateway-cost-usd';

describe('split deployment: moderations and rerank across the internal wire', () => {
  const openai = new FakeOpenAiUpstream('openai');
  const cohere = new FakeCohereUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-scoring-'));
  let services: AppProcess[] = [];
  let ingress: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([openai.start(), cohere.start()]);
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-scoring}
spec:
  backends:
  - {name: moderator, provider: openai, baseUrl: "${openai.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: omni-moderation-latest, modelNameOverride: guard}
  - {name: vllm-ranker, priority: 0, provider: vllm, baseUrl: "${openai.baseUrl}", model: bge-reranker, modelNameOverride: ranker}
  - {name: cohere-ranker, priority: 1, provider: cohere, baseUrl: "${cohere.baseUrl}", auth: {apiKeyRef: {name: cohere-key}}, model: rerank-v3.5, modelNameOverride: ranker}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
  costControl:
    modelPricing:
      rerank-v3.5: {inputPer1k: 0, outputPer1k: 0, per1kSearches: 2}
`,
    );
    const shared = { AI_GATEWAY_CONFIG: path };
    const adapter = await startApp('provider-adapter', {
      ...shared,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai-secret',
      AI_GATEWAY_SECRET_COHERE_KEY_APIKEY: 'co-secret',
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    const router = await startApp('router', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    ingress = await startApp('ingress', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    services = [ingress, router, adapter];
    client = new OpenAI({ baseURL: `${ingress.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await Promise.all([openai.stop(), cohere.stop()]);
  });

  beforeEach(() => {
    openai.reset();
    cohere.reset();
  });

  it('moderates across both hops under the served name', async () => {
    const data = await client.moderations.create({
      model: 'guard',
      input: ['fine', `an ${FAKE_FLAGGED_WORD}`],
    });
    assert.equal(data.model, 'guard');
    assert.deepEqual(
      data.results.map((result) => result.flagged),
      [false, true],
    );
    assert.equal(openai.calls[0].path, '/v1/moderations');
    assert.equal(openai.calls[0].headers.authorization, 'Bearer sk-openai-secret');
    assert.equal(openai.calls[0].body.model, 'omni-moderation-latest');
  });

  it('reranks across both hops, failing over to Cohere and billing its search units', async () => {
    openai.next({ kind: 'status', status: 500 });
    const response = await fetch(`${ingress.baseUrl}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'ranker',
        query: 'capital of France',
        documents: ['Berlin is in Germany', 'Paris is the capital of France'],
        top_n: 1,
        return_documents: true,
      }),
    });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as {
      results: { index: number; document?: { text: string } }[];
    };
    assert.deepEqual(
      answer.results.map((result) => [result.index, result.document?.text]),
      [[1, 'Paris is the capital of France']],
    );
    assert.equal(openai.calls.length, 1);
    assert.equal(cohere.calls[0].body.model, 'rerank-v3.5');
    assert.equal(Number(response.headers.get(COST_HEADER)), 0.002);
  });
});
