// Moderations (official openai client) and reranks (plain fetch, Cohere's shape) through
// the all-in-one gateway: each reaches a backend that has the endpoint under the served
// model's name (backends without it are skipped, a chain of none is a 400), the client
// sees the name it asked for, a failing backend fails over, bad bodies are OpenAI-style
// 400s, usage is stored (a moderation's input estimated, at OpenAI's $0; a rerank on
// Cohere at its billed search units' per1kSearches), and a dollar budget holds and refuses.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import { metricSum, until } from '@aigw/testing';
import {
  FAKE_FLAGGED_WORD,
  FakeAnthropicUpstream,
  FakeCohereUpstream,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const COST_HEADER = 'x-ai-gateway-cost-usd';
const DOCUMENTS = ['Berlin is in Germany', 'Paris is the capital of France', 'Rome is old'];

interface RerankAnswer {
  id: string;
  model?: string;
  results: { index: number; relevance_score: number; document?: { text: string } }[];
}

describe('all-in-one gateway: /v1/moderations and /v1/rerank', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  const anthropic = new FakeAnthropicUpstream();
  const cohere = new FakeCohereUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-scoring-'));
  let gateway: AppProcess;
  let client: OpenAI;
  let user: string;

  const rerank = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gateway.baseUrl}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user, ...headers },
      body: JSON.stringify(body),
    });

  before(async () => {
    await Promise.all([primary.start(), secondary.start(), anthropic.start(), cohere.start()]);
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: scoring}
spec:
  backends:
  - {name: claude-first, priority: 0, provider: anthropic, baseUrl: "${anthropic.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-haiku-4-5, modelNameOverride: guard}
  - {name: moderator, priority: 1, provider: openai, baseUrl: "${primary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: omni-moderation-latest, modelNameOverride: guard}
  - {name: moderator-backup, priority: 2, provider: openai-compatible, baseUrl: "${secondary.baseUrl}", model: omni-moderation-backup, modelNameOverride: guard}
  - {name: default-moderator, provider: openai, baseUrl: "${primary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: omni-moderation-latest}
  - {name: chat-only, provider: anthropic, baseUrl: "${anthropic.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-sonnet-4-5}
  - {name: vllm-ranker, priority: 0, provider: vllm, baseUrl: "${primary.baseUrl}", model: bge-reranker, modelNameOverride: ranker}
  - {name: cohere-ranker, priority: 1, provider: cohere, baseUrl: "${cohere.baseUrl}", auth: {apiKeyRef: {name: cohere-key}}, model: rerank-v3.5, modelNameOverride: ranker}
  - {name: cohere-direct, provider: cohere, baseUrl: "${cohere.baseUrl}", auth: {apiKeyRef: {name: cohere-key}}, model: rerank-multilingual-v3.0}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
  costControl:
    maxDailyCostPerUser: 0.005
    modelPricing:
      rerank-v3.5: {inputPer1k: 0, outputPer1k: 0, per1kSearches: 2}
      rerank-multilingual-v3.0: {inputPer1k: 0, outputPer1k: 0, per1kSearches: 2}
---
kind: AIGatewayRoute
metadata: {name: cached-scoring}
spec:
  backends:
  - {name: cached-ranker, provider: vllm, baseUrl: "${secondary.baseUrl}", model: bge-cached, modelNameOverride: cached-ranker}
  - {name: cached-guard, provider: openai-compatible, baseUrl: "${secondary.baseUrl}", model: omni-cached, modelNameOverride: cached-guard}
  caching: {enabled: true, ttl: 60s, backend: memory}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai-test',
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
      AI_GATEWAY_SECRET_COHERE_KEY_APIKEY: 'co-test',
    });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([primary.stop(), secondary.stop(), anthropic.stop(), cohere.stop()]);
  });

  beforeEach(() => {
    for (const upstream of [primary, secondary, anthropic]) upstream.reset();
    cohere.reset();
    // A caller of its own per test: the route's $0.005 a day would not cover them all.
    user = `scorer-${randomUUID()}`;
    client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user },
    });
  });

  it('moderates on OpenAI under the served name, at no cost, skipping a backend without it', async () => {
    const { data, response } = await client.moderations
      .create({ model: 'guard', input: ['a kind word', `an ${FAKE_FLAGGED_WORD} plan`] })
      .withResponse();
    assert.equal(data.model, 'guard');
    assert.deepEqual(
      data.results.map((result) => result.flagged),
      [false, true],
    );
    assert.equal(data.results[1].categories.violence, true);
    assert.equal(anthropic.calls.length, 0, 'a backend without moderations is no candidate');
    const [call] = primary.calls;
    assert.equal(call.path, '/v1/moderations');
    assert.equal(call.headers.authorization, 'Bearer sk-openai-test');
    assert.deepEqual(call.body, {
      model: 'omni-moderation-latest',
      input: ['a kind word', `an ${FAKE_FLAGGED_WORD} plan`],
    });
    // OpenAI's moderations are free: priced at $0 by the built-in catalog.
    assert.equal(Number(response.headers.get(COST_HEADER)), 0);
  });

  it('moderates with omni-moderation-latest when the request names no model, and multimodal input', async () => {
    const data = await client.moderations.create({
      input: [
        { type: 'text', text: `an ${FAKE_FLAGGED_WORD}` },
        { type: 'image_url', image_url: { url: 'https://images.example/cat.png' } },
      ],
    });
    assert.equal(data.model, 'omni-moderation-latest');
    assert.equal(data.results.length, 1);
    assert.equal(data.results[0].flagged, true);
    assert.equal(primary.calls[0].body.model, 'omni-moderation-latest');
  });

  it('fails a moderation over to the next backend', async () => {
    primary.next({ kind: 'status', status: 500 });
    const data = await client.moderations.create({ model: 'guard', input: 'hello' });
    assert.equal(data.model, 'guard');
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls[0].body.model, 'omni-moderation-backup');
  });

  it('reranks on vLLM in Cohere’s shape under the served name, failing over to Cohere', async () => {
    const response = await rerank({
      model: 'ranker',
      query: 'capital of France',
      documents: DOCUMENTS,
      top_n: 2,
    });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as RerankAnswer;
    assert.equal(answer.model, 'ranker');
    assert.deepEqual(
      answer.results.map((result) => result.index),
      [1, 0],
    );
    assert.equal(primary.calls[0].path, '/v1/rerank');
    assert.equal(primary.calls[0].body.model, 'bge-reranker');

    primary.next({ kind: 'status', status: 503 });
    const failedOver = await rerank({
      model: 'ranker',
      query: 'capital of France',
      documents: [DOCUMENTS[0], { text: DOCUMENTS[1] }],
      return_documents: true,
    });
    assert.equal(failedOver.status, 200);
    const fromCohere = (await failedOver.json()) as RerankAnswer;
    assert.equal(cohere.calls[0].path, '/v2/rerank');
    assert.equal(cohere.calls[0].headers.authorization, 'Bearer co-test');
    assert.deepEqual(cohere.calls[0].body, {
      model: 'rerank-v3.5',
      query: 'capital of France',
      documents: DOCUMENTS.slice(0, 2),
    });
    assert.deepEqual(fromCohere.results[0], {
      index: 1,
      relevance_score: 0.75,
      document: { text: DOCUMENTS[1] },
    });
    // One search unit at $2 per 1000.
    assert.equal(Number(failedOver.headers.get(COST_HEADER)), 0.002);
  });

  it('refuses bad bodies with OpenAI-style 400s before any call', async () => {
    const cases: [path: string, body: unknown, param: string][] = [
      ['moderations', { model: 'guard' }, 'input'],
      ['moderations', { model: 'guard', input: [] }, 'input'],
      ['moderations', { model: 'guard', input: [{ type: 'audio' }] }, 'input[0]'],
      ['moderations', { model: 'guard', input: 'x', stream: true }, 'stream'],
      ['rerank', { model: 'ranker', documents: DOCUMENTS }, 'query'],
      ['rerank', { model: 'ranker', query: 'q', documents: [] }, 'documents'],
      ['rerank', { model: 'ranker', query: 'q', documents: [7] }, 'documents'],
      ['rerank', { model: 'ranker', query: 'q', documents: DOCUMENTS, top_n: 0 }, 'top_n'],
      [
        'rerank',
        { model: 'ranker', query: 'q', documents: DOCUMENTS, return_documents: 'yes' },
        'return_documents',
      ],
      ['rerank', { query: 'q', documents: DOCUMENTS }, 'model'],
    ];
    for (const [path, body, param] of cases) {
      const response = await fetch(`${gateway.baseUrl}/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 400, `${path} ${param}`);
      const error = ((await response.json()) as { error: { param: string; type: string } }).error;
      assert.equal(error.param, param, path);
      assert.equal(error.type, 'invalid_request_error');
    }
    assert.equal(primary.calls.length + secondary.calls.length + cohere.calls.length, 0);
  });

  it('refuses a model none of whose backends has the endpoint, calling none', async () => {
    const moderation = await client.moderations
      .create({ model: 'claude-sonnet-4-5', input: 'x' })
      .catch((error: unknown) => error);
    assert.ok(moderation instanceof OpenAI.BadRequestError, String(moderation));
    assert.match(moderation.message, /serves moderations: route it to an OpenAI/);
    const ranked = await rerank({ model: 'claude-sonnet-4-5', query: 'q', documents: DOCUMENTS });
    assert.equal(ranked.status, 400);
    const error = ((await ranked.json()) as { error: { message: string } }).error;
    assert.match(error.message, /serves rerank: route it to a Cohere, vLLM/);
    assert.equal(anthropic.calls.length, 0);
  });

  it('holds and refuses a caller whose dollar budget the reranks spent', async () => {
    // $0.002 a call (one search unit) against $0.005 a day: the third cannot fit.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await rerank({
        model: 'rerank-multilingual-v3.0',
        query: 'capital',
        documents: DOCUMENTS,
      });
      statuses.push(response.status);
      if (response.status === 429) {
        const error = ((await response.json()) as { error: { message: string } }).error;
        assert.match(error.message, /maxDailyCostPerUser/);
      } else await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.deepEqual(statuses, [200, 200, 429, 429]);
    assert.equal(cohere.calls.length, 2);
  });

  it('answers a repeated rerank or moderation from the cache, and a changed one afresh', async () => {
    const ask = async (path: string, body: unknown) => {
      const response = await fetch(`${gateway.baseUrl}/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 200, path);
      return { cache: response.headers.get('x-ai-gateway-cache'), body: await response.json() };
    };
    const ranked = { model: 'cached-ranker', query: 'capital of France', documents: DOCUMENTS };
    const first = await ask('rerank', ranked);
    const again = await ask('rerank', ranked);
    assert.deepEqual([first.cache, again.cache], ['miss', 'hit']);
    assert.deepEqual(again.body, first.body);
    const other = await ask('rerank', { ...ranked, documents: DOCUMENTS.slice(1) });
    assert.equal(other.cache, 'miss', 'other documents, another answer');
    const moderated = { model: 'cached-guard', input: 'hello' };
    await ask('moderations', moderated);
    assert.equal((await ask('moderations', moderated)).cache, 'hit');
    assert.equal((await ask('moderations', { ...moderated, input: 'bye' })).cache, 'miss');
    assert.deepEqual(
      secondary.calls.map((call) => call.path),
      ['/v1/rerank', '/v1/rerank', '/v1/moderations', '/v1/moderations'],
    );
  });

  it('stores each usage with its operation and cost, and counts both routes', async () => {
    await client.moderations.create({ model: 'guard', input: 'a short text to moderate' });
    const ranked = await rerank({ model: 'ranker', query: 'q', documents: DOCUMENTS });
    assert.equal(ranked.status, 200);
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    for (const route of ['moderations', 'rerank']) {
      assert.ok(metricSum(text, 'ai_gateway_requests_total', { route, status: '200' }) >= 1, route);
    }
    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const rows = () =>
        db
          .prepare(
            `SELECT operation, usage_source AS source, input_tokens AS input, cost_dollars AS cost
             FROM usage_events WHERE user_id = ? ORDER BY operation`,
          )
          .all(user) as { operation: string; source: string; input: number; cost: number }[];
      await until('both usage rows are stored', () => rows().length >= 2);
      const [moderation, reranked] = rows();
      assert.equal(moderation.operation, 'moderations');
      assert.equal(moderation.source, 'estimated');
      assert.ok(moderation.input > 0, 'the input counted though OpenAI reports none');
      assert.equal(moderation.cost, 0);
      assert.equal(reranked.operation, 'rerank');
      assert.equal(reranked.source, 'reported');
      assert.equal(reranked.input, 7 * DOCUMENTS.length, "vLLM's reported tokens");
    } finally {
      db.close();
    }
  });
});
