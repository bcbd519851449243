import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FAKE_FLAGGED_WORD,
  FakeCohereUpstream,
  FakeOpenAiUpstream,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { CohereAdapter } from '../cohere/cohere.adapter';
import { toCohereRerankRequest } from '../cohere/cohere-rerank';
import { OpenAiCompatibleAdapter } from '../openai-compatible/openai-compatible.adapter';
import { moderationText, moderationUsage } from './openai-moderations';
import { rerankAnswerBody, rerankUsage } from './rerank';

function scoringRequest(operation: 'moderations' | 'rerank', body: JsonObject): GatewayRequest {
  return {
    requestId: 'req-1',
    operation,
    requestedModel: 'virtual',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'virtual', ...body },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

const RERANK = {
  query: 'capital of France',
  documents: ['Berlin is in Germany', { text: 'Paris is the capital of France' }],
};

describe('moderation usage', () => {
  it('reads the text of a string, strings, or the text parts of a multimodal input', () => {
    assert.equal(moderationText('hello'), 'hello');
    assert.equal(moderationText(['a', 'b']), 'a\nb');
    assert.equal(
      moderationText([
        { type: 'text', text: 'look' },
        { type: 'image_url', image_url: { url: 'https://x/y.png' } },
      ]),
      'look',
    );
    assert.equal(moderationText(7), '');
  });

  it('estimates the input when the backend reports nothing, else takes its count', () => {
    const estimated = moderationUsage({ input: 'a short text to check' }, { results: [] });
    assert.equal(estimated.source, 'estimated');
    assert.ok(estimated.inputTokens > 0);
    assert.equal(estimated.outputTokens, 0);
    const reported = moderationUsage({ input: 'x' }, { results: [], usage: { prompt_tokens: 9 } });
    assert.deepEqual(reported, {
      inputTokens: 9,
      outputTokens: 0,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });
});

describe('rerank usage and answers', () => {
  it("takes Cohere's billed search units and a server's tokens, else estimates both", () => {
    const cohere = rerankUsage(RERANK, {
      results: [],
      meta: { billed_units: { search_units: 2 } },
    });
    assert.equal(cohere.searches, 2);
    assert.equal(cohere.source, 'reported');
    const vllm = rerankUsage(RERANK, { results: [], usage: { total_tokens: 31 } });
    assert.equal(vllm.inputTokens, 31);
    assert.equal(vllm.searches, 1);
    const none = rerankUsage(RERANK, { results: [] });
    assert.equal(none.source, 'estimated');
    assert.ok(none.inputTokens > 8, 'the query counted with each document');
    assert.equal(none.searches, 1);
    const many = rerankUsage({ query: 'q', documents: Array(250).fill('d') }, { results: [] });
    assert.equal(many.searches, 3, 'one search unit per 100 documents');
  });

  it('adds the documents back when asked, drops them when not, else leaves the answer', () => {
    const answer = { id: 'r', results: [{ index: 1, relevance_score: 0.9 }] };
    assert.deepEqual(rerankAnswerBody({ ...RERANK, return_documents: true }, answer).results, [
      { index: 1, relevance_score: 0.9, document: { text: 'Paris is the capital of France' } },
    ]);
    const withDocs = { results: [{ index: 0, relevance_score: 0.1, document: { text: 'B' } }] };
    assert.deepEqual(rerankAnswerBody({ ...RERANK, return_documents: false }, withDocs).results, [
      { index: 0, relevance_score: 0.1 },
    ]);
    assert.equal(rerankAnswerBody(RERANK, answer), answer);
    const withNull = { results: [{ index: 0, relevance_score: 0.1, document: null }] };
    assert.deepEqual(rerankAnswerBody({ ...RERANK, return_documents: true }, withNull).results, [
      { index: 0, relevance_score: 0.1, document: { text: 'Berlin is in Germany' } },
    ]);
  });

  it("writes Cohere's v2 request: texts only, no return_documents or rank_fields", () => {
    assert.deepEqual(
      toCohereRerankRequest('rerank-v3.5', {
        ...RERANK,
        top_n: 1,
        return_documents: true,
        rank_fields: ['text'],
        max_tokens_per_doc: 512,
      }),
      {
        model: 'rerank-v3.5',
        query: 'capital of France',
        documents: ['Berlin is in Germany', 'Paris is the capital of France'],
        top_n: 1,
        max_tokens_per_doc: 512,
      },
    );
  });
});

describe('moderations and rerank on OpenAI-compatible backends', () => {
  const upstream = new FakeOpenAiUpstream();
  let target: UpstreamTarget;
  before(async () => {
    await upstream.start();
    target = {
      backendName: 'vllm',
      provider: 'vllm',
      model: 'served-model',
      baseUrl: upstream.baseUrl,
      requestTimeoutMs: 2_000,
      firstByteTimeoutMs: 500,
    };
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const invoke = (request: GatewayRequest) =>
    new OpenAiCompatibleAdapter().invoke({
      request,
      target,
      signal: new AbortController().signal,
    }) as Promise<JsonAnswer>;

  it('posts a moderation with the served model and passes the results back', async () => {
    const answer = await invoke(
      scoringRequest('moderations', { input: ['fine', `an ${FAKE_FLAGGED_WORD}`] }),
    );
    assert.equal(upstream.calls[0].path, '/v1/moderations');
    assert.deepEqual(upstream.calls[0].body, {
      model: 'served-model',
      input: ['fine', `an ${FAKE_FLAGGED_WORD}`],
    });
    const results = answer.body.results as { flagged: boolean }[];
    assert.deepEqual(
      results.map((result) => result.flagged),
      [false, true],
    );
    assert.equal(answer.usage.source, 'estimated');
  });

  it("posts a rerank to {baseUrl}/rerank with the documents as texts, vLLM's usage", async () => {
    const answer = await invoke(scoringRequest('rerank', { ...RERANK, top_n: 1 }));
    assert.equal(upstream.calls[0].path, '/v1/rerank');
    assert.deepEqual(upstream.calls[0].body, {
      model: 'served-model',
      query: 'capital of France',
      documents: ['Berlin is in Germany', 'Paris is the capital of France'],
      top_n: 1,
    });
    const results = answer.body.results as { index: number }[];
    assert.deepEqual(
      results.map((result) => result.index),
      [1],
    );
    assert.equal(answer.usage.inputTokens, 14);
    assert.equal(answer.usage.source, 'reported');
  });

  it("answers the documents of a server that returns them as bare strings (Infinity's) as {text}", async () => {
    // Infinity's /rerank result: {relevance_score, index, document: str | null}.
    upstream.next({
      kind: 'status',
      status: 200,
      body: {
        object: 'rerank',
        id: 'infinity-1',
        model: 'served-model',
        results: [
          { relevance_score: 0.9, index: 1, document: 'Paris is the capital of France' },
          { relevance_score: 0.1, index: 0, document: 'Berlin is in Germany' },
        ],
        usage: { prompt_tokens: 14, total_tokens: 14 },
      },
    });
    const answer = await invoke(scoringRequest('rerank', { ...RERANK, return_documents: true }));
    assert.equal(upstream.calls[0].body.return_documents, true);
    assert.deepEqual(answer.body.results, [
      { relevance_score: 0.9, index: 1, document: { text: 'Paris is the capital of France' } },
      { relevance_score: 0.1, index: 0, document: { text: 'Berlin is in Germany' } },
    ]);
  });

  it('fails over (bad response) on an answer without results', async () => {
    upstream.next({ kind: 'garbage' });
    await assert.rejects(invoke(scoringRequest('rerank', RERANK)), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.UpstreamBadResponse);
      return true;
    });
  });
});

describe('rerank on Cohere', () => {
  const upstream = new FakeCohereUpstream();
  let target: UpstreamTarget;
  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'cohere', model: 'rerank-v3.5', baseUrl: upstream.baseUrl },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'co-secret' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('posts /v2/rerank and answers with the documents asked for and the search units', async () => {
    const answer = (await new CohereAdapter().invoke({
      request: scoringRequest('rerank', { ...RERANK, return_documents: true }),
      target,
      signal: new AbortController().signal,
    })) as JsonAnswer;
    assert.equal(upstream.calls[0].path, '/v2/rerank');
    assert.equal(upstream.calls[0].body.return_documents, undefined);
    assert.deepEqual(answer.body.results, [
      {
        index: 1,
        relevance_score: 0.75,
        document: { text: 'Paris is the capital of France' },
      },
      { index: 0, relevance_score: 0, document: { text: 'Berlin is in Germany' } },
    ]);
    assert.equal(answer.usage.searches, 1);
    assert.equal(answer.usage.source, 'reported');
    assert.equal(answer.servedBy.model, 'rerank-v3.5');
  });

  it('refuses a moderation as unsupported', async () => {
    await assert.rejects(
      new CohereAdapter().invoke({
        request: scoringRequest('moderations', { input: 'x' }),
        target,
        signal: new AbortController().signal,
      }),
      /does not support moderations/,
    );
  });
});
