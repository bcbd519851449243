// Google Vertex AI through the all-in-one gateway, with the official openai client: Gemini
// and Claude on fake Vertex endpoints that accept only bearer tokens a fake Google OAuth2
// server minted, from a service-account key (a JWT it verifies) or its metadata path.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import {
  fakeServiceAccount,
  FakeGoogleOAuth,
  FakeOpenAiUpstream,
  FakeVertexClaudeUpstream,
  FakeVertexGeminiUpstream,
  type FakeServiceAccount,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

describe('all-in-one gateway: Vertex AI backends', () => {
  const oauth = new FakeGoogleOAuth();
  const gemini = new FakeVertexGeminiUpstream(oauth);
  const claude = new FakeVertexClaudeUpstream(oauth);
  const openai = new FakeOpenAiUpstream();
  let account: FakeServiceAccount;
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([oauth.start(), gemini.start(), claude.start(), openai.start()]);
    account = fakeServiceAccount(oauth.tokenUri);
    oauth.trust(account);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-vertex-'));
    const sa = '{apiKeyRef: {name: gcp-sa, key: json}}';
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: vertex}
spec:
  backends:
  - {name: vertex-gemini, provider: vertex, project: proj-1, location: us-central1, baseUrl: "${gemini.baseUrl}", auth: ${sa}, model: gemini-2.5-flash}
  - {name: vertex-claude, provider: vertex-ai, project: proj-1, location: global, baseUrl: "${claude.baseUrl}", auth: ${sa}, model: "claude-sonnet-4-5@20250929", modelNameOverride: claude}
  - {name: vertex-embed, provider: vertex, project: proj-1, location: us-central1, baseUrl: "${gemini.baseUrl}", auth: ${sa}, model: text-embedding-005}
  - {name: vertex-gemini-embed, provider: vertex, project: proj-1, location: us-central1, baseUrl: "${gemini.baseUrl}", auth: ${sa}, model: gemini-embedding-001}
  - {name: vertex-wi, priority: 0, provider: vertex, project: proj-1, location: europe-west4, baseUrl: "${gemini.baseUrl}", model: gemini-2.5-pro, modelNameOverride: resilient}
  - {name: openai-standby, priority: 1, provider: openai, baseUrl: "${openai.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: gpt-4o-mini, modelNameOverride: resilient}
  failover: {on: [rateLimit], retryDelay: 0s}
---
kind: AIGatewayRoute
metadata: {name: vertex-claude-standby}
spec:
  backends:
  - {name: vertex-claude-east, priority: 0, provider: vertex, project: proj-1, location: us-east5, baseUrl: "${claude.baseUrl}", auth: ${sa}, model: "claude-sonnet-4-5@20250929", modelNameOverride: claude-anywhere}
  - {name: openai-claude-standby, priority: 1, provider: openai, baseUrl: "${openai.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: gpt-4o-mini, modelNameOverride: claude-anywhere}
  failover: {on: [error], retryDelay: 0s}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_GCP_SA_JSON: account.json,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai-test',
      // vertex-wi has no key: its tokens come from the (fake) metadata server.
      GCE_METADATA_HOST: oauth.host,
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([oauth.stop(), gemini.stop(), claude.stop(), openai.stop()]);
  });

  beforeEach(() => {
    gemini.reset();
    claude.reset();
    openai.reset();
  });

  it('answers a Gemini chat with usageMetadata as usage, authorized by the service account', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.choices[0].message.content, 'Hello from Gemini.');
    assert.equal(completion.usage?.prompt_tokens, 30);
    assert.equal(completion.usage?.completion_tokens, 7);
    // The 2 thinking tokens of the fake's usageMetadata, part of the 7.
    assert.equal(completion.usage?.completion_tokens_details?.reasoning_tokens, 2);
    assert.equal(
      gemini.calls[0].path,
      '/v1/projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent',
    );
    assert.ok(oauth.authorizes(gemini.calls[0].headers.authorization));
  });

  it('streams a Gemini chat with the usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, 'Hello from Gemini.');
    assert.equal(usage?.completion_tokens, 7);
    assert.equal(usage?.completion_tokens_details?.reasoning_tokens, 2);
    assert.match(gemini.calls[0].path, /:streamGenerateContent$/);
  });

  it("reports a Gemini answer's thinking tokens as the Responses API's reasoning_tokens, JSON and streamed", async () => {
    const response = await client.responses.create({ model: 'gemini-2.5-flash', input: 'hi' });
    assert.equal(response.usage?.output_tokens, 7);
    assert.equal(response.usage?.output_tokens_details.reasoning_tokens, 2);
    const stream = await client.responses.create({
      model: 'gemini-2.5-flash',
      input: 'hi',
      stream: true,
    });
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.equal(completed?.usage?.output_tokens_details.reasoning_tokens, 2);
  });

  it('answers n Gemini choices (candidateCount) under their own index, in index order', async () => {
    // The fake lists candidate 1 first and candidate 0 without an index.
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi' }],
      n: 2,
    });
    assert.deepEqual(
      completion.choices.map((choice) => [
        choice.index,
        choice.message.content,
        choice.finish_reason,
      ]),
      [
        [0, 'Candidate 0 from Gemini.', 'stop'],
        [1, 'Candidate 1 from Gemini.', 'length'],
      ],
    );
  });

  it('streams n Gemini choices (candidateCount) by index, each with its finish, usage once', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi' }],
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', ''];
    const finishes: string[][] = [[], []];
    let usages = 0;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? '';
        if (choice.finish_reason) finishes[choice.index].push(choice.finish_reason);
      }
      if (chunk.usage) usages += 1;
    }
    assert.deepEqual(texts, ['Candidate 0 from Gemini.', 'Candidate 1 from Gemini.']);
    assert.deepEqual(finishes, [['stop'], ['length']]);
    assert.equal(usages, 1);
    assert.equal(
      (gemini.calls[0].body.generationConfig as Record<string, unknown>).candidateCount,
      2,
    );
  });

  it('answers and streams Claude through rawPredict and streamRawPredict', async () => {
    const completion = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 64,
    });
    assert.ok(completion.choices[0].message.content);
    assert.ok((completion.usage?.prompt_tokens ?? 0) > 0);
    assert.equal(
      claude.calls[0].path,
      '/v1/projects/proj-1/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
    );
    assert.equal(claude.calls[0].body.anthropic_version, 'vertex-2023-10-16');

    const stream = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, completion.choices[0].message.content);
    assert.ok((usage?.completion_tokens ?? 0) > 0);
    assert.match(claude.calls[1].path, /:streamRawPredict$/);
    assert.ok(claude.calls.every((call) => oauth.authorizes(call.headers.authorization)));
  });

  it('embeds a list through :predict, batched on text-embedding-005 and one per call on gemini-embedding-001', async () => {
    // The openai client asks for base64 and decodes it.
    const batched = await client.embeddings.create({
      model: 'text-embedding-005',
      input: ['one', 'two words', 'three more words'],
    });
    assert.deepEqual(
      batched.data.map((d) => [d.index, ...d.embedding]),
      [
        [0, 3, 0, 0.5],
        [1, 9, 1, 0.5],
        [2, 16, 2, 0.5],
      ],
    );
    assert.equal(batched.usage.prompt_tokens, 6, "Vertex's token_count summed");
    // Billed by Vertex's 28 billable characters at Google's $0.000025 per 1,000, not by token.
    const cost = (batched.usage as { cost?: number }).cost;
    assert.ok(
      cost !== undefined && Math.abs(cost - (28 / 1000) * 0.000025) < 1e-15,
      `cost ${cost}`,
    );
    assert.equal(gemini.calls.length, 1);
    assert.equal(
      gemini.calls[0].path,
      '/v1/projects/proj-1/locations/us-central1/publishers/google/models/text-embedding-005:predict',
    );
    assert.equal((gemini.calls[0].body.instances as unknown[]).length, 3);

    const fanned = await client.embeddings.create({
      model: 'gemini-embedding-001',
      input: ['a', 'bb', 'ccc'],
      dimensions: 4,
    });
    // The fake answers [length, 0, 0.5, 0.5]; cut to a size asked, it comes back unit length
    // (as float32s: the SDK asks for base64).
    assert.deepEqual(
      fanned.data.map((d) => d.embedding),
      [1, 2, 3].map((first) => {
        const length = Math.sqrt(first * first + 0.5);
        return [first / length, 0, 0.5 / length, 0.5 / length].map(Math.fround);
      }),
    );
    assert.equal(fanned.usage.prompt_tokens, 3);
    const predicts = gemini.calls.slice(1);
    assert.equal(predicts.length, 3, 'one call per input');
    for (const call of predicts) {
      assert.match(call.path, /gemini-embedding-001:predict$/);
      assert.deepEqual(call.body.parameters, { autoTruncate: false, outputDimensionality: 4 });
      assert.ok(oauth.authorizes(call.headers.authorization));
    }
  });

  it("takes a Gemini API client's topK, safetySettings, taskType and titles to Vertex as sent", async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${gateway.baseUrl}/v1beta/models/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': 'unused' },
        body: JSON.stringify(body),
      });
    const safetySettings = [
      { category: 'HARM_CATEGORY_HATE_SPEECH', threshold: 'BLOCK_LOW_AND_ABOVE' },
    ];
    const chat = await post('gemini-2.5-flash:generateContent', {
      contents: [{ parts: [{ text: 'hi' }] }],
      safetySettings,
      generationConfig: { topK: 16 },
    });
    assert.equal(chat.status, 200, await chat.clone().text());
    assert.deepEqual(gemini.calls[0].body.generationConfig, { topK: 16 });
    assert.deepEqual(gemini.calls[0].body.safetySettings, safetySettings);

    const doc = (text: string, title?: string) => ({
      model: 'models/text-embedding-005',
      content: { parts: [{ text }] },
      taskType: 'RETRIEVAL_DOCUMENT',
      ...(title === undefined ? {} : { title }),
    });
    const embedded = await post('text-embedding-005:batchEmbedContents', {
      requests: [doc('one', 'First'), doc('two')],
    });
    assert.equal(embedded.status, 200, await embedded.clone().text());
    assert.deepEqual(gemini.calls[1].body.instances, [
      { content: 'one', task_type: 'RETRIEVAL_DOCUMENT', title: 'First' },
      { content: 'two', task_type: 'RETRIEVAL_DOCUMENT' },
    ]);
  });

  it('fails over from Vertex (metadata-server token) to the standby on a 429', async () => {
    gemini.next({ kind: 'status', status: 429 });
    const completion = await client.chat.completions.create({
      model: 'resilient',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.ok(completion.choices[0].message.content);
    assert.equal(gemini.calls.length, 1, 'Vertex was asked first');
    assert.match(
      gemini.calls[0].path,
      /\/locations\/europe-west4\/.*gemini-2\.5-pro:generateContent$/,
    );
    assert.ok(oauth.authorizes(gemini.calls[0].headers.authorization));
    assert.equal(openai.calls.length, 1, 'then the standby answered');
  });

  it("fails over when Vertex answers that the backend's project may not use the model", async () => {
    // The model not enabled in Model Garden for the project: Vertex's 400 FAILED_PRECONDITION.
    claude.next({
      kind: 'status',
      status: 400,
      body: [
        {
          error: {
            code: 400,
            message:
              'Project `proj-1` is not allowed to use Publisher Model ' +
              '`projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929`',
            status: 'FAILED_PRECONDITION',
          },
        },
      ],
    });
    const completion = await client.chat.completions.create({
      model: 'claude-anywhere',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.ok(completion.choices[0].message.content);
    assert.equal(claude.calls.length, 1, 'Vertex was asked first');
    assert.match(claude.calls[0].path, /\/locations\/us-east5\/publishers\/anthropic\//);
    assert.equal(openai.calls.length, 1, 'then the standby answered');
  });

  it('counts token refreshes by source, and logs no key or token', async () => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    // One token per backend, cached across the calls above.
    assert.match(
      text,
      /^ai_gateway_provider_token_refreshes_total\{backend="vertex-gemini",source="service_account",result="ok"\} 1$/m,
    );
    assert.match(
      text,
      /^ai_gateway_provider_token_refreshes_total\{backend="vertex-claude",source="service_account",result="ok"\} 1$/m,
    );
    assert.match(
      text,
      /^ai_gateway_provider_token_refreshes_total\{backend="vertex-wi",source="metadata",result="ok"\} 1$/m,
    );
    assert.equal(oauth.metadataRequests, 1);
    const output = gateway.output();
    assert.ok(!output.includes('PRIVATE KEY'), 'no key in the logs');
    for (const token of oauth.issued) assert.ok(!output.includes(token), 'no token in the logs');
  });
});
