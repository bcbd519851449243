// Embeddings on AWS Bedrock through the all-in-one gateway, with the official openai client:
// the backends sign with static AWS keys from the environment (the default credential
// chain's first source) and call a fake Bedrock Runtime that verifies every signature.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeBedrockUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLEE2E',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEE2E',
};

describe('all-in-one gateway: embeddings on Bedrock backends', () => {
  const upstream = new FakeBedrockUpstream(CREDENTIALS);
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await upstream.start();
    const dir = mkdtempSync(join(tmpdir(), 'aigw-bedrock-embeddings-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: bedrock-embeddings}
spec:
  backends:
  - name: titan
    provider: bedrock
    baseUrl: ${upstream.baseUrl}
    model: amazon.titan-embed-text-v2:0
    modelNameOverride: titan-embed
  - name: cohere
    provider: bedrock
    baseUrl: ${upstream.baseUrl}
    model: cohere.embed-v4:0
    modelNameOverride: cohere-embed
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: '',
      AWS_REGION: 'us-east-1',
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  beforeEach(() => upstream.reset());

  /** Every call the fake got carried a SigV4 signature it verified. */
  async function assertAllSigned(): Promise<void> {
    for (const call of upstream.calls) {
      assert.equal(await upstream.verifySignature(call), undefined, call.path);
    }
  }

  it('answers a list of two with two vectors in order and the usage, from Titan V2', async () => {
    const embedding = await client.embeddings.create({ model: 'titan-embed', input: ['a', 'b'] });
    assert.equal(embedding.model, 'titan-embed');
    assert.deepEqual(
      embedding.data.map((item) => item.index),
      [0, 1],
    );
    // The fake's vectors carry their text's first code unit second: 'a', then 'b'.
    assert.deepEqual(
      embedding.data.map((item) => item.embedding[1]),
      [97, 98],
    );
    assert.ok(embedding.data.every((item) => item.embedding.length === 1024));
    // One token each, as Bedrock reported them for the two calls; and what they cost, at
    // the built-in catalog's Titan price (usage.cost, beside the cost header).
    const { cost, ...tokens } = embedding.usage as typeof embedding.usage & { cost?: number };
    assert.deepEqual(tokens, { prompt_tokens: 2, total_tokens: 2 });
    assert.ok(typeof cost === 'number' && cost > 0, `usage.cost ${cost}`);
    assert.equal(upstream.calls.length, 2);
    assert.deepEqual(upstream.calls.map((call) => call.body.inputText).sort(), ['a', 'b']);
    for (const call of upstream.calls) {
      assert.equal(
        call.path,
        `/model/${encodeURIComponent('amazon.titan-embed-text-v2:0')}/invoke`,
      );
    }
    await assertAllSigned();
  });

  it('answers Cohere Embed v4 in one call, with the dimensions asked for', async () => {
    const embedding = await client.embeddings.create({
      model: 'cohere-embed',
      input: ['first text', 'second'],
      dimensions: 256,
    });
    assert.deepEqual(
      embedding.data.map((item) => [item.embedding[0], item.embedding.length]),
      [
        [10, 256],
        [6, 256],
      ],
    );
    assert.deepEqual(embedding.usage, { prompt_tokens: 3, total_tokens: 3 });
    assert.equal(upstream.calls.length, 1);
    assert.deepEqual(upstream.calls[0].body, {
      texts: ['first text', 'second'],
      input_type: 'search_document',
      embedding_types: ['float'],
      output_dimension: 256,
    });
    await assertAllSigned();
  });

  it('refuses a size Titan does not make with a 400 naming dimensions, before calling', async () => {
    await assert.rejects(
      client.embeddings.create({ model: 'titan-embed', input: 'a', dimensions: 300 }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'dimensions',
    );
    assert.equal(upstream.calls.length, 0);
  });
});
