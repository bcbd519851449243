// OpenAI's Files and Batch APIs through the all-in-one gateway with the official OpenAI SDK,
// against a fake OpenAI backend that speaks the documented files and batches format and
// finishes a batch as soon as it is looked at. The client sees the gateway's ids and its
// own model name; the backend sees its model, its key (never the client's); another
// caller gets a 404; a finished batch is billed once, at half the model's price, as
// operation `batch`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI, { toFile } from 'openai';
import { eventually, metricSum, until } from '@aigw/testing';
import {
  FAKE_BATCH_LINE_USAGE as LINE_USAGE,
  FAKE_BATCH_MODEL as UPSTREAM,
  FakeBatchBackend,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { userClient } from './batch-budget-calls';

const VIRTUAL = 'gpt-batch';
const BACKEND_KEY = 'sk-backend-secret';
const PRICE = { inputPer1k: 0.002, outputPer1k: 0.008 };
/** Below what the first batch costs (0.00036 at half price): billing it spends the day. */
const DAILY_LIMIT = 0.0003;

/** A second route: callers named by another header, with prompt rules. */
const TEAM = 'team-batch';

/** Every body but an upload's; a batch line is at most this long. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** An upload's own limit: a larger one is refused, however its form is ordered. */
const MAX_FILE_BYTES = 2 * MAX_BODY_BYTES;

/** Below what a two-line batch uses (2 × 120 tokens): billing it spends the tier's day. */
const TIER_DAILY_TOKENS = 200;

const requestLine = (id: string, model: string, content = `question ${id}`) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    // Bounded, so a batch's hold (its prompts and max_tokens at the batch price) fits the
    // small daily limits below, which its billed usage then spends.
    body: { model, messages: [{ role: 'user', content }], max_tokens: 20 },
  });

describe('all-in-one gateway: OpenAI Files and Batch APIs', () => {
  const backend = new FakeBatchBackend();
  const azure = new FakeBatchBackend(true);
  const teams = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-batches-'));
  let gateway: AppProcess;
  let alice: OpenAI;
  let bob: OpenAI;
  let carol: OpenAI;
  let dave: OpenAI;
  let fileId: string;
  let batchId: string;

  /** An SDK client of `user` (named by x-user-id) on the first route's model. */
  const clientFor = (user: string) =>
    userClient(gateway.baseUrl, user, VIRTUAL, { apiKey: `sk-client-${user}` });

  /** The gateway's Prometheus text, as scraped now. */
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();

  before(async () => {
    await Promise.all([backend.start(), azure.start(), teams.start()]);
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: local-first, provider: vllm, baseUrl: "http://127.0.0.1:9/v1", model: other, modelNameOverride: ${VIRTUAL}}
  - {name: openai-batch, priority: 1, provider: openai, baseUrl: "${backend.baseUrl}", model: ${UPSTREAM}, modelNameOverride: ${VIRTUAL}, auth: {apiKeyRef: {name: openai-key}}}
  - {name: only-vllm, provider: vllm, baseUrl: "http://127.0.0.1:9/v1", model: vllm-model}
  - {name: azure-batch, provider: azure, baseUrl: "${azure.baseUrl}", model: ${UPSTREAM}, modelNameOverride: azure-batch, auth: {apiKeyRef: {name: azure-key}}}
  userIdentification: {header: x-user-id}
  userTiers:
  - name: free
    selector: {header: x-user-plan, value: free}
    tokenBudget: {daily: 1000000}
    allowedModels: [vllm-model]
  - name: standard
    default: true
    selector: {header: x-user-plan, value: standard}
    tokenBudget: {daily: 1000000000}
  costControl:
    maxDailyCostPerUser: ${DAILY_LIMIT}
    modelPricing:
      ${UPSTREAM}: {inputPer1k: ${PRICE.inputPer1k}, outputPer1k: ${PRICE.outputPer1k}}
---
kind: AIGatewayRoute
metadata: {name: teams}
spec:
  backends:
  - {name: teams-batch, provider: openai, baseUrl: "${teams.baseUrl}", model: ${UPSTREAM}, modelNameOverride: ${TEAM}, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-team-user}
  userTiers:
  - name: small
    selector: {header: x-user-plan, value: small}
    tokenBudget: {daily: ${TIER_DAILY_TOKENS}}
  - name: team
    default: true
    selector: {header: x-user-plan, value: team}
    tokenBudget: {daily: 1000000000}
  security:
    promptValidation:
      blockPatterns: ["launch code"]
      redact: {detectors: [email]}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: BACKEND_KEY,
      AI_GATEWAY_SECRET_AZURE_KEY_APIKEY: 'azure-secret',
      AI_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      AI_GATEWAY_MAX_FILE_BYTES: String(MAX_FILE_BYTES),
    });
    alice = clientFor('alice');
    bob = clientFor('bob');
    carol = clientFor('carol');
    dave = userClient(gateway.baseUrl, 'dave', TEAM, {
      apiKey: 'sk-client-dave',
      userHeader: 'x-team-user',
    });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([backend.stop(), azure.stop(), teams.stop()]);
  });

  it('uploads a batch file to the OpenAI backend with its model, under a gateway id', async () => {
    const jsonl = `${requestLine('a', VIRTUAL)}\n${requestLine('b', VIRTUAL)}\n`;
    const file = await alice.files.create({
      file: await toFile(Buffer.from(jsonl), 'input.jsonl'),
      purpose: 'batch',
    });
    assert.match(file.id, /^file-aigw_/);
    assert.equal(file.purpose, 'batch');
    fileId = file.id;
    const [held] = [...backend.files.values()];
    assert.ok(!file.id.includes(held.id) || file.id !== held.id);
    const sentModels = held.content
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { body: { model: string } }).body.model);
    assert.deepEqual(sentModels, [UPSTREAM, UPSTREAM]);
    const upload = backend.calls.at(-1)!;
    assert.equal(upload.authorization, `Bearer ${BACKEND_KEY}`);

    // The owner reads it back, with the client's model names in its lines.
    const again = await alice.files.retrieve(fileId);
    assert.equal(again.id, fileId);
    const content = await (await alice.files.content(fileId)).text();
    assert.ok(content.includes(`"model":"${VIRTUAL}"`) && !content.includes(UPSTREAM), content);
  });

  it('refuses a line for another model (naming it), and an upload naming no model', async () => {
    const jsonl = `${requestLine('a', VIRTUAL)}\n${requestLine('b', 'gpt-other')}\n`;
    await assert.rejects(
      alice.files.create({ file: await toFile(Buffer.from(jsonl), 'bad.jsonl'), purpose: 'batch' }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError && /Line 2 .*gpt-other/.test(error.message),
    );
    await assert.rejects(
      alice.files.create(
        { file: await toFile(Buffer.from(requestLine('a', VIRTUAL)), 'x.jsonl'), purpose: 'batch' },
        { headers: { 'x-ai-gateway-model': null } },
      ),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        /'model' form field or the 'x-ai-gateway-model' header/.test(error.message),
    );
    await assert.rejects(
      alice.files.create(
        {
          file: await toFile(Buffer.from(requestLine('a', 'vllm-model')), 'x.jsonl'),
          purpose: 'batch',
        },
        { headers: { 'x-ai-gateway-model': 'vllm-model' } },
      ),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        /no OpenAI or Azure OpenAI backend/.test(error.message),
    );
    assert.equal(backend.files.size, 1, 'nothing refused reached the backend');
  });

  it("keeps a caller's file from every other caller", async () => {
    await assert.rejects(bob.files.retrieve(fileId), OpenAI.NotFoundError);
    await assert.rejects(bob.files.content(fileId), OpenAI.NotFoundError);
    await assert.rejects(bob.files.delete(fileId), OpenAI.NotFoundError);
    await assert.rejects(
      bob.batches.create({
        input_file_id: fileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
      OpenAI.NotFoundError,
    );
    assert.deepEqual((await bob.files.list()).data, []);
    assert.deepEqual(
      (await alice.files.list()).data.map((file) => file.id),
      [fileId],
    );
  });

  it("refuses an upload and a batch for a model the caller's tier may not use (403)", async () => {
    const free = { headers: { 'x-user-plan': 'free' } };
    await assert.rejects(
      alice.files.create(
        { file: await toFile(Buffer.from(requestLine('a', VIRTUAL)), 'x.jsonl'), purpose: 'batch' },
        free,
      ),
      (error: unknown) =>
        error instanceof OpenAI.PermissionDeniedError && error.message.includes(VIRTUAL),
    );
    await assert.rejects(
      alice.batches.create(
        { input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' },
        free,
      ),
      OpenAI.PermissionDeniedError,
    );
  });

  it('creates, retrieves and lists a batch under gateway ids, and reads its output', async () => {
    const batch = await alice.batches.create({
      input_file_id: fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 'nightly' },
      output_expires_after: { anchor: 'created_at', seconds: 3600 },
    });
    assert.match(batch.id, /^batch_aigw_/);
    assert.equal(batch.input_file_id, fileId);
    assert.equal(batch.status, 'validating');
    assert.equal((batch as unknown as { model: string }).model, VIRTUAL);
    batchId = batch.id;
    const [held] = [...backend.batches.values()];
    assert.equal(held.input_file_id, [...backend.files.keys()][0], 'the provider id went upstream');
    assert.deepEqual(held.metadata, { job: 'nightly' });
    assert.deepEqual(held.outputExpiresAfter, { anchor: 'created_at', seconds: 3600 });

    const done = await alice.batches.retrieve(batchId);
    assert.equal(done.status, 'completed');
    assert.match(done.output_file_id ?? '', /^file-aigw_/);
    const output = await (await alice.files.content(done.output_file_id!)).text();
    const lines = output
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { response: { body: { model: string } } });
    assert.equal(lines.length, 2);
    for (const line of lines) assert.equal(line.response.body.model, VIRTUAL);
    await assert.rejects(bob.files.content(done.output_file_id!), OpenAI.NotFoundError);
    // Listed with every field OpenAI's file object requires, as the backend described it.
    const outputFile = (await alice.files.list()).data.find((f) => f.id === done.output_file_id);
    const heldOutput = backend.files.get(
      [...backend.files.values()].find((f) => f.purpose === 'batch_output')!.id,
    )!;
    assert.deepEqual(
      outputFile && [
        outputFile.bytes,
        outputFile.filename,
        outputFile.created_at,
        outputFile.status,
      ],
      [Buffer.byteLength(heldOutput.content), heldOutput.filename, 1_700_000_000, 'processed'],
    );

    await assert.rejects(bob.batches.retrieve(batchId), OpenAI.NotFoundError);
    assert.deepEqual((await bob.batches.list()).data, []);
    const listed = await alice.batches.list();
    assert.deepEqual(
      listed.data.map((b) => [b.id, b.status]),
      [[batchId, 'completed']],
    );
    for (const call of backend.calls) {
      assert.equal(call.authorization, `Bearer ${BACKEND_KEY}`, `${call.method} ${call.path}`);
    }
  });

  it('bills the finished batch once, at half the price, as operation batch', async () => {
    await alice.batches.retrieve(batchId); // a second look bills nothing more
    const input = 2 * LINE_USAGE.prompt_tokens;
    const output = 2 * LINE_USAGE.completion_tokens;
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
      await until('the usage row is stored', () => rows().length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 500));
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
    assert.equal(
      metricSum(text, 'ai_gateway_files_batches_total', {
        kind: 'batch',
        action: 'settle',
        outcome: 'ok',
      }),
      1,
    );
    // Its tokens and cost are the caller's on the spec's metrics, as a single call's are.
    const tokens = (type: string) =>
      metricSum(text, 'ai_gateway_tokens_total', { user: 'alice', model: VIRTUAL, type });
    assert.equal(tokens('input'), input);
    assert.equal(tokens('output'), output);
    const cost = metricSum(text, 'ai_gateway_cost_dollars', { user: 'alice', model: VIRTUAL });
    assert.ok(Math.abs(cost - expected) < 1e-12, `${cost}`);
  });

  it("refuses a new batch once the owner's budget is spent by a billed one", async () => {
    // The billed batch reaches the budget through the event log: wait for it to settle.
    const refusal = await eventually(
      'a new batch is refused',
      async () => {
        try {
          await alice.batches.create({
            input_file_id: fileId,
            endpoint: '/v1/chat/completions',
            completion_window: '24h',
          });
        } catch (error) {
          return error as Error;
        }
        return undefined;
      },
      { everyMs: 200 },
    );
    assert.ok(refusal instanceof OpenAI.RateLimitError, String(refusal));
    assert.match(refusal.message, /maxDailyCostPerUser/);
  });

  it('cancels a batch and deletes a file for their owner only', async () => {
    const file = await carol.files.create({
      file: await toFile(Buffer.from(requestLine('c', VIRTUAL)), 'more.jsonl'),
      purpose: 'batch',
    });
    const batch = await carol.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await assert.rejects(bob.batches.cancel(batch.id), OpenAI.NotFoundError);
    const cancelled = await carol.batches.cancel(batch.id);
    assert.equal(cancelled.id, batch.id);
    assert.equal(cancelled.status, 'cancelling');

    const deleted = await carol.files.delete(file.id);
    assert.deepEqual(deleted, { id: file.id, object: 'file', deleted: true });
    await assert.rejects(carol.files.retrieve(file.id), OpenAI.NotFoundError);
    await assert.rejects(carol.batches.retrieve('batch_abc'), OpenAI.NotFoundError);
  });
  it("runs a batch at an Azure OpenAI backend, on Azure's paths with its api-key", async () => {
    const headers = { 'x-ai-gateway-model': 'azure-batch' };
    const line = requestLine('z', 'azure-batch');
    const file = await carol.files.create(
      { file: await toFile(Buffer.from(line), 'azure.jsonl'), purpose: 'batch' },
      { headers },
    );
    const batch = await carol.batches.create(
      { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' },
      { headers },
    );
    const done = await carol.batches.retrieve(batch.id);
    assert.equal(done.status, 'completed');
    const output = await (await carol.files.content(done.output_file_id!)).text();
    assert.ok(output.includes('"model":"azure-batch"'), output);
    const [held] = [...azure.files.values()];
    assert.ok(held.content.includes(`"model":"${UPSTREAM}"`));
    // The output's file object is asked once (its first look, for lists), billing reads the
    // output once (on the retrieve that saw it finished), then the client.
    const [batchHeld] = [...azure.batches.keys()];
    const outputHeld = [...azure.files.keys()][1];
    const version = '?api-version=2024-10-21';
    assert.deepEqual(
      azure.calls.map((call) => `${call.method} ${call.path}${call.query}`),
      [
        `POST /openai/files${version}`,
        `POST /openai/batches${version}`,
        `GET /openai/batches/${batchHeld}${version}`,
        `GET /openai/files/${outputHeld}${version}`,
        `GET /openai/files/${outputHeld}/content${version}`,
        `GET /openai/files/${outputHeld}/content${version}`,
      ],
    );
    for (const call of azure.calls) {
      assert.equal(call.apiKey, 'azure-secret');
      assert.equal(call.authorization, undefined, 'the client key is not forwarded');
    }
  });

  it("holds every line of a batch file to the route's prompt rules, as a single call", async () => {
    const blocked = `${requestLine('a', TEAM)}\n${requestLine('b', TEAM, 'the launch code is 0000')}\n`;
    await assert.rejects(
      dave.files.create({ file: await toFile(Buffer.from(blocked), 'x.jsonl'), purpose: 'batch' }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        /Line 2 .*blockPatterns\[0\]/.test(error.message) &&
        !error.message.includes('launch code'),
    );
    assert.equal(teams.files.size, 0, 'nothing refused reached the backend');
    assert.equal(
      metricSum(await metrics(), 'ai_gateway_files_batches_total', {
        kind: 'file',
        action: 'create',
        outcome: 'blocked',
      }),
      1,
    );

    const masked = requestLine('m', TEAM, 'write to dave@example.com');
    await dave.files.create({
      file: await toFile(Buffer.from(masked), 'm.jsonl'),
      purpose: 'batch',
    });
    const [held] = [...teams.files.values()];
    assert.ok(!held.content.includes('dave@example.com'), held.content);
    assert.ok(held.content.includes('write to [REDACTED:email]'), held.content);
    assert.equal(
      metricSum(await metrics(), 'ai_gateway_redactions_total', {
        detector: 'email',
        route: 'teams',
        direction: 'prompt',
      }),
      1,
    );
  });

  it("lists only the objects the caller owns on each object's own route", async () => {
    // The first route names callers by x-user-id, which anyone may set: "dave" there is
    // not the teams route's dave, and must not list his files and batches.
    const mallory = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'sk-client-mallory',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': 'dave', 'x-ai-gateway-model': VIRTUAL },
    });
    const [file] = (await dave.files.list()).data;
    assert.ok(file, "dave's masked upload is listed to him");
    const batch = await dave.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    assert.deepEqual(
      (await dave.batches.list()).data.map((b) => b.id),
      [batch.id],
    );
    assert.deepEqual((await mallory.files.list()).data, []);
    assert.deepEqual((await mallory.batches.list()).data, []);
    await assert.rejects(mallory.files.retrieve(file.id), OpenAI.NotFoundError);
  });

  it("checks a batch against its owner's tier budget and charges the tier for it", async () => {
    const erin = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'sk-client-erin',
      maxRetries: 0,
      defaultHeaders: { 'x-team-user': 'erin', 'x-user-plan': 'small', 'x-ai-gateway-model': TEAM },
    });
    const jsonl = `${requestLine('a', TEAM)}\n${requestLine('b', TEAM)}\n`;
    const file = await erin.files.create({
      file: await toFile(Buffer.from(jsonl), 'tier.jsonl'),
      purpose: 'batch',
    });
    const create = () =>
      erin.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
    const batch = await create();
    assert.equal((await erin.batches.retrieve(batch.id)).status, 'completed'); // billed here
    // The billed batch reaches the tier's budget through the event log: wait for it.
    const refusal = await eventually(
      'a new batch is refused',
      async () => {
        try {
          await create();
        } catch (error) {
          return error as Error;
        }
        return undefined;
      },
      { everyMs: 200 },
    );
    assert.ok(refusal instanceof OpenAI.RateLimitError, String(refusal));
    assert.match(refusal.message, /userTiers\.tokenBudget\.daily/);
  });

  it("streams a large output file to its client in the client's names, billing it on the way", async () => {
    const frank = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'sk-client-frank',
      maxRetries: 0,
      defaultHeaders: { 'x-team-user': 'frank', 'x-ai-gateway-model': TEAM },
    });
    // Multi-byte ids (echoed in the output), cut across the backend's 1000-byte writes.
    const count = 400;
    const jsonl = Array.from({ length: count }, (_, i) => requestLine(`ü-日本-🙂-${i}`, TEAM)).join(
      '\n',
    );
    const file = await frank.files.create({
      file: await toFile(Buffer.from(jsonl), 'large.jsonl'),
      purpose: 'batch',
    });
    const batch = await frank.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    teams.contentChunkBytes = 1000;
    // The look that sees it finished cannot read the output (a 500): the download bills it.
    teams.failContentReads = 1;
    const done = await frank.batches.retrieve(batch.id);
    assert.equal(done.status, 'completed');
    const held = [...teams.files.values()].find(
      (f) => f.purpose === 'batch_output' && f.content.includes('ü-日本'),
    );
    assert.ok(held && Buffer.byteLength(held.content) > 20 * 1000, 'an output of many chunks');
    const reads = () => teams.calls.filter((call) => call.path.endsWith('/content')).length;
    const readsBefore = reads();
    const downloaded = async () =>
      metricSum(await metrics(), 'ai_gateway_batch_file_bytes_total', {
        use: 'download',
        outcome: 'complete',
      });
    const downloadedBefore = await downloaded();

    // A HEAD is not a download: it reads nothing from the backend and bills nothing (a 405:
    // the content is served to GET only).
    const head = await fetch(`${gateway.baseUrl}/v1/files/${done.output_file_id}/content`, {
      method: 'HEAD',
      headers: { authorization: 'Bearer sk-client-frank', 'x-team-user': 'frank' },
    });
    assert.equal(head.status, 405);
    assert.equal(head.headers.get('allow'), 'GET');
    assert.equal(reads(), readsBefore, 'a HEAD read the file');
    assert.equal(
      metricSum(await metrics(), 'ai_gateway_batches_billed_total', { trigger: 'content' }),
      0,
    );

    // The backend stops after its first write: the client has bytes before the file ends.
    const { response, reader, first } = await teams.firstBytesWhileHeld(() =>
      frank.files.content(done.output_file_id!),
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    assert.ok(first.value && first.value.length > 0);
    const parts: Uint8Array[] = [first.value];
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      parts.push(part.value);
    }
    const text = Buffer.concat(parts).toString('utf8');
    assert.equal(
      text,
      held.content.replaceAll(`"model":"${UPSTREAM}-2025-01-01"`, `"model":"${TEAM}"`),
      'the same bytes, the model names restored',
    );
    assert.equal(reads() - readsBefore, 1, 'billing read no second copy');

    await until(
      'the batch is billed by its content read',
      async () =>
        metricSum(await metrics(), 'ai_gateway_batches_billed_total', { trigger: 'content' }) >= 1,
    );
    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const rows = () =>
        db
          .prepare(
            `SELECT input_tokens AS input, output_tokens AS output, operation
             FROM usage_events WHERE user_id = 'frank'`,
          )
          .all() as Record<string, unknown>[];
      await until("frank's usage row is stored", () => rows().length >= 1);
      assert.deepEqual(
        rows().map((row) => ({ ...row })),
        [
          {
            input: count * LINE_USAGE.prompt_tokens,
            output: count * LINE_USAGE.completion_tokens,
            operation: 'batch',
          },
        ],
      );
    } finally {
      db.close();
    }
    const scraped = await metrics();
    assert.equal(metricSum(scraped, 'ai_gateway_batches_billed_total', { trigger: 'content' }), 1);
    assert.equal((await downloaded()) - downloadedBefore, Buffer.byteLength(held.content));
  });

  it("bills a batch from its output before deleting that output, refusing while it can't", async () => {
    const erin = clientFor('erin');
    const file = await erin.files.create({
      file: await toFile(Buffer.from(requestLine('e', VIRTUAL)), 'erin.jsonl'),
      purpose: 'batch',
    });
    const batch = await erin.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const billed = async () =>
      metricSum(await metrics(), 'ai_gateway_batches_billed_total', { trigger: 'delete' });
    // The look that sees it finished cannot read the output: not billed yet.
    backend.failContentReads = 1_000;
    try {
      const done = await erin.batches.retrieve(batch.id);
      assert.equal(done.status, 'completed');
      const outputId = done.output_file_id!;
      const held = [...backend.files.values()].find(
        (f) => f.purpose === 'batch_output' && f.content.includes('batch_req_e'),
      )!;
      await assert.rejects(erin.files.delete(outputId), (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 503);
        assert.equal(error.code, 'batch_output_unbilled');
        assert.equal(error.headers?.get('retry-after'), '30');
        assert.match(error.message, /not billed yet/);
        return true;
      });
      assert.ok(backend.files.has(held.id), 'the output stays at the backend');
      assert.equal(await billed(), 0);
      // The backend reads again: the delete bills the batch, then deletes its output.
      backend.failContentReads = 0;
      assert.deepEqual(await erin.files.delete(outputId), {
        id: outputId,
        object: 'file',
        deleted: true,
      });
      assert.ok(!backend.files.has(held.id));
      assert.equal(await billed(), 1);
    } finally {
      backend.failContentReads = 0;
    }
  });

  it('takes the SDK’s upload (file before purpose) of a file over AI_GATEWAY_MAX_BODY_BYTES', async () => {
    const before = backend.files.size;
    let jsonl = '';
    for (let id = 0; jsonl.length < MAX_BODY_BYTES + 64 * 1024; id++) {
      jsonl += requestLine(`big-${id}`, VIRTUAL, `question ${id} ${'w'.repeat(200)}`) + '\n';
    }
    const file = await alice.files.create({
      file: await toFile(Buffer.from(jsonl), 'big.jsonl'),
      purpose: 'batch',
    });
    assert.match(file.id, /^file-aigw_/);
    assert.equal(backend.files.size, before + 1);
    const held = [...backend.files.values()].at(-1)!;
    assert.ok(held.content === jsonl.replaceAll(`"model":"${VIRTUAL}"`, `"model":"${UPSTREAM}"`));
  });

  it('refuses an upload over AI_GATEWAY_MAX_FILE_BYTES with an OpenAI-style 413', async () => {
    const before = backend.files.size;
    const big = Buffer.alloc(MAX_FILE_BYTES + 1024, 'x');
    await assert.rejects(
      alice.files.create({ file: await toFile(big, 'big.jsonl'), purpose: 'batch' }),
      (error: unknown) =>
        error instanceof OpenAI.APIError &&
        error.status === 413 &&
        (error.error as { type?: string } | undefined)?.type === 'invalid_request_error',
    );
    assert.equal(backend.files.size, before, 'nothing reached the backend');
  });
});
