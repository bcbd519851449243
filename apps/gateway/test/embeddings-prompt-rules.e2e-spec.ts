// security.promptValidation.blockPatterns on embeddings, on the all-in-one gateway: an SSN
// sent to an embeddings model is refused as it is in a chat (the same 400 and code, naming
// the rule, never the text) before any provider is called, on /v1/embeddings, on the Gemini
// edge's embedContent and batchEmbedContents, and in an embeddings line of a batch file.
// The refusals are counted under the endpoint they came to. An input sent as token ids is
// decoded with the model's tokenizer (cl100k for OpenAI's text-embedding-3-small) and read
// as text; ids for a model whose tokenizer is unknown are refused, as the rules cannot read them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI, { toFile } from 'openai';
import { eventually, metricSum } from '@aigw/testing';
import {
  FAKE_BATCH_MODEL,
  FakeBatchBackend,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const SSN = '123-45-6789';
const BLOCK_RULE = /security\.promptValidation\.blockPatterns\[0\]/;

describe('blockPatterns on embeddings (all-in-one gateway)', () => {
  const upstream = new FakeOpenAiUpstream('embeddings-rules');
  const batches = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-embed-rules-e2e-'));
  const dataDir = join(dir, 'data');
  let gateway: AppProcess;
  let openai: OpenAI;

  before(async () => {
    await Promise.all([upstream.start(), batches.start()]);
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: private}
spec:
  backends:
  - {name: chat, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-chat, modelNameOverride: private-chat}
  - {name: embed, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-embed, modelNameOverride: private-embed}
  - {name: openai-embed, provider: openai, baseUrl: ${upstream.baseUrl}, model: text-embedding-3-small, modelNameOverride: openai-embed, auth: {apiKeyRef: {name: openai-key}}}
  - {name: batch, provider: openai, baseUrl: "${batches.baseUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: private-batch, auth: {apiKeyRef: {name: openai-key}}}
  security:
    promptValidation:
      blockPatterns: ['\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b']
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: dataDir,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend-secret',
    });
    openai = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([upstream.stop(), batches.stop()]);
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  const refusedRequests = async (route: string) =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
      'ai_gateway_requests_total',
      { route, status: '400' },
    );
  type OpenAiError = { error: { message: string; type: string; code: string; param: string } };

  it('refuses an SSN in a string or a list input as chat refuses it, calling no provider', async () => {
    upstream.reset();
    const chat = await post('/v1/chat/completions', {
      model: 'private-chat',
      messages: [{ role: 'user', content: `my ssn is ${SSN}` }],
    });
    assert.equal(chat.status, 400, chat.text);
    const chatError = (JSON.parse(chat.text) as OpenAiError).error;
    for (const input of [`my ssn is ${SSN}`, ['a clean text', `my ssn is ${SSN}`]]) {
      const refused = await post('/v1/embeddings', { model: 'private-embed', input });
      assert.equal(refused.status, 400, refused.text);
      assert.ok(!refused.text.includes(SSN), refused.text);
      const { error } = JSON.parse(refused.text) as OpenAiError;
      assert.match(error.message, BLOCK_RULE);
      assert.deepEqual(
        { message: error.message, type: error.type, code: error.code },
        { message: chatError.message, type: chatError.type, code: chatError.code },
      );
      assert.equal(error.param, 'input');
    }
    assert.equal(upstream.calls.length, 0, 'no provider was called');
  });

  it('serves a clean input', async () => {
    upstream.reset();
    const clean = await openai.embeddings.create({
      model: 'private-embed',
      input: ['a clean text', 'another'],
      encoding_format: 'float',
    });
    assert.equal(clean.data.length, 2);
    assert.deepEqual(upstream.calls.at(-1)?.body.input, ['a clean text', 'another']);
  });

  it("refuses an SSN in the Gemini edge's embedContent and batchEmbedContents in Google's shape", async () => {
    upstream.reset();
    const one = await post('/v1beta/models/private-embed:embedContent', {
      content: { parts: [{ text: `my ssn is ${SSN}` }] },
    });
    const batch = await post('/v1beta/models/private-embed:batchEmbedContents', {
      requests: [
        { model: 'models/private-embed', content: { parts: [{ text: 'clean' }] } },
        { model: 'models/private-embed', content: { parts: [{ text: `ssn ${SSN}` }] } },
      ],
    });
    for (const refused of [one, batch]) {
      assert.equal(refused.status, 400, refused.text);
      assert.ok(!refused.text.includes(SSN), refused.text);
      const { error } = JSON.parse(refused.text) as {
        error: { code: number; status: string; message: string };
      };
      assert.equal(error.code, 400);
      assert.equal(error.status, 'INVALID_ARGUMENT');
      assert.match(error.message, BLOCK_RULE);
    }
    assert.equal(upstream.calls.length, 0, 'no provider was called');
    const served = await post('/v1beta/models/private-embed:embedContent', {
      content: { parts: [{ text: 'clean' }] },
    });
    assert.equal(served.status, 200, served.text);
  });

  const EMBEDDING_ENDPOINT =
    /"endpoint":"(embeddings|gemini\.embedContent|gemini\.batchEmbedContents)"/;

  /** The request-rejected events in the gateway's event log so far. */
  function rejectedRows(): { value: string }[] {
    const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
    try {
      return db
        .prepare("SELECT value FROM events WHERE topic = 'gateway.request.rejected.v1'")
        .all() as unknown as { value: string }[];
    } finally {
      db.close();
    }
  }

  it('counts each refusal under the endpoint it came to, as a blocked-content rejection', async () => {
    assert.equal(await refusedRequests('embeddings'), 2);
    assert.equal(await refusedRequests('gemini.embedContent'), 1);
    assert.equal(await refusedRequests('gemini.batchEmbedContents'), 1);
    // The log is written every 50 ms: the last refusals' events may still be on their way.
    const rows = await eventually('the four embedding refusals are in the event log', () => {
      const found = rejectedRows();
      const embedding = found.filter((row) => EMBEDDING_ENDPOINT.test(row.value));
      return embedding.length >= 4 ? found : undefined;
    });
    const rejected = rows.map((row) => JSON.parse(row.value) as Record<string, unknown>);
    const blocked = (endpoint: string) =>
      rejected.filter((e) => e.endpoint === endpoint && e.reason === 'blockedContent').length;
    assert.equal(blocked('embeddings'), 2);
    assert.equal(blocked('gemini.embedContent'), 1);
    assert.equal(blocked('gemini.batchEmbedContents'), 1);
    for (const row of rows) assert.ok(!row.value.includes(SSN), row.value);
  });

  it('refuses a batch file whose embeddings line carries an SSN, as it refuses a chat line', async () => {
    const client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-ai-gateway-model': 'private-batch' },
    });
    const line = (id: string, url: string, body: object) =>
      JSON.stringify({ custom_id: id, method: 'POST', url, body });
    const clean = line('a', '/v1/embeddings', { model: 'private-batch', input: ['clean'] });
    const files = [
      line('b', '/v1/embeddings', { model: 'private-batch', input: ['ok', `ssn ${SSN}`] }),
      line('b', '/v1/embeddings', { model: 'private-batch', input: `ssn ${SSN}` }),
      line('b', '/v1/chat/completions', {
        model: 'private-batch',
        messages: [{ role: 'user', content: `ssn ${SSN}` }],
      }),
    ];
    for (const second of files) {
      await assert.rejects(
        client.files.create({
          file: await toFile(Buffer.from(`${clean}\n${second}\n`), 'in.jsonl'),
          purpose: 'batch',
        }),
        (error: unknown) =>
          error instanceof OpenAI.BadRequestError &&
          /^400 Line 2 of the batch input file: .*blockPatterns\[0\]/.test(error.message) &&
          !error.message.includes(SSN),
      );
    }
    assert.equal(batches.files.size, 0, 'nothing refused reached the backend');
    const uploaded = await client.files.create({
      file: await toFile(Buffer.from(`${clean}\n`), 'in.jsonl'),
      purpose: 'batch',
    });
    assert.equal(batches.files.size, 1, uploaded.id);
    assert.equal(
      metricSum(
        await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
        'ai_gateway_files_batches_total',
        { kind: 'file', action: 'create', outcome: 'blocked' },
      ),
      files.length,
    );
  });

  it('reads token ids as the text they encode, and refuses ids no known tokenizer reads', async () => {
    upstream.reset();
    const refusedBefore = await refusedRequests('embeddings');
    // 'my ssn is 123-45-6789' and 'a clean text' as cl100k token ids (gpt-tokenizer's encode).
    const ssnIds = [2465, 274, 9810, 374, 220, 4513, 12, 1774, 12, 17458, 24];
    const cleanIds = [64, 4335, 1495];
    for (const input of [ssnIds, [cleanIds, ssnIds]]) {
      const refused = await post('/v1/embeddings', { model: 'openai-embed', input });
      assert.equal(refused.status, 400, refused.text);
      assert.ok(!refused.text.includes(SSN), refused.text);
      const { error } = JSON.parse(refused.text) as OpenAiError;
      assert.match(error.message, BLOCK_RULE);
      assert.equal(error.param, 'input');
    }
    const outOfVocabulary = await post('/v1/embeddings', {
      model: 'openai-embed',
      input: [...cleanIds, 100_261],
    });
    assert.equal(outOfVocabulary.status, 400, outOfVocabulary.text);
    const oov = (JSON.parse(outOfVocabulary.text) as OpenAiError).error;
    assert.equal(oov.type, 'invalid_request_error');
    assert.equal(oov.param, 'input');
    assert.match(oov.message, /100261, which is not a token id/);
    // A self-hosted model's tokenizer is unknown: its ids cannot be read, so they are refused.
    const unknown = await post('/v1/embeddings', { model: 'private-embed', input: cleanIds });
    assert.equal(unknown.status, 400, unknown.text);
    const uncheckable = (JSON.parse(unknown.text) as OpenAiError).error;
    assert.equal(uncheckable.type, 'invalid_request_error');
    assert.equal(uncheckable.param, 'input');
    assert.match(
      uncheckable.message,
      /cannot be checked against the prompt rules for model "private-embed".*send 'input' as text/,
    );
    assert.equal(upstream.calls.length, 0, 'no provider was called');
    assert.equal(await refusedRequests('embeddings'), refusedBefore + 4);

    const served = await post('/v1/embeddings', { model: 'openai-embed', input: cleanIds });
    assert.equal(served.status, 200, served.text);
    assert.deepEqual(upstream.calls.at(-1)?.body.input, cleanIds);
  });

  it('refuses a batch line of token ids for a model whose tokenizer is unknown', async () => {
    const client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-ai-gateway-model': 'private-batch' },
    });
    const body = { model: 'private-batch', input: [4513, 12, 1774, 12, 17458, 24] };
    const line = JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/embeddings', body });
    const held = batches.files.size;
    await assert.rejects(
      client.files.create({
        file: await toFile(Buffer.from(`${line}\n`), 'in.jsonl'),
        purpose: 'batch',
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        /^400 Line 1 of the batch input file: .*cannot be checked against the prompt rules/.test(
          error.message,
        ),
    );
    assert.equal(batches.files.size, held, 'nothing refused reached the backend');
  });
});
