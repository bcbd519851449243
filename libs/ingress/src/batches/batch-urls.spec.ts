import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import type { JsonObject, Operation } from '@aigw/contracts/data-plane';
import { BatchEstimator } from './batch-estimate';
import { batchInputLineRewriter } from './batch-jsonl';
import { screenBatchBody } from './batch-prompt-rules';
import type { HeldObjectCalls } from './held-api';
import { backendReply, batchApis, HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';

/** An Azure-style line (its url without /v1), read as the upload reads it. */
function uploaded(url: string, body: JsonObject) {
  const operations: Operation[] = [];
  const estimator = new BatchEstimator(100);
  const rewrite = batchInputLineRewriter('gpt-batch', 'up', (lineUrl, lineBody) => {
    estimator.add(lineUrl, lineBody);
    return screenBatchBody(lineUrl, lineBody, (operation, read) => {
      operations.push(operation);
      return read;
    });
  });
  const line = JSON.stringify({ custom_id: 'c1', method: 'POST', url, body });
  const sent = JSON.parse(Buffer.concat(rewrite(Buffer.from(line), '\n')).toString('utf8'));
  return { operations, estimate: estimator.estimate, sent };
}

describe("a batch line in Azure's form (url without /v1)", () => {
  it("has its messages screened as chat's, and goes on as /v1/chat/completions", () => {
    const { operations, estimate, sent } = uploaded('/chat/completions', {
      model: 'gpt-batch',
      messages: [{ role: 'user', content: 'q' }],
    });
    assert.deepEqual(operations, ['chat']);
    assert.deepEqual(estimate.urls, ['/v1/chat/completions']);
    assert.equal(sent.url, '/v1/chat/completions');
    assert.equal(sent.body.model, 'up');
  });

  it('is read as embeddings (no output held) and Responses as theirs', () => {
    const embeddings = uploaded('/embeddings', { model: 'gpt-batch', input: 'q' });
    assert.deepEqual(embeddings.operations, ['embeddings']);
    assert.equal(embeddings.estimate.outputTokens, 0);
    const responses = uploaded('/responses', {
      model: 'gpt-batch',
      input: 'q',
      max_output_tokens: 7,
    });
    assert.deepEqual(responses.operations, ['chat']);
    assert.equal(responses.estimate.outputTokens, 7);
    assert.equal(responses.sent.url, '/v1/responses');
  });

  it('keeps any other url as it came', () => {
    const { sent, estimate } = uploaded('/v1/completions', { model: 'gpt-batch', prompt: 'q' });
    assert.equal(sent.url, '/v1/completions');
    assert.deepEqual(estimate.urls, ['/v1/completions']);
  });
});

describe("a batch created with Azure's endpoint (without /v1)", () => {
  it('runs its file of /v1/chat/completions lines, sent to the backend as OpenAI names it', async () => {
    const sent: JsonObject[] = [];
    const backend: HeldObjectCalls = {
      async send(_target, method, path, body) {
        assert.equal(`${method} ${path}`, 'POST /batches');
        sent.push(JSON.parse(body!.data.toString('utf8')));
        return backendReply({ id: 'b1', object: 'batch', status: 'validating' });
      },
    };
    const { store, batches } = batchApis(backend);
    const file = heldOnBatchRoute('file', 'f1', Date.now(), {
      object: { purpose: 'batch' },
      estimate: { inputTokens: 1, outputTokens: 1, requests: 1, urls: ['/v1/chat/completions'] },
    });
    await store.put(file, HELD_TTL_MS);
    const request = {
      body: { input_file_id: file.id, endpoint: '/chat/completions', completion_window: '24h' },
      headers: {},
    } as unknown as FastifyRequest;
    const batch = await batches.createBatch(
      request,
      async () => 'alice',
      async () => undefined,
      async () => undefined,
    );
    assert.match(String(batch.id), /^batch_aigw_/);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].endpoint, '/v1/chat/completions');
  });
});
