// A batch's hold on its owner's budgets in the split deployment, with the official openai
// client: creating a batch holds its estimated cost (its lines' prompts and max_tokens, at
// the batch price) in the ingress's budget store, where chat calls are held. A batch that
// does not fit what is left is refused before any backend hears of it, and while one runs
// a chat call gets only what it does not hold. The batch's usage event names its hold, so
// settling it (the budget service's job) replaces the hold with the spend.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI, { toFile } from 'openai';
import { Topic } from '@aigw/contracts';
import { FAKE_BATCH_MODEL, FakeBatchBackend } from '@aigw/testing/fake-provider';
import { eventually, metricSum } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const VIRTUAL = 'gpt-batch';

/** The batch usage events the ingress recorded (its event log without Kafka). */
function batchEvents(dir: string): Record<string, unknown>[] {
  const db = new DatabaseSync(join(dir, 'ingress', 'ingress-events.db'), { readOnly: true });
  try {
    return (
      db.prepare('SELECT value FROM events WHERE topic = ?').all(Topic.UsageRecorded) as {
        value: string;
      }[]
    )
      .map((row) => JSON.parse(row.value) as Record<string, unknown>)
      .filter((event) => event.operation === 'batch');
  } finally {
    db.close();
  }
}

/** A batch input file whose lines each ask for up to `maxTokens` output tokens. */
const input = (lines: number, maxTokens: number) =>
  Array.from({ length: lines }, (_, at) =>
    JSON.stringify({
      custom_id: `r${at}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: VIRTUAL, messages: [{ role: 'user', content: 'q' }], max_tokens: maxTokens },
    }),
  ).join('\n');

describe('split deployment: a batch holds its estimated cost', () => {
  const backend = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-batch-holds-'));
  let services: AppProcess[] = [];
  let alice: OpenAI;
  let adminPort = 0;

  before(async () => {
    await backend.start();
    const path = join(dir, 'split.yaml');
    // $0.008 per 1k output tokens, half for batches: a line of 1000 holds about $0.004.
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-batch-holds}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "${backend.baseUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: ${VIRTUAL}, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-user-id}
  costControl:
    maxDailyCostPerUser: 0.01
    modelPricing:
      ${FAKE_BATCH_MODEL}: {inputPer1k: 0.002, outputPer1k: 0.008}
`,
    );
    const adapter = await startApp('provider-adapter', {
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-split-backend',
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
      AI_GATEWAY_BATCH_POLL_INTERVAL_MS: '0',
    });
    services = [ingress, router, adapter];
    adminPort = ingress.adminPort;
    alice = new OpenAI({
      baseURL: `${ingress.baseUrl}/v1`,
      apiKey: 'sk-client-alice',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': 'alice', 'x-ai-gateway-model': VIRTUAL },
    });
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await backend.stop();
  });

  const upload = async (lines: number, maxTokens: number) =>
    alice.files.create({
      file: await toFile(Buffer.from(input(lines, maxTokens)), 'input.jsonl'),
      purpose: 'batch',
    });

  it('refuses what the hold leaves no room for, and bills the batch against its hold', async () => {
    // About $0.008 of the day's $0.01 held while the batch runs.
    const first = await alice.batches.create({
      input_file_id: (await upload(2, 1000)).id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    assert.equal(first.status, 'validating');
    assert.equal(backend.batches.size, 1);

    // A chat call of up to $0.0032 fits the day's budget, not what the batch leaves.
    await assert.rejects(
      alice.chat.completions.create({
        model: VIRTUAL,
        messages: [{ role: 'user', content: 'q' }],
        max_tokens: 400,
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        assert.equal((error.error as { code?: string }).code, 'budget_exceeded');
        return true;
      },
    );

    // A second batch of about $0.004: refused before the backend hears of it.
    const second = (await upload(1, 1000)).id;
    await assert.rejects(
      alice.batches.create({
        input_file_id: second,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        assert.equal((error.error as { code?: string }).code, 'budget_exceeded');
        return true;
      },
    );
    assert.equal(backend.batches.size, 1);

    // Finished and billed: its usage event names the hold the budget service settles.
    const done = await alice.batches.retrieve(first.id);
    assert.equal(done.status, 'completed');
    // Written off the request path, in the ingress's own time on a loaded machine.
    const [event] = await eventually('the batch usage event is in the log', () => {
      const events = batchEvents(dir);
      return events.length > 0 ? events : undefined;
    });
    assert.match(String(event?.reservationId), /^batch-[0-9a-f-]{36}$/);

    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const held = { kind: 'batch', action: 'hold' };
    assert.equal(metricSum(text, 'ai_gateway_files_batches_total', { ...held, outcome: 'ok' }), 1);
    assert.equal(
      metricSum(text, 'ai_gateway_files_batches_total', { ...held, outcome: 'refused' }),
      1,
    );
  });
});
