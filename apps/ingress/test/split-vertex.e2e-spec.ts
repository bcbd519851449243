// Vertex AI in the split deployment (ingress, router and provider-adapter as three
// processes) with the official openai client: only the provider-adapter holds the
// service-account key and mints tokens; Gemini and Claude answer across both hops.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import {
  fakeServiceAccount,
  FakeGoogleOAuth,
  FakeVertexClaudeUpstream,
  FakeVertexGeminiUpstream,
  type FakeServiceAccount,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

describe('split deployment: Vertex AI backends', () => {
  const oauth = new FakeGoogleOAuth();
  const gemini = new FakeVertexGeminiUpstream(oauth);
  const claude = new FakeVertexClaudeUpstream(oauth);
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-vertex-'));
  let account: FakeServiceAccount;
  let services: AppProcess[] = [];
  let adapter: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([oauth.start(), gemini.start(), claude.start()]);
    account = fakeServiceAccount(oauth.tokenUri);
    oauth.trust(account);
    const path = join(dir, 'split.yaml');
    const sa = '{apiKeyRef: {name: gcp-sa, key: json}}';
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-vertex}
spec:
  backends:
  - {name: vertex-gemini, provider: vertex, project: proj-1, location: us-central1, baseUrl: "${gemini.baseUrl}", auth: ${sa}, model: gemini-2.5-flash}
  - {name: vertex-claude, provider: vertex, project: proj-1, location: us-east5, baseUrl: "${claude.baseUrl}", auth: ${sa}, model: "claude-haiku-4-5@20251001", modelNameOverride: claude}
`,
    );
    adapter = await startApp('provider-adapter', {
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_SECRET_GCP_SA_JSON: account.json,
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    const router = await startApp('router', {
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    const ingress = await startApp('ingress', {
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    services = [ingress, router, adapter];
    client = new OpenAI({ baseURL: `${ingress.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await Promise.all([oauth.stop(), gemini.stop(), claude.stop()]);
  });

  beforeEach(() => {
    gemini.reset();
    claude.reset();
  });

  it('answers Gemini plain and Claude streamed with tokens the provider-adapter minted', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.choices[0].message.content, 'Hello from Gemini.');
    assert.equal(completion.usage?.prompt_tokens, 30);
    assert.ok(oauth.authorizes(gemini.calls[0].headers.authorization));

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
    assert.ok(text.length > 0);
    assert.ok((usage?.completion_tokens ?? 0) > 0);
    assert.match(claude.calls[0].path, /\/locations\/us-east5\/.*:streamRawPredict$/);
    assert.ok(oauth.authorizes(claude.calls[0].headers.authorization));

    const metrics = await (await fetch(`http://127.0.0.1:${adapter.adminPort}/metrics`)).text();
    assert.match(
      metrics,
      /^ai_gateway_provider_token_refreshes_total\{[^}]*backend="vertex-claude"[^}]*result="ok"[^}]*\} 1$/m,
    );
    for (const service of services) {
      assert.ok(!service.output().includes('PRIVATE KEY'), 'no key in any log');
    }
  });

  it("takes a Gemini API client's topK, safetySettings, taskType and titles across both hops", async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${services[0].baseUrl}/v1beta/models/${path}`, {
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
    assert.equal(gemini.calls[0].body.provider_extras, undefined);

    const doc = (text: string, title?: string) => ({
      model: 'models/gemini-2.5-flash',
      content: { parts: [{ text }] },
      taskType: 'RETRIEVAL_DOCUMENT',
      ...(title === undefined ? {} : { title }),
    });
    const embedded = await post('gemini-2.5-flash:batchEmbedContents', {
      requests: [doc('one', 'First'), doc('two')],
    });
    assert.equal(embedded.status, 200, await embedded.clone().text());
    assert.deepEqual(
      gemini.calls.slice(1).flatMap((call) => call.body.instances as unknown[]),
      [
        { content: 'one', task_type: 'RETRIEVAL_DOCUMENT', title: 'First' },
        { content: 'two', task_type: 'RETRIEVAL_DOCUMENT' },
      ],
    );
  });
});
