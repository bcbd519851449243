// The Files and Batch APIs in the split deployment (ingress, router and provider-adapter as
// three processes) with the official openai client: the ingress keeps ids, owners and
// billing; each backend call crosses both internal hops (an upload's bytes as base64, a
// file's content streamed raw) to the provider-adapter, which alone holds the backend's key. A finished batch is billed by the
// ingress: one usage event, operation batch, at half the model's price; one no client
// looks at is billed by the ingress's sweeper (every 200 ms here), its look crossing both
// hops as a client's does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI, { toFile } from 'openai';
import { Topic } from '@aigw/contracts';
import {
  FAKE_BATCH_LINE_USAGE,
  FAKE_BATCH_MODEL,
  FakeBatchBackend,
} from '@aigw/testing/fake-provider';
import { metricSum, until } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const VIRTUAL = 'gpt-batch';
const BACKEND_KEY = 'sk-split-backend';
const PRICE = { inputPer1k: 0.002, outputPer1k: 0.008 };

/**
 * The usage events the ingress recorded (its event log without Kafka) for one batch, by its
 * id: the sweeper may bill an earlier test's batch while a later test waits.
 */
function batchEvents(dir: string, batchId: string): Record<string, unknown>[] {
  const db = new DatabaseSync(join(dir, 'ingress', 'ingress-events.db'), { readOnly: true });
  try {
    return (
      db.prepare('SELECT value FROM events WHERE topic = ?').all(Topic.UsageRecorded) as {
        value: string;
      }[]
    )
      .map((row) => JSON.parse(row.value) as Record<string, unknown>)
      .filter((event) => event.operation === 'batch' && event.requestId === batchId);
  } finally {
    db.close();
  }
}

/** Waits for the batch's first usage event (the kit's bound only ends a hang); its events then. */
async function billedEvents(dir: string, batchId: string): Promise<Record<string, unknown>[]> {
  await until('the batch is billed', () => batchEvents(dir, batchId).length > 0);
  return batchEvents(dir, batchId);
}

describe('split deployment: files and batches across the internal wire', () => {
  const backend = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-batches-'));
  let services: AppProcess[] = [];
  let alice: OpenAI;
  let bob: OpenAI;
  let ingressAdminPort = 0;

  before(async () => {
    await backend.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "${backend.baseUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: ${VIRTUAL}, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-user-id}
  costControl:
    modelPricing:
      ${FAKE_BATCH_MODEL}: {inputPer1k: ${PRICE.inputPer1k}, outputPer1k: ${PRICE.outputPer1k}}
`,
    );
    const adapter = await startApp('provider-adapter', {
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: BACKEND_KEY,
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    const router = await startApp('router', {
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    const ingress = await startApp('ingress', {
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
      AI_GATEWAY_BATCH_POLL_INTERVAL_MS: '200',
    });
    services = [ingress, router, adapter];
    ingressAdminPort = ingress.adminPort;
    const clientFor = (user: string) =>
      new OpenAI({
        baseURL: `${ingress.baseUrl}/v1`,
        apiKey: `sk-client-${user}`,
        maxRetries: 0,
        defaultHeaders: { 'x-user-id': user, 'x-ai-gateway-model': VIRTUAL },
      });
    alice = clientFor('alice');
    bob = clientFor('bob');
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await backend.stop();
  });

  /** `count` chat requests for the virtual model (multi-byte ids), uploaded as one batch input. */
  const uploadRequests = async (name: string, count: number, idPrefix: string, asking: string) =>
    alice.files.create({
      file: await toFile(
        Buffer.from(
          Array.from({ length: count }, (_, i) =>
            JSON.stringify({
              custom_id: `${idPrefix}ü-日本-🙂-${i}`,
              method: 'POST',
              url: '/v1/chat/completions',
              body: { model: VIRTUAL, messages: [{ role: 'user', content: `${asking}${i}` }] },
            }),
          ).join('\n'),
        ),
        name,
      ),
      purpose: 'batch',
    });

  it('uploads, batches, reads the output and bills it, with the adapter holding the key', async () => {
    const line = (id: string) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: VIRTUAL, messages: [{ role: 'user', content: id }] },
      });
    const jsonl = `${line('a')}\n${line('b')}\n`;
    const file = await alice.files.create({
      file: await toFile(Buffer.from(jsonl), 'input.jsonl'),
      purpose: 'batch',
    });
    assert.match(file.id, /^file-aigw_/);
    const [held] = [...backend.files.values()];
    assert.ok(held.content.includes(`"model":"${FAKE_BATCH_MODEL}"`));
    assert.ok(!held.content.includes(`"model":"${VIRTUAL}"`));
    await assert.rejects(bob.files.retrieve(file.id), OpenAI.NotFoundError);

    const batch = await alice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    assert.match(batch.id, /^batch_aigw_/);
    const done = await alice.batches.retrieve(batch.id);
    assert.equal(done.status, 'completed');
    const output = await (await alice.files.content(done.output_file_id!)).text();
    assert.equal(output.split('\n').filter(Boolean).length, 2);
    assert.ok(output.includes(`"model":"${VIRTUAL}"`), output);
    await assert.rejects(bob.batches.retrieve(batch.id), OpenAI.NotFoundError);

    assert.ok(backend.calls.length >= 5);
    for (const call of backend.calls) {
      assert.equal(call.authorization, `Bearer ${BACKEND_KEY}`, `${call.method} ${call.path}`);
    }

    // The ingress records the batch's usage (its event log without Kafka).
    const expected =
      ((2 * FAKE_BATCH_LINE_USAGE.prompt_tokens * PRICE.inputPer1k) / 1000 +
        (2 * FAKE_BATCH_LINE_USAGE.completion_tokens * PRICE.outputPer1k) / 1000) *
      0.5;
    const events = await billedEvents(dir, batch.id);
    assert.equal(events.length, 1);
    assert.equal(events[0].userId, 'alice');
    assert.equal(events[0].inputTokens, 2 * FAKE_BATCH_LINE_USAGE.prompt_tokens);
    assert.ok(Math.abs((events[0].costDollars as number) - expected) < 1e-12);
  });

  it("bills a finished batch no client looks at, the sweeper's look crossing both hops", async () => {
    const line = JSON.stringify({
      custom_id: 'swept',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: VIRTUAL, messages: [{ role: 'user', content: 'swept' }] },
    });
    const file = await alice.files.create({
      file: await toFile(Buffer.from(`${line}\n`), 'swept.jsonl'),
      purpose: 'batch',
    });
    const batch = await alice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const held = [...backend.batches.values()].at(-1)!;
    const events = await billedEvents(dir, batch.id);
    assert.equal(events.length, 1, 'the sweeper billed the finished batch');
    assert.equal(events[0].userId, 'alice');
    assert.equal(events[0].inputTokens, FAKE_BATCH_LINE_USAGE.prompt_tokens);
    // Its look went through the router to the adapter, which added the backend's key.
    const look = backend.calls.find((call) => call.path === `/v1/batches/${held.id}`);
    assert.equal(look?.authorization, `Bearer ${BACKEND_KEY}`);
    const text = await (await fetch(`http://127.0.0.1:${ingressAdminPort}/metrics`)).text();
    assert.ok(metricSum(text, 'ai_gateway_batches_billed_total', { trigger: 'sweeper' }) >= 1);
  });

  // The way a batch the ingress could not remember is cancelled too (at its backend, with the
  // backend's key the adapter alone holds), so an orphan is stopped in this shape as well.
  it("cancels a batch across both hops with the adapter's key", async () => {
    const line = JSON.stringify({
      custom_id: 'cancelled',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: VIRTUAL, messages: [{ role: 'user', content: 'cancelled' }] },
    });
    const file = await alice.files.create({
      file: await toFile(Buffer.from(`${line}\n`), 'cancelled.jsonl'),
      purpose: 'batch',
    });
    const batch = await alice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const held = [...backend.batches.values()].at(-1)!;
    await assert.rejects(bob.batches.cancel(batch.id), OpenAI.NotFoundError);
    const cancelled = await alice.batches.cancel(batch.id);
    assert.equal(cancelled.id, batch.id);
    assert.equal(cancelled.status, 'cancelling');
    assert.equal(held.status, 'cancelling');
    const call = backend.calls.find(
      (seen) => seen.method === 'POST' && seen.path === `/v1/batches/${held.id}/cancel`,
    );
    assert.equal(call?.authorization, `Bearer ${BACKEND_KEY}`);
  });

  it('reads a large output across the hops as the backend wrote it, model names restored, and bills it', async () => {
    const count = 300;
    const file = await uploadRequests('large.jsonl', count, '', 'q');
    backend.contentChunkBytes = 1000;
    const batch = await alice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const done = await alice.batches.retrieve(batch.id);
    assert.equal(done.status, 'completed');
    const held = [...backend.files.values()].find(
      (f) => f.purpose === 'batch_output' && f.content.includes('ü-日本'),
    )!;
    const output = await (await alice.files.content(done.output_file_id!)).text();
    assert.equal(
      output,
      held.content.replaceAll(`"model":"${FAKE_BATCH_MODEL}-2025-01-01"`, `"model":"${VIRTUAL}"`),
    );
    const events = await billedEvents(dir, batch.id);
    assert.equal(events.length, 1);
    assert.equal(events[0].inputTokens, count * FAKE_BATCH_LINE_USAGE.prompt_tokens);
    assert.equal(events[0].outputTokens, count * FAKE_BATCH_LINE_USAGE.completion_tokens);
  });

  it('streams an output across both hops as the backend writes it, model names restored, billed once', async () => {
    const count = 400;
    const file = await uploadRequests('streamed.jsonl', count, 'stream-', 's');
    backend.contentChunkBytes = 1000;
    // The look that sees it finished cannot read the output (a 500): a later read bills it.
    backend.failContentReads = 1;
    const batch = await alice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const done = await alice.batches.retrieve(batch.id);
    assert.equal(done.status, 'completed');
    const held = [...backend.files.values()].find(
      (f) => f.purpose === 'batch_output' && f.content.includes('stream-ü-日本'),
    );
    assert.ok(held && Buffer.byteLength(held.content) > 20 * 1000, 'an output of many chunks');
    const expected = held.content.replaceAll(
      `"model":"${FAKE_BATCH_MODEL}-2025-01-01"`,
      `"model":"${VIRTUAL}"`,
    );
    const metrics = async () =>
      (await fetch(`http://127.0.0.1:${ingressAdminPort}/metrics`)).text();
    const downloaded = async () =>
      metricSum(await metrics(), 'ai_gateway_batch_file_bytes_total', {
        use: 'download',
        outcome: 'complete',
      });
    const downloadedBefore = await downloaded();

    // The backend holds after its first write: the client has bytes before the file ends.
    const { response, reader, first } = await backend.firstBytesWhileHeld(() =>
      alice.files.content(done.output_file_id!),
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    assert.ok(first.value && first.value.length > 0 && first.value.length < expected.length);
    const parts: Uint8Array[] = [first.value];
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      parts.push(part.value);
    }
    assert.equal(Buffer.concat(parts).toString('utf8'), expected, 'the same bytes, names restored');

    assert.equal((await billedEvents(dir, batch.id)).length, 1);
    // The sweeper's next looks (every 200 ms) find it billed: no second event.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const events = batchEvents(dir, batch.id);
    assert.equal(events.length, 1, 'billed once');
    assert.equal(events[0].userId, 'alice');
    assert.equal(events[0].inputTokens, count * FAKE_BATCH_LINE_USAGE.prompt_tokens);
    assert.equal(events[0].outputTokens, count * FAKE_BATCH_LINE_USAGE.completion_tokens);
    assert.equal((await downloaded()) - downloadedBefore, Buffer.byteLength(held.content));
  });
});
