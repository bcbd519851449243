// Cohere's /v2/embed through the OpenAI embeddings edge: the gateway asks Cohere for
// floats (embedding_types ["float"], which every Embed model serves; the byte layout of
// Cohere's own base64 type is undocumented) and `dimensions` as output_dimension, and
// answers base64 as OpenAI lays it out (little-endian float32s), which the openai SDK asks
// for by default and decodes itself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FakeCohereUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

/** A base64 vector read as OpenAI encodes it: little-endian float32s. */
function decoded(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
}

describe('Cohere embeddings in the encoding and size an OpenAI client asks for', () => {
  const cohere = new FakeCohereUpstream();
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await cohere.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: cohere-embed-encoding}
spec:
  backends:
  - {name: cohere-embed, provider: cohere, baseUrl: "${cohere.baseUrl}", model: embed-v4.0, modelNameOverride: docs-cohere, auth: {apiKeyRef: {name: cohere-key}}}
`,
      { AI_GATEWAY_SECRET_COHERE_KEY_APIKEY: 'co-embed-key' },
    );
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await cohere.stop();
  });

  it('answers base64 that decodes to the floats Cohere sent, asking Cohere for floats', async () => {
    cohere.reset();
    const response = await fetch(`${gateway.baseUrl}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'docs-cohere',
        input: ['a', 'b'],
        encoding_format: 'base64',
        dimensions: 2,
      }),
    });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as { data: { embedding: unknown }[] };
    const vectors = answer.data.map((item) => item.embedding);
    assert.ok(
      vectors.every((vector) => typeof vector === 'string'),
      JSON.stringify(vectors),
    );
    // The fake answers [position in its call, 0.25].
    assert.deepEqual(
      vectors.map((vector) => decoded(vector)),
      [
        [0, 0.25],
        [1, 0.25],
      ],
    );
    assert.deepEqual(cohere.calls[0].body.embedding_types, ['float']);
    assert.equal(cohere.calls[0].body.output_dimension, 2);
  });

  it("decodes to Cohere's floats through the SDK's default (base64 on the wire)", async () => {
    const answer = await client.embeddings.create({ model: 'docs-cohere', input: ['a', 'b'] });
    assert.deepEqual(
      answer.data.map((item) => item.embedding),
      [
        [0, 0.25],
        [1, 0.25],
      ],
    );
  });
});
