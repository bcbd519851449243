import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';
import {
  collectStream,
  fakeServiceAccount,
  FakeGoogleOAuth,
  gatewayChatRequest,
  streamedText,
  type FakeServiceAccount,
} from '@aigw/testing/fake-provider';
import { until } from '@aigw/testing';
import {
  GoogleAccessTokens,
  REFRESH_MARGIN_MS,
  type TokenRefreshEvent,
} from './google-access-token';
import { VertexAdapter } from './vertex.adapter';
import { vertexModel, vertexModelUrl } from './vertex-urls';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';

const PLACE = { project: 'proj-1', location: 'us-central1' };

describe('Vertex AI URLs', () => {
  it('builds regional and global endpoints for both publishers', () => {
    assert.equal(
      vertexModelUrl(PLACE, vertexModel('gemini-2.5-flash'), 'generateContent'),
      'https://us-central1-aiplatform.googleapis.com/v1/projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent',
    );
    assert.equal(
      vertexModelUrl(
        { project: 'proj-1', location: 'global' },
        vertexModel('gemini-2.5-pro'),
        'streamGenerateContent',
      ),
      'https://aiplatform.googleapis.com/v1/projects/proj-1/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    assert.equal(
      vertexModelUrl(
        { project: 'proj-1', location: 'europe-west1' },
        vertexModel('claude-sonnet-4-5@20250929'),
        'streamRawPredict',
      ),
      'https://europe-west1-aiplatform.googleapis.com/v1/projects/proj-1/locations/europe-west1/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict',
    );
  });

  it('sends the multi-region locations us and eu to their own hosts (aiplatform.us.rep...)', () => {
    // Google's multi-region endpoints: no "us-aiplatform.googleapis.com" exists.
    for (const location of ['us', 'eu']) {
      assert.equal(
        vertexModelUrl(
          { project: 'proj-1', location },
          vertexModel('gemini-2.5-flash'),
          'generateContent',
        ),
        `https://aiplatform.${location}.rep.googleapis.com/v1/projects/proj-1/locations/${location}/publishers/google/models/gemini-2.5-flash:generateContent`,
      );
    }
  });

  it('lets baseUrl replace the host (with or without /v1) and names publishers explicitly', () => {
    assert.equal(
      vertexModelUrl(
        PLACE,
        vertexModel('claude-haiku-4-5'),
        'rawPredict',
        'http://psc.internal:8080/v1/',
      ),
      'http://psc.internal:8080/v1/projects/proj-1/locations/us-central1/publishers/anthropic/models/claude-haiku-4-5:rawPredict',
    );
    assert.deepEqual(vertexModel('publishers/anthropic/models/claude-x'), {
      publisher: 'anthropic',
      id: 'claude-x',
    });
    assert.deepEqual(vertexModel('gemini-2.0-flash'), {
      publisher: 'google',
      id: 'gemini-2.0-flash',
    });
  });
});

describe('Google access tokens', () => {
  const oauth = new FakeGoogleOAuth();
  let account: FakeServiceAccount;
  before(async () => {
    await oauth.start();
    account = fakeServiceAccount(oauth.tokenUri);
    oauth.trust(account);
  });
  after(() => oauth.stop());
  beforeEach(() => oauth.reset());

  it('signs an RS256 JWT with the key, exchanges it, and caches the token until shortly before expiry', async () => {
    let now = Date.now(); // the fake checks the assertion's iat and exp against its clock
    const events: TokenRefreshEvent[] = [];
    const tokens = new GoogleAccessTokens({ now: () => now, onRefresh: (e) => events.push(e) });
    const first = await tokens.accessToken('vertex-a', account.json);
    assert.ok(oauth.authorizes(`Bearer ${first}`), 'the fake verified the assertion and minted it');
    assert.equal(await tokens.accessToken('vertex-a', account.json), first);
    now += 3600_000 - REFRESH_MARGIN_MS - 1;
    assert.equal(await tokens.accessToken('vertex-a', account.json), first, 'still cached');
    assert.equal(oauth.exchanges, 1);
    now += 2;
    // Within the margin the cached token is still served while it is refreshed beside
    // the call (google-token-early-refresh.spec.ts); the next call gets the fresh one.
    assert.equal(await tokens.accessToken('vertex-a', account.json), first, 'still valid');
    await until('refreshed within the margin', () => events.length === 2);
    const second = await tokens.accessToken('vertex-a', account.json);
    assert.notEqual(second, first, 'refreshed within the margin');
    assert.ok(oauth.authorizes(`Bearer ${second}`));
    assert.equal(oauth.exchanges, 2);
    assert.deepEqual(events, [
      { backend: 'vertex-a', source: 'service_account', result: 'ok' },
      { backend: 'vertex-a', source: 'service_account', result: 'ok' },
    ]);
  });

  it('refreshes once for many concurrent callers (single flight)', async () => {
    oauth.delayMs = 50;
    const tokens = new GoogleAccessTokens();
    const all = await Promise.all(
      Array.from({ length: 10 }, () => tokens.accessToken('vertex-a', account.json)),
    );
    assert.equal(new Set(all).size, 1);
    assert.equal(oauth.exchanges, 1);
  });

  it('keeps a token per backend for configurations with many Vertex backends', async () => {
    // Models times regions: 80 backends called in turn must not evict each other's tokens.
    const tokens = new GoogleAccessTokens();
    const backends = Array.from({ length: 80 }, (_, i) => `vertex-${i}`);
    for (let round = 0; round < 3; round++) {
      for (const backend of backends) await tokens.accessToken(backend, account.json);
    }
    assert.equal(oauth.exchanges, 80);
  });

  it('names the backend and the refused exchange, never the key or a token, and retries next time', async () => {
    const events: TokenRefreshEvent[] = [];
    const tokens = new GoogleAccessTokens({ onRefresh: (e) => events.push(e) });
    oauth.failWith = 400;
    const error = await tokens.accessToken('vertex-a', account.json).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e as DataPlaneError,
    );
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
    assert.match(
      error.message,
      /^backend "vertex-a": the service-account token exchange at 127\.0\.0\.1:\d+ refused the token request with 400 \(invalid_grant\)$/,
    );
    assert.ok(!error.message.includes('PRIVATE KEY') && !error.message.includes('gserviceaccount'));
    oauth.failWith = undefined;
    assert.ok(oauth.authorizes(`Bearer ${await tokens.accessToken('vertex-a', account.json)}`));
    assert.deepEqual(
      events.map((e) => e.result),
      ['failed', 'ok'],
    );
  });

  it('refuses a secret that is not a service-account key without echoing it', async () => {
    const tokens = new GoogleAccessTokens();
    for (const secret of [
      'sk-not-json-secret',
      '{"type":"authorized_user","refresh_token":"rt-secret"}',
    ]) {
      await assert.rejects(tokens.accessToken('vertex-a', secret), (error: Error) => {
        assert.match(
          error.message,
          /^backend "vertex-a": the auth\.apiKeyRef secret is not a service-account key/,
        );
        assert.ok(!error.message.includes('secret"') && !error.message.includes('rt-secret'));
        return true;
      });
    }
  });

  it('without a key, asks the metadata server with Metadata-Flavor: Google', async () => {
    const events: TokenRefreshEvent[] = [];
    const tokens = new GoogleAccessTokens({
      metadataHost: oauth.host,
      onRefresh: (e) => events.push(e),
    });
    const token = await tokens.accessToken('vertex-a', undefined);
    assert.ok(oauth.authorizes(`Bearer ${token}`));
    assert.equal(await tokens.accessToken('vertex-a', undefined), token);
    assert.equal(oauth.metadataRequests, 1);
    assert.equal(oauth.lastMetadataScopes, 'https://www.googleapis.com/auth/cloud-platform');
    assert.deepEqual(events, [{ backend: 'vertex-a', source: 'metadata', result: 'ok' }]);
  });

  it('says when the metadata server is unreachable', async () => {
    const events: TokenRefreshEvent[] = [];
    const tokens = new GoogleAccessTokens({
      metadataHost: '127.0.0.1:1',
      onRefresh: (e) => events.push(e),
    });
    await assert.rejects(
      tokens.accessToken('vertex-b', undefined),
      /^DataPlaneError: backend "vertex-b": the Google metadata server \(127\.0\.0\.1:1\) is unreachable \(ECONNREFUSED\)$/,
    );
    assert.deepEqual(events, [{ backend: 'vertex-b', source: 'metadata', result: 'failed' }]);
  });
});

describe('VertexAdapter against fake Vertex AI endpoints', () => {
  const { oauth, gemini, claude, target, invoke, serviceAccount } = useFakeVertexEndpoints(PLACE);

  it('calls Gemini with generateContent and a bearer token, with usageMetadata as usage', async () => {
    const answer = await invoke(gatewayChatRequest(), target('gemini-2.5-flash', gemini.baseUrl));
    assert.equal(answer.kind, 'json');
    if (answer.kind !== 'json') return;
    const choices = answer.body.choices as { message: { content: string } }[];
    assert.equal(choices[0].message.content, 'Hello from Gemini.');
    assert.equal(answer.usage.inputTokens, 30);
    assert.equal(answer.usage.source, 'reported');
    const call = gemini.calls[0];
    assert.equal(
      call.path,
      '/v1/projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent',
    );
    assert.ok(oauth.authorizes(call.headers.authorization));
    assert.ok(!JSON.stringify(call.headers).includes('PRIVATE KEY'), 'the key never leaves');
    assert.deepEqual(call.body.contents, [{ role: 'user', parts: [{ text: 'hi' }] }]);
  });

  it('streams Gemini over streamGenerateContent?alt=sse with the final usage', async () => {
    const answer = (await invoke(
      gatewayChatRequest({ stream: true, stream_options: { include_usage: true } }),
      target('gemini-2.5-flash', gemini.baseUrl),
    )) as StreamAnswer;
    const chunks = await collectStream(answer);
    assert.equal(streamedText(chunks), 'Hello from Gemini.');
    assert.equal((await answer.usage).outputTokens, 7);
    assert.equal(gemini.calls[0].query.alt, 'sse');
    assert.match(gemini.calls[0].path, /:streamGenerateContent$/);
  });

  it('answers n Gemini candidates as the choices of their index, plain and streamed', async () => {
    // The fake's JSON answer lists candidate 1 first and candidate 0 without an index.
    const plain = await invoke(
      gatewayChatRequest({ n: 2 }),
      target('gemini-2.5-flash', gemini.baseUrl),
    );
    if (plain.kind !== 'json') return assert.fail('expected json');
    const choices = plain.body.choices as JsonObject[];
    assert.deepEqual(
      choices.map((choice) => [choice.index, (choice.message as JsonObject).content]),
      [
        [0, 'Candidate 0 from Gemini.'],
        [1, 'Candidate 1 from Gemini.'],
      ],
    );
    const streamed = (await invoke(
      gatewayChatRequest({ n: 2, stream: true }),
      target('gemini-2.5-flash', gemini.baseUrl),
    )) as StreamAnswer;
    const texts = ['', ''];
    for (const chunk of await collectStream(streamed)) {
      for (const choice of chunk.choices as JsonObject[]) {
        const content = (choice.delta as JsonObject).content;
        if (typeof content === 'string') texts[choice.index as number] += content;
      }
    }
    assert.deepEqual(texts, ['Candidate 0 from Gemini.', 'Candidate 1 from Gemini.']);
  });

  it('calls a Claude tool of a name past 64 characters by a short alias, answering with its own name', async () => {
    const name = `mcp__plugin_marketplace_docs__${'search_the_documentation_'.repeat(3)}`;
    const answer = await invoke(
      gatewayChatRequest({
        tools: [{ type: 'function', function: { name, parameters: { type: 'object' } } }],
      }),
      target('claude-sonnet-4-5@20250929', claude.baseUrl),
    );
    if (answer.kind !== 'json') return assert.fail('expected json');
    const [choice] = answer.body.choices as { message: { tool_calls: JsonObject[] } }[];
    assert.equal((choice.message.tool_calls[0].function as JsonObject).name, name);
    const [sent] = claude.calls[0].body.tools as { name: string }[];
    assert.ok(sent.name.length <= 64 && sent.name !== name, sent.name);
  });

  it("sends Gemini a client's topK, safetySettings and n (as candidateCount); Claude only top_k, and no n", async () => {
    const safety = [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }];
    const asked = { n: 2, provider_extras: { top_k: 20, safety_settings: safety } };
    await invoke(gatewayChatRequest(asked), target('gemini-2.5-flash', gemini.baseUrl));
    const body = gemini.calls[0].body;
    assert.deepEqual(body.generationConfig, { topK: 20, candidateCount: 2 });
    assert.deepEqual(body.safetySettings, safety);
    await assert.rejects(
      invoke(gatewayChatRequest(asked), target('claude-sonnet-4-5@20250929', claude.baseUrl)),
      (error: unknown) => error instanceof DataPlaneError && error.param === 'n',
    );
    await invoke(
      gatewayChatRequest({ provider_extras: asked.provider_extras }),
      target('claude-sonnet-4-5@20250929', claude.baseUrl),
    );
    assert.equal(claude.calls[0].body.top_k, 20);
    assert.equal(claude.calls[0].body.safetySettings, undefined);
  });

  it("reads a Gemini image model's IMAGE tokens as image output", async () => {
    gemini.next({
      kind: 'json',
      body: {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ inlineData: { mimeType: 'image/png', data: 'iVBO' } }],
            },
            finishReason: 'STOP',
          },
        ],
        usageMetadata: {
          promptTokenCount: 12,
          candidatesTokenCount: 1290,
          totalTokenCount: 1302,
          candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: 1290 }],
        },
      },
    });
    const answer = await invoke(
      gatewayChatRequest(),
      target('gemini-2.5-flash-image', gemini.baseUrl),
    );
    if (answer.kind !== 'json') return assert.fail('expected json');
    assert.equal(answer.usage.outputTokens, 1290);
    assert.equal(answer.usage.imageOutputTokens, 1290);
  });

  it('calls Claude with rawPredict, anthropic_version in the body and no model', async () => {
    const answer = await invoke(
      gatewayChatRequest({ max_tokens: 64 }),
      target('claude-sonnet-4-5@20250929', claude.baseUrl),
    );
    assert.equal(answer.kind, 'json');
    if (answer.kind !== 'json') return;
    assert.ok(((answer.body.choices as JsonObject[])[0].message as JsonObject).content);
    assert.ok(answer.usage.inputTokens > 0);
    assert.equal(answer.usage.source, 'reported');
    const call = claude.calls[0];
    assert.equal(
      call.path,
      '/v1/projects/proj-1/locations/us-central1/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
    );
    assert.equal(call.body.anthropic_version, 'vertex-2023-10-16');
    assert.ok(!('model' in call.body));
    assert.ok(!('anthropic-version' in call.headers));
  });

  it("sends Claude only the anthropic-beta values Vertex takes: Claude Code's others are a 400 there", async () => {
    const betas = [
      'claude-code-20250219',
      'interleaved-thinking-2025-05-14',
      'prompt-caching-scope-2026-01-05',
      'effort-2025-11-24',
      'context-1m-2025-08-07',
    ];
    const request = (stream: boolean) =>
      gatewayChatRequest(
        { max_tokens: 64, ...(stream ? { stream: true } : {}) },
        { forwardHeaders: { 'anthropic-beta': betas.join(','), 'x-trace': 'kept' } },
      );
    await invoke(request(false), target('claude-sonnet-4-5@20250929', claude.baseUrl));
    const streamed = await invoke(
      request(true),
      target('claude-sonnet-4-5@20250929', claude.baseUrl),
    );
    if (streamed.kind === 'stream') await collectStream(streamed);
    for (const call of claude.calls) {
      assert.equal(
        call.headers['anthropic-beta'],
        'interleaved-thinking-2025-05-14,context-1m-2025-08-07',
      );
      assert.equal(call.headers['x-trace'], 'kept');
    }
    // None of them Vertex takes: no header at all, never an empty one.
    claude.reset();
    await invoke(
      gatewayChatRequest(
        { max_tokens: 64 },
        { forwardHeaders: { 'anthropic-beta': 'claude-code-20250219, effort-2025-11-24' } },
      ),
      target('claude-sonnet-4-5@20250929', claude.baseUrl),
    );
    assert.ok(!('anthropic-beta' in claude.calls[0].headers));
  });

  it('streams Claude over streamRawPredict with usage', async () => {
    const answer = (await invoke(
      gatewayChatRequest({ stream: true, stream_options: { include_usage: true } }),
      target('claude-haiku-4-5@20251001', claude.baseUrl),
    )) as StreamAnswer;
    const chunks = await collectStream(answer);
    assert.ok(streamedText(chunks).length > 0);
    assert.ok((await answer.usage).outputTokens > 0);
    assert.match(claude.calls[0].path, /:streamRawPredict$/);
    assert.equal(claude.calls[0].body.stream, true);
  });

  it('sends Claude only the sampling settings its generation takes, and reports the rest', async () => {
    const dropped: string[] = [];
    const asked = { temperature: 0.3, top_p: 0.9, provider_extras: { top_k: 40 } };
    const sent = async (model: string) => {
      const answer = await invoke(gatewayChatRequest(asked), target(model, claude.baseUrl));
      for (const { setting, reason } of answer.servedBy.droppedSettings ?? []) {
        dropped.push(`${setting} ${reason}`);
      }
      const body = claude.calls.at(-1)!.body;
      return { temperature: body.temperature, top_p: body.top_p, top_k: body.top_k };
    };
    const none = { temperature: undefined, top_p: undefined, top_k: undefined };
    assert.deepEqual(await sent('claude-opus-4-7@20260416'), none);
    assert.deepEqual(await sent('claude-sonnet-4-5@20250929'), {
      temperature: 0.3,
      top_p: undefined,
      top_k: 40,
    });
    assert.deepEqual(await sent('claude-3-7-sonnet@20250219'), {
      temperature: 0.3,
      top_p: 0.9,
      top_k: 40,
    });
    assert.deepEqual(dropped, ['temperature model', 'top_p model', 'top_k model', 'top_p model']);
  });

  it("asks Claude from Opus 4.7 for an effort's thinking summarized, and an older Claude its budget alone", async () => {
    const sent = async (model: string) => {
      await invoke(
        gatewayChatRequest({ reasoning_effort: 'medium' }),
        target(model, claude.baseUrl),
      );
      const body = claude.calls.at(-1)!.body;
      return { thinking: body.thinking, output_config: body.output_config };
    };
    // Opus 4.7 leaves its thinking text out unless asked, and the client expects to read it.
    assert.deepEqual(await sent('claude-opus-4-7@20260416'), {
      thinking: { type: 'adaptive', display: 'summarized' },
      output_config: { effort: 'medium' },
    });
    // A budget-only Claude shows its thinking by default: no display is added to it.
    for (const model of ['claude-sonnet-4-5@20250929', 'claude-3-7-sonnet@20250219']) {
      assert.deepEqual(await sent(model), {
        thinking: { type: 'enabled', budget_tokens: 2048 },
        output_config: undefined,
      });
    }
  });

  const embed = (model: string, body: JsonObject) =>
    invoke(
      gatewayChatRequest({}, { operation: 'embeddings', body: { model: 'm', ...body } }),
      target(model, gemini.baseUrl),
    );
  const vectorsOf = (body: JsonObject) =>
    (body.data as { embedding: number[] | string; index: number }[]).map((d) => d.embedding);

  it('embeds a list with one :predict call on text-embedding-005, usage summed from token_count', async () => {
    const answer = await embed('text-embedding-005', {
      input: ['one', 'two words', 'three more words'],
    });
    assert.equal(answer.kind, 'json');
    if (answer.kind !== 'json') return;
    assert.deepEqual(vectorsOf(answer.body), [
      [3, 0, 0.5],
      [9, 1, 0.5],
      [16, 2, 0.5],
    ]);
    assert.deepEqual(answer.usage, {
      inputTokens: 6,
      outputTokens: 0,
      cachedInputTokens: 0,
      // Vertex's billableCharacterCount: what Google bills text-embedding-005 by.
      characters: 28,
      source: 'reported',
    });
    assert.equal((answer.body.usage as JsonObject).prompt_tokens, 6);
    assert.equal(gemini.calls.length, 1);
    const call = gemini.calls[0];
    assert.equal(
      call.path,
      '/v1/projects/proj-1/locations/us-central1/publishers/google/models/text-embedding-005:predict',
    );
    assert.ok(oauth.authorizes(call.headers.authorization));
    assert.deepEqual(call.body, {
      instances: [{ content: 'one' }, { content: 'two words' }, { content: 'three more words' }],
      parameters: { autoTruncate: false },
    });
  });

  it('splits more than 250 inputs into :predict calls of at most 250, in order', async () => {
    const input = Array.from({ length: 251 }, (_, i) => 'x'.repeat((i % 7) + 1));
    const answer = await embed('text-multilingual-embedding-002', { input });
    if (answer.kind !== 'json') return assert.fail('a json answer');
    assert.deepEqual(
      gemini.calls.map((c) => (c.body.instances as unknown[]).length),
      [250, 1],
    );
    const vectors = vectorsOf(answer.body) as number[][];
    assert.deepEqual(
      vectors.map((v) => v[0]),
      input.map((text) => text.length),
    );
    assert.deepEqual(
      vectors[250],
      [input[250].length, 0, 0.5],
      'the last input opens the second call',
    );
  });

  it('fans gemini-embedding-001 out one input per call, a few at once, and keeps the order', async () => {
    // Earlier inputs answer later, so the calls finish out of order.
    gemini.predictDelayMs = (content) => 90 - content.length * 10;
    const input = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff', 'ggggggg', 'hhhhhhhh'];
    const answer = await embed('gemini-embedding-001', { input, dimensions: 4 });
    if (answer.kind !== 'json') return assert.fail('a json answer');
    assert.equal(gemini.calls.length, 8);
    for (const call of gemini.calls) {
      assert.equal((call.body.instances as unknown[]).length, 1);
      assert.deepEqual(call.body.parameters, { autoTruncate: false, outputDimensionality: 4 });
    }
    // Cut to outputDimensionality, Google's vectors are the caller's to scale: unit ones back.
    const unit = (vector: number[]) => {
      const length = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
      return vector.map((value) => value / length);
    };
    assert.deepEqual(
      vectorsOf(answer.body),
      input.map((text) => unit([text.length, 0, 0.5, 0.5])),
    );
    assert.ok(gemini.maxConcurrentPredicts > 1, 'in parallel');
    assert.ok(gemini.maxConcurrentPredicts <= 4, 'at most 4 at once');
    assert.equal(answer.usage.inputTokens, 8);
  });

  it('answers base64 vectors when asked, and passes task_type through', async () => {
    const answer = await embed('text-embedding-005', {
      input: 'hello there',
      encoding_format: 'base64',
      task_type: 'RETRIEVAL_QUERY',
    });
    if (answer.kind !== 'json') return assert.fail('a json answer');
    const [encoded] = vectorsOf(answer.body) as string[];
    const bytes = Buffer.from(encoded, 'base64');
    const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    assert.deepEqual([...floats], [11, 0, 0.5]);
    assert.deepEqual(gemini.calls[0].body.instances, [
      { content: 'hello there', task_type: 'RETRIEVAL_QUERY' },
    ]);
  });

  it('estimates usage, marked so, when Vertex reports no token_count', async () => {
    gemini.next({ kind: 'json', body: { predictions: [{ embeddings: { values: [0.1, 0.2] } }] } });
    const answer = await embed('text-embedding-005', { input: ['hello world'] });
    if (answer.kind !== 'json') return assert.fail('a json answer');
    assert.equal(answer.usage.source, 'estimated');
    assert.ok(answer.usage.inputTokens > 0);
  });

  it("maps Vertex's errors: 429 fails over, a refused request is the client's with Google's message", async () => {
    gemini.next({ kind: 'status', status: 429 });
    await assert.rejects(
      embed('text-embedding-005', { input: 'hi' }),
      (error: DataPlaneError) => error.code === DataPlaneErrorCode.UpstreamRateLimited,
    );
    gemini.next({
      kind: 'status',
      status: 400,
      body: {
        error: {
          code: 400,
          message: 'Value must be at most 768 for outputDimensionality.',
          status: 'INVALID_ARGUMENT',
        },
      },
    });
    await assert.rejects(
      embed('text-embedding-005', { input: 'hi', dimensions: 4096 }),
      (error: DataPlaneError) => {
        assert.equal(error.code, DataPlaneErrorCode.UpstreamRejected);
        assert.match(error.message, /at most 768 for outputDimensionality/);
        return true;
      },
    );
  });

  it('refuses embeddings on a Claude model without a call', async () => {
    await assert.rejects(
      embed('claude-sonnet-4-5@20250929', { input: 'hi' }),
      (error: DataPlaneError) => {
        assert.equal(error.code, DataPlaneErrorCode.InvalidRequest);
        assert.match(error.message, /makes no embeddings/);
        return true;
      },
    );
    assert.equal(gemini.calls.length + claude.calls.length, 0);
  });

  it('gives up on a slow token after the first-byte timeout, as on a hung backend', async () => {
    const slow = new VertexAdapter({ tokens: new GoogleAccessTokens() });
    oauth.delayMs = 800;
    const exchanges = oauth.exchanges;
    try {
      await assert.rejects(
        slow.invoke({
          request: gatewayChatRequest(),
          target: { ...target('gemini-2.5-flash', gemini.baseUrl), firstByteTimeoutMs: 500 },
          signal: new AbortController().signal,
        }),
        (error: DataPlaneError) => {
          assert.equal(error.code, DataPlaneErrorCode.UpstreamTimeout);
          assert.equal(error.message, 'backend "fake-vertex": no access token within 500 ms');
          return true;
        },
      );
      assert.equal(gemini.calls.length, 0);
    } finally {
      oauth.delayMs = 0;
      // The exchange it gave up on still lands: in the next case's counts otherwise.
      await until('the token it gave up on is sent', () => oauth.exchanges === exchanges + 1);
    }
  });

  it('stops waiting for a slow token as soon as the caller has gone', async () => {
    const slow = new VertexAdapter({ tokens: new GoogleAccessTokens() });
    oauth.delayMs = 1_000; // within the first-byte timeout: a call that waited would get it
    const exchanges = oauth.exchanges;
    try {
      const gone = new AbortController();
      gone.abort(new Error('client gone'));
      await assert.rejects(
        slow.invoke({
          request: gatewayChatRequest(),
          target: { ...target('gemini-2.5-flash', gemini.baseUrl), firstByteTimeoutMs: 5_000 },
          signal: gone.signal,
        }),
        /client gone/,
      );
      // Counted as the token is sent, so still the same: the call did not wait for it.
      assert.equal(oauth.exchanges, exchanges, 'gave up before the token came');
      assert.equal(gemini.calls.length, 0);
    } finally {
      oauth.delayMs = 0;
      await until('the token it gave up on is sent', () => oauth.exchanges === exchanges + 1);
    }
  });

  it('drops a token Vertex refused with 401 for one fresh token, which a late 401 leaves cached', async () => {
    const tokens = new GoogleAccessTokens();
    const fresh = new VertexAdapter({ tokens });
    const call = () =>
      fresh.invoke({
        request: gatewayChatRequest(),
        target: target('gemini-2.5-flash', gemini.baseUrl),
        signal: new AbortController().signal,
      });
    await call();
    const exchangesBefore = oauth.exchanges;
    const revoked = gemini.calls[gemini.calls.length - 1].headers.authorization!.slice(7);
    oauth.issued.delete(revoked); // revoked: Vertex answers it 401
    // Each call refused is made again with the fresh token (vertex-token-refusal.spec.ts).
    const answers = await Promise.all([call(), call(), call()]);
    assert.ok(answers.every((answer) => answer.kind === 'json'));
    assert.equal(oauth.exchanges, exchangesBefore + 1, 'one fresh token for all the 401s');
    const last = gemini.calls[gemini.calls.length - 1];
    assert.ok(oauth.authorizes(last.headers.authorization));
    // A late 401 for the revoked token leaves the fresh one cached.
    tokens.refused('fake-vertex', serviceAccount().json, revoked);
    await call();
    assert.equal(oauth.exchanges, exchangesBefore + 1);
  });

  it('maps a 429 from Vertex to a rate limit the router fails over on', async () => {
    gemini.next({ kind: 'status', status: 429 });
    await assert.rejects(
      invoke(gatewayChatRequest(), target('gemini-2.5-flash', gemini.baseUrl)),
      (error: DataPlaneError) => error.code === DataPlaneErrorCode.UpstreamRateLimited,
    );
  });
});
