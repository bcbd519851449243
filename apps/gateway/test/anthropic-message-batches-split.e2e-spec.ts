// Anthropic's Message Batches API through the split deployment (ingress, router,
// provider-adapter), with the official Anthropic SDK: the ingress keeps ids and owners, the
// provider-adapter alone holds the Anthropic key and makes the calls.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startSplitOnAnthropicBackend, type Deployment } from './anthropic-backend';
import { FakeAnthropicBatches } from './fake-anthropic-batches';

const VIRTUAL = 'claude-batch';
const UPSTREAM = 'claude-upstream-4-5';
const BETA = 'interleaved-thinking-2025-05-14';

describe('split deployment: Anthropic Message Batches API', () => {
  const backend = new FakeAnthropicBatches();
  let deployment: Deployment;

  const clientFor = (user: string) =>
    new Anthropic({
      baseURL: deployment.baseUrl,
      apiKey: `sk-client-${user}`,
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user },
    });

  before(async () => {
    await backend.start();
    deployment = await startSplitOnAnthropicBackend(backend, VIRTUAL, UPSTREAM);
  });
  after(async () => {
    await deployment?.stop();
    await backend.stop();
  });

  it('creates, retrieves and reads back a batch with the backend key, the client model name', async () => {
    const alice = clientFor('alice');
    const created = await alice.messages.batches.create(
      {
        requests: [
          {
            custom_id: 'one',
            params: { model: VIRTUAL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
          },
        ],
      },
      // Anthropic applies a create's betas to every request of the batch.
      { headers: { 'anthropic-beta': BETA } },
    );
    assert.match(created.id, /^msgbatch_aigw_/);
    const results = [];
    // Retrieved first (it ends there), then its results read through the gateway.
    for await (const line of await alice.messages.batches.results(created.id)) results.push(line);
    assert.equal(results.length, 1);
    assert.equal(results[0].custom_id, 'one');
    assert.equal(results[0].result.type, 'succeeded');
    if (results[0].result.type === 'succeeded') {
      assert.equal(results[0].result.message.model, VIRTUAL);
    }
    const sent = backend.calls[0].body as { requests: { params: { model: string } }[] };
    assert.equal(sent.requests[0].params.model, UPSTREAM);
    assert.equal(backend.calls[0].beta, BETA);
    for (const call of backend.calls) {
      assert.equal(call.apiKey, 'sk-ant-test', `${call.method} ${call.path}`);
      assert.equal(call.version, '2023-06-01');
    }
    const notFound = await clientFor('bob')
      .messages.batches.retrieve(created.id)
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(notFound instanceof Anthropic.NotFoundError, String(notFound));
  });
});
