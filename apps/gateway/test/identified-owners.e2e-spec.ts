// Stored objects where one route identifies users two ways (all-in-one gateway): a
// SecurityPolicy trusts two JWT providers, each setting x-user-id from its tokens' `sub`.
// Their `alice`s are two users (jwt:corp:sub:alice, jwt:partner:sub:alice), so the
// partner's alice must get the 404 any stranger gets for the corp alice's stored
// response, conversation, file and batch: reading, listing, continuing and deleting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import {
  FAKE_BATCH_MODEL,
  FakeBatchBackend,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { previousNotFound } from './stored-state-gateway';
import { TwoJwtProviders } from './two-jwt-providers';

const BATCH = 'gpt-batch';
const PLAIN = 'gpt-plain';

const yaml = (
  issuers: TwoJwtProviders,
  batchUrl: string,
  plainUrl: string,
) => `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: shared}
spec:
  backends:
  - {name: batch-openai, provider: openai, baseUrl: "${batchUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: ${BATCH}, auth: {apiKeyRef: {name: openai-key}}}
  - {name: plain, provider: vllm, baseUrl: "${plainUrl}", model: upstream-plain-model, modelNameOverride: ${PLAIN}}
  userIdentification:
    header: x-user-id
---
${issuers.securityPolicy('shared')}`;

const BATCH_INPUT = JSON.stringify({
  custom_id: 'r0',
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: BATCH, messages: [{ role: 'user', content: 'secret plan' }], max_tokens: 10 },
});

const notFound = (param?: string) => (error: unknown) =>
  error instanceof OpenAI.NotFoundError && (param === undefined || error.param === param);

describe('stored objects of one user id from two JWT providers (all-in-one gateway)', () => {
  const issuers = new TwoJwtProviders('identified-owners');
  const batchBackend = new FakeBatchBackend();
  const plain = new FakeOpenAiUpstream('plain');
  let gateway: AppProcess;
  /** The corp's alice and the partner's alice: one id, two users. */
  let corpAlice: OpenAI;
  let partnerAlice: OpenAI;

  before(async () => {
    await Promise.all([issuers.start(), batchBackend.start(), plain.start()]);
    gateway = await startGatewayWithConfig(yaml(issuers, batchBackend.baseUrl, plain.baseUrl), {
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
      AI_GATEWAY_BATCH_POLL_INTERVAL_MS: '0',
    });
    corpAlice = await issuers.client(issuers.corp, 'alice', gateway.baseUrl, BATCH);
    partnerAlice = await issuers.client(issuers.partner, 'alice', gateway.baseUrl, BATCH);
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([issuers.stop(), batchBackend.stop(), plain.stop()]);
  });

  it("keeps the corp alice's stored response from the partner's alice", async () => {
    const mine = await corpAlice.responses.create({ model: PLAIN, input: 'Secret plan.' });
    const calls = plain.calls.length;
    await assert.rejects(partnerAlice.responses.retrieve(mine.id), notFound());
    await assert.rejects(partnerAlice.responses.inputItems.list(mine.id), notFound());
    await assert.rejects(
      partnerAlice.responses.create({
        model: PLAIN,
        input: 'Tell me.',
        previous_response_id: mine.id,
      }),
      (error: unknown) => previousNotFound(error) && !/Secret/.test(String(error)),
    );
    await assert.rejects(partnerAlice.responses.delete(mine.id), notFound());
    assert.equal(plain.calls.length, calls, 'the chained request never reached the backend');
    // Still the corp alice's, to read and continue.
    assert.equal((await corpAlice.responses.retrieve(mine.id)).id, mine.id);
    const next = await corpAlice.responses.create({
      model: PLAIN,
      input: 'And?',
      previous_response_id: mine.id,
    });
    assert.equal(next.previous_response_id, mine.id);
  });

  it("keeps the corp alice's conversation from the partner's alice", async () => {
    const conversation = await corpAlice.conversations.create({
      items: [{ role: 'user', content: 'secret plan' }],
    });
    await assert.rejects(partnerAlice.conversations.retrieve(conversation.id), notFound());
    await assert.rejects(partnerAlice.conversations.items.list(conversation.id), notFound());
    await assert.rejects(
      partnerAlice.conversations.items.create(conversation.id, {
        items: [{ role: 'user', content: 'x' }],
      }),
      notFound(),
    );
    await assert.rejects(
      partnerAlice.responses.create({ model: PLAIN, input: 'and?', conversation: conversation.id }),
      (error: unknown) => notFound('conversation')(error) && !/secret/.test(String(error)),
    );
    await assert.rejects(partnerAlice.conversations.delete(conversation.id), notFound());
    const items = await corpAlice.conversations.items.list(conversation.id);
    assert.equal(items.data.length, 1, 'nothing was added by the partner');
    assert.equal((await corpAlice.conversations.retrieve(conversation.id)).id, conversation.id);
  });

  it("keeps the corp alice's file and batch from the partner's alice", async () => {
    const file = await corpAlice.files.create({
      file: await toFile(Buffer.from(BATCH_INPUT), 'input.jsonl'),
      purpose: 'batch',
    });
    const batch = await corpAlice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });

    const ids = (page: { data: { id: string }[] }) => page.data.map((item) => item.id);
    assert.deepEqual(ids(await partnerAlice.files.list()), [], 'no file listed');
    assert.deepEqual(ids(await partnerAlice.batches.list()), [], 'no batch listed');
    await assert.rejects(partnerAlice.files.retrieve(file.id), notFound());
    await assert.rejects(partnerAlice.files.content(file.id), notFound());
    await assert.rejects(partnerAlice.batches.retrieve(batch.id), notFound());
    await assert.rejects(partnerAlice.batches.cancel(batch.id), notFound());
    // Nor a batch of her own from the corp alice's file.
    await assert.rejects(
      partnerAlice.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
      notFound('input_file_id'),
    );
    await assert.rejects(partnerAlice.files.delete(file.id), notFound());
    assert.equal(batchBackend.batches.size, 1, 'the backend ran the corp batch only');

    // Still the corp alice's: listed, read, and hers to delete.
    assert.ok(ids(await corpAlice.files.list()).includes(file.id));
    assert.deepEqual(ids(await corpAlice.batches.list()), [batch.id]);
    assert.equal((await corpAlice.batches.retrieve(batch.id)).status, 'completed');
    assert.equal((await corpAlice.files.retrieve(file.id)).id, file.id);
    assert.equal((await corpAlice.files.delete(file.id)).deleted, true);
  });
});
