// Anthropic's Message Batches API through the all-in-one gateway with the official
// Anthropic SDK, against a fake Anthropic backend that ends a batch when it is retrieved.
// The client sees the gateway's ids and its own model name; the backend sees its model, its
// key (never the client's) and the client's custom_ids; another caller gets a 404; the
// refusals are an OpenAI batch's (tier, spent budget, prompt rules on every request); an
// ended batch is billed once, at half the model's price, as operation `batch`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import Anthropic from '@anthropic-ai/sdk';
import { metricSum, until } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { FAKE_MESSAGE_USAGE as USAGE, FakeAnthropicBatches } from './fake-anthropic-batches';

const VIRTUAL = 'claude-batch';
const UPSTREAM = 'claude-upstream-4-5';
const GPT_ONLY = 'gpt-only';
const BACKEND_KEY = 'sk-ant-backend-secret';
const PRICE = { inputPer1k: 0.002, outputPer1k: 0.008 };
/** Above a two-request batch's hold, below its bill (0.00064 at half price). */
const DAILY_LIMIT = 0.0005;

const request = (customId: string, content = `question ${customId}`, model = VIRTUAL) => ({
  custom_id: customId,
  params: { model, max_tokens: 20, messages: [{ role: 'user' as const, content }] },
});

describe('all-in-one gateway: Anthropic Message Batches API', () => {
  const backend = new FakeAnthropicBatches();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-message-batches-'));
  let gateway: AppProcess;
  let batchId: string;

  const clientFor = (user: string, plan = 'standard') =>
    new Anthropic({
      baseURL: gateway.baseUrl,
      apiKey: `sk-client-${user}`,
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user, 'x-user-plan': plan },
    });
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  const refusal = async (call: Promise<unknown>) => {
    try {
      await call;
    } catch (error) {
      assert.ok(error instanceof Anthropic.APIError, String(error));
      return error;
    }
    assert.fail('the call was not refused');
  };

  before(async () => {
    await backend.start();
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: claude}
spec:
  backends:
  - {name: claude-batch, provider: anthropic, baseUrl: "${backend.baseUrl}", model: ${UPSTREAM}, modelNameOverride: ${VIRTUAL}, auth: {apiKeyRef: {name: anthropic-key}}}
  - {name: gpt-only, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: ${GPT_ONLY}, auth: {apiKeyRef: {name: anthropic-key}}}
  userIdentification: {header: x-user-id}
  userTiers:
  - name: free
    selector: {header: x-user-plan, value: free}
    tokenBudget: {daily: 1000000}
    allowedModels: [${GPT_ONLY}]
  - name: standard
    default: true
    selector: {header: x-user-plan, value: standard}
    tokenBudget: {daily: 1000000000}
  costControl:
    maxDailyCostPerUser: ${DAILY_LIMIT}
    modelPricing:
      ${UPSTREAM}: {inputPer1k: ${PRICE.inputPer1k}, outputPer1k: ${PRICE.outputPer1k}}
  security:
    promptValidation:
      blockPatterns: ["launch code"]
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: BACKEND_KEY,
      // Only the clients' looks end and bill a batch here.
      AI_GATEWAY_BATCH_POLL_INTERVAL_MS: '0',
    });
  });

  after(async () => {
    await gateway?.stop();
    await backend.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the batch at the Anthropic backend with its model, under a gateway id', async () => {
    const batch = await clientFor('alice').messages.batches.create(
      { requests: [request('first'), request('second')] },
      // Anthropic applies a create's betas to every request of the batch.
      { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } },
    );
    batchId = batch.id;
    assert.match(batch.id, /^msgbatch_aigw_/);
    assert.equal(batch.type, 'message_batch');
    assert.equal(batch.processing_status, 'in_progress');
    assert.equal(batch.results_url, null);
    const [created] = backend.calls;
    assert.equal(created.path, '/v1/messages/batches');
    assert.equal(created.apiKey, BACKEND_KEY);
    assert.equal(created.version, '2023-06-01');
    assert.equal(created.authorization, undefined);
    assert.equal(created.beta, 'interleaved-thinking-2025-05-14');
    const sent = (created.body as { requests: { custom_id: string; params: { model: string } }[] })
      .requests;
    assert.deepEqual(
      sent.map((one) => [one.custom_id, one.params.model]),
      [
        ['first', UPSTREAM],
        ['second', UPSTREAM],
      ],
    );
    assert.ok(!JSON.stringify(batch).includes('msgbatch_1'), 'the backend id is not shown');
  });

  it("shows the batch to its owner only; another caller's look is a 404", async () => {
    const alice = clientFor('alice');
    const seen = await alice.messages.batches.retrieve(batchId);
    assert.equal(seen.id, batchId);
    assert.equal(seen.processing_status, 'ended');
    assert.equal(seen.results_url, `/v1/messages/batches/${batchId}/results`);
    const listed = [];
    for await (const one of alice.messages.batches.list()) listed.push(one.id);
    assert.deepEqual(listed, [batchId]);
    const bob = clientFor('bob');
    const notFound = await refusal(bob.messages.batches.retrieve(batchId));
    assert.equal(notFound.status, 404);
    assert.equal((notFound.error as { error: { type: string } }).error.type, 'not_found_error');
    assert.equal((await refusal(bob.messages.batches.results(batchId))).status, 404);
    assert.equal((await refusal(bob.messages.batches.cancel(batchId))).status, 404);
    assert.equal((await refusal(bob.messages.batches.delete(batchId))).status, 404);
    const bobs = [];
    for await (const one of bob.messages.batches.list()) bobs.push(one.id);
    assert.deepEqual(bobs, []);
  });

  it('streams the results back with custom_ids kept and the client model name', async () => {
    const results = [];
    for await (const line of await clientFor('alice').messages.batches.results(batchId)) {
      results.push(line);
    }
    assert.deepEqual(
      results.map((line) => line.custom_id),
      ['first', 'second'],
    );
    for (const line of results) {
      assert.equal(line.result.type, 'succeeded');
      if (line.result.type === 'succeeded') assert.equal(line.result.message.model, VIRTUAL);
    }
    assert.ok(!JSON.stringify(results).includes(UPSTREAM), 'the backend model is not shown');
  });

  it('bills the ended batch once, at half the price, as operation batch', async () => {
    await clientFor('alice').messages.batches.retrieve(batchId); // a second look bills nothing
    const input = 2 * USAGE.input_tokens;
    const output = 2 * USAGE.output_tokens;
    const expected =
      ((input / 1000) * PRICE.inputPer1k + (output / 1000) * PRICE.outputPer1k) * 0.5;
    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const rows = () =>
        db
          .prepare(
            `SELECT user_id AS user, model_requested AS requested, model_served AS served,
               input_tokens AS input, output_tokens AS output, cost_dollars AS cost, operation
             FROM usage_events`,
          )
          .all() as Record<string, unknown>[];
      await until('the ended batch is billed', () => rows().length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 500)); // room for a second bill to show
      const stored = rows();
      assert.equal(stored.length, 1);
      const [row] = stored;
      assert.equal(row.user, 'alice');
      assert.equal(row.requested, VIRTUAL);
      assert.equal(row.served, UPSTREAM);
      assert.equal(row.input, input);
      assert.equal(row.output, output);
      assert.equal(row.operation, 'batch');
      assert.ok(Math.abs((row.cost as number) - expected) < 1e-12, `${String(row.cost)}`);
    } finally {
      db.close();
    }
    const text = await metrics();
    const counted = (action: string) =>
      metricSum(text, 'ai_gateway_files_batches_total', {
        kind: 'message_batch',
        action,
        outcome: 'ok',
      });
    assert.equal(counted('settle'), 1);
    assert.equal(counted('create'), 1);
    assert.equal(metricSum(text, 'ai_gateway_batches_billed_total', { trigger: 'client_poll' }), 1);
    assert.equal(metricSum(text, 'ai_gateway_batches_finished_total', { status: 'completed' }), 1);
  });

  it("refuses a new batch once the owner's budget is spent by a billed one", async () => {
    // Waits for the bill to settle, then tries once: batches created meanwhile would hold
    // enough between them to be refused whether or not the bill counted.
    await until('the bill is settled against the daily cost limit', async () => {
      const gauge = (await metrics())
        .split('\n')
        .find(
          (line) =>
            line.startsWith('ai_gateway_budget_remaining{') &&
            line.includes('budget_key="alice"') &&
            line.includes('limit="costControl.maxDailyCostPerUser"'),
        );
      return gauge?.endsWith('} 0') ?? false;
    });
    const refused = await refusal(
      clientFor('alice').messages.batches.create({ requests: [request('again')] }),
    );
    assert.equal(refused.status, 429);
    assert.equal((refused.error as { error: { type: string } }).error.type, 'rate_limit_error');
  });

  it('refuses as OpenAI batches do: a tier without the model, a blocked prompt', async () => {
    const calls = backend.calls.length;
    const tier = await refusal(
      clientFor('carol', 'free').messages.batches.create({ requests: [request('a')] }),
    );
    assert.equal(tier.status, 403);
    assert.equal((tier.error as { error: { type: string } }).error.type, 'permission_error');
    const blocked = await refusal(
      clientFor('carol').messages.batches.create({
        requests: [request('ok'), request('bad', 'tell me the launch code')],
      }),
    );
    assert.equal(blocked.status, 400);
    assert.equal(
      (blocked.error as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
    assert.equal(backend.calls.length, calls, 'nothing refused reached the backend');
  });

  it('answers in Anthropic shape why other batches cannot run', async () => {
    const carol = clientFor('carol');
    const noAnthropic = await refusal(
      carol.messages.batches.create({ requests: [request('a', 'hi', GPT_ONLY)] }),
    );
    assert.equal(noAnthropic.status, 400);
    assert.match(noAnthropic.message, /no Anthropic backend/);
    const twoModels = await refusal(
      carol.messages.batches.create({ requests: [request('a'), request('b', 'hi', GPT_ONLY)] }),
    );
    assert.equal(twoModels.status, 400);
    assert.match(twoModels.message, /same model/);
    const sameIds = await refusal(
      carol.messages.batches.create({ requests: [request('a'), request('a')] }),
    );
    assert.equal(sameIds.status, 400);
    assert.match(sameIds.message, /unique/);
  });

  it('cancels a batch (its hold given back, nothing billed) and deletes it', async () => {
    const dave = clientFor('dave');
    const created = await dave.messages.batches.create({ requests: [request('x')] });
    const cancelled = await dave.messages.batches.cancel(created.id);
    assert.equal(cancelled.id, created.id);
    assert.equal(cancelled.processing_status, 'ended');
    assert.equal(cancelled.request_counts.canceled, 1);
    const deleted = await dave.messages.batches.delete(created.id);
    assert.deepEqual(deleted, { id: created.id, type: 'message_batch_deleted' });
    assert.equal((await refusal(dave.messages.batches.retrieve(created.id))).status, 404);
    const text = await metrics();
    assert.equal(
      metricSum(text, 'ai_gateway_files_batches_total', {
        kind: 'message_batch',
        action: 'release',
        outcome: 'ok',
      }) +
        metricSum(text, 'ai_gateway_files_batches_total', {
          kind: 'batch',
          action: 'release',
          outcome: 'ok',
        }),
      1,
    );
    assert.equal(metricSum(text, 'ai_gateway_batches_finished_total', { status: 'cancelled' }), 1);
  });
});
