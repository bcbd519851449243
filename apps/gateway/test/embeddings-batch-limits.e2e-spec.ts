// An OpenAI client's long embeddings list (LangChain's OpenAIEmbeddings sends up to 1000
// texts a request) on backends that cap one call: Gemini's batchEmbedContents takes 100
// requests, Cohere's /v2/embed 96 texts. The gateway splits the list into calls the
// provider takes and answers one list, in input order, with the calls' usage summed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeCohereUpstream, FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const TEXTS = Array.from({ length: 150 }, (_, index) => `document number ${index}`);

describe('embeddings longer than one provider call takes', () => {
  const gemini = new FakeGeminiUpstream();
  const cohere = new FakeCohereUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-embed-limits-'));
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([gemini.start(), cohere.start()]);
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: embed-limits}
spec:
  backends:
  - {name: gemini-embed, provider: google-gemini, baseUrl: "${gemini.baseUrl}", auth: {apiKeyRef: {name: gemini-key}}, model: gemini-embedding-001, modelNameOverride: docs-gemini}
  - {name: cohere-embed, provider: cohere, baseUrl: "${cohere.baseUrl}", auth: {apiKeyRef: {name: cohere-key}}, model: embed-v4.0, modelNameOverride: docs-cohere}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'gemini-test',
      AI_GATEWAY_SECRET_COHERE_KEY_APIKEY: 'co-test',
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([gemini.stop(), cohere.stop()]);
  });

  it('embeds 150 texts on Gemini in batches of at most 100, in input order', async () => {
    gemini.reset();
    // The SDK asks for base64 (its default) and decodes it.
    const answer = await client.embeddings.create({ model: 'docs-gemini', input: TEXTS });
    assert.equal(answer.model, 'docs-gemini');
    assert.equal(answer.data.length, 150);
    assert.deepEqual(
      answer.data.map((item) => item.index),
      TEXTS.map((_, index) => index),
    );
    // The fake answers [0.5, position in its batch, -0.5]: the 101st text opens the second.
    assert.deepEqual(answer.data[99].embedding, [0.5, 99, -0.5]);
    assert.deepEqual(answer.data[100].embedding, [0.5, 0, -0.5]);
    assert.deepEqual(answer.data[149].embedding, [0.5, 49, -0.5]);
    const sent = gemini.calls.map((call) =>
      (call.body.requests as { content: { parts: { text: string }[] } }[]).map(
        (request) => request.content.parts[0].text,
      ),
    );
    assert.deepEqual(sent, [TEXTS.slice(0, 100), TEXTS.slice(100)]);
    assert.ok(answer.usage.prompt_tokens > 0, 'usage of all 150 texts');
  });

  it('embeds 150 texts on Cohere in calls of at most 96, usage of both summed', async () => {
    cohere.reset();
    const answer = await client.embeddings.create({
      model: 'docs-cohere',
      input: TEXTS,
      dimensions: 2,
      encoding_format: 'float',
    });
    assert.equal(answer.model, 'docs-cohere');
    assert.equal(answer.data.length, 150);
    // The fake answers [position in its call, 0.25]: the 97th text opens the second call.
    assert.deepEqual(answer.data[95].embedding, [95, 0.25]);
    assert.deepEqual(answer.data[96].embedding, [0, 0.25]);
    assert.deepEqual(answer.data[149].embedding, [53, 0.25]);
    assert.deepEqual(
      cohere.calls.map((call) => call.body.texts),
      [TEXTS.slice(0, 96), TEXTS.slice(96)],
    );
    assert.ok(cohere.calls.every((call) => call.body.output_dimension === 2));
    // Each call billed 3 input tokens.
    const { prompt_tokens, total_tokens } = answer.usage;
    assert.deepEqual({ prompt_tokens, total_tokens }, { prompt_tokens: 6, total_tokens: 6 });
  });

  it('refuses more than 2048 texts with an OpenAI-style 400 and calls no backend', async () => {
    cohere.reset();
    const input = Array.from({ length: 2049 }, () => 'x');
    const response = await fetch(`${gateway.baseUrl}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'docs-cohere', input }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { type: string; param: string } };
    assert.deepEqual([body.error.type, body.error.param], ['invalid_request_error', 'input']);
    assert.equal(cohere.calls.length, 0);
  });
});
