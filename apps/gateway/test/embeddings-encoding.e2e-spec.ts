// An OpenAI-compatible embeddings server that ignores `encoding_format: base64` (Ollama,
// Infinity and the fake here answer float lists whatever is asked): the client that asked
// for base64 gets base64, little-endian float32s as OpenAI sends them, which decode to the
// backend's vectors; one that asked for floats gets them as they came.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

/** A base64 vector read as OpenAI encodes it: little-endian float32s. */
function decoded(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
}

describe('embeddings encoding_format on a backend that answers floats only', () => {
  const upstream = new FakeOpenAiUpstream('floats-only');
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await upstream.start();
    gateway = await startGatewayWithConfig(`kind: AIGatewayRoute
metadata: {name: floats-only}
spec:
  backends:
  - {name: ollama-like, provider: openai-compatible, baseUrl: '${upstream.baseUrl}', model: nomic-embed-text, modelNameOverride: embedder}
`);
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('answers base64 when base64 was asked for, decoding to the backend floats', async () => {
    upstream.reset();
    const answer = await client.embeddings.create({
      model: 'embedder',
      input: ['a', 'b'],
      encoding_format: 'base64',
    });
    assert.equal(upstream.calls[0].body.encoding_format, 'base64', 'asked of the backend too');
    const vectors: unknown[] = answer.data.map((item) => item.embedding);
    const strings = vectors.filter((vector): vector is string => typeof vector === 'string');
    assert.equal(strings.length, 2, JSON.stringify(vectors));
    const expected = [0.1, 0.2, 0.3].map(Math.fround);
    assert.deepEqual(strings.map(decoded), [expected, expected]);
    assert.equal(answer.usage.prompt_tokens, 4);
  });

  it("decodes to the backend's floats through the SDK's default (base64 on the wire)", async () => {
    const answer = await client.embeddings.create({ model: 'embedder', input: 'a' });
    assert.deepEqual(answer.data[0].embedding, [0.1, 0.2, 0.3].map(Math.fround));
  });

  it('answers the floats as they came when floats were asked for', async () => {
    const answer = await client.embeddings.create({
      model: 'embedder',
      input: 'a',
      encoding_format: 'float',
    });
    assert.deepEqual(answer.data[0].embedding, [0.1, 0.2, 0.3]);
  });

  it('refuses any other encoding_format with a 400 naming it, the backend not called', async () => {
    upstream.reset();
    const response = await fetch(`${gateway.baseUrl}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'embedder', input: 'a', encoding_format: 'md5' }),
    });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: Record<string, unknown> };
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'encoding_format');
    assert.equal(
      error.message,
      "Invalid value for 'encoding_format' = md5. Supported values: ['float', 'base64'].",
    );
    assert.equal(upstream.calls.length, 0);
  });
});
