// A finished batch no client looks at is still billed: the gateway's sweeper (here every
// 200 ms) retrieves the batches it has not billed from their backend and bills the
// finished ones through the same once-only claim a client's GET uses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { metricSum, until } from '@aigw/testing';
import { FAKE_BATCH_LINE_USAGE as LINE_USAGE, FakeBatchBackend } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import {
  BATCH_MODEL as VIRTUAL,
  BATCH_PRICE as PRICE,
  batchRoute,
  userClient,
} from './batch-budget-calls';

describe('all-in-one gateway: finished batches billed without a client look', () => {
  const backend = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-batch-sweeper-'));
  let gateway: AppProcess;
  let alice: OpenAI;

  before(async () => {
    await backend.start();
    writeFileSync(join(dir, 'config.yaml'), batchRoute('batches', backend.baseUrl));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
      AI_GATEWAY_BATCH_POLL_INTERVAL_MS: '200',
    });
    alice = userClient(gateway.baseUrl, 'alice', VIRTUAL);
  });

  after(async () => {
    await gateway?.stop();
    await backend.stop();
  });

  it('bills a batch the backend finished with no client GET, and a later GET bills nothing more', async () => {
    const line = (id: string) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: VIRTUAL, messages: [{ role: 'user', content: id }] },
      });
    const file = await alice.files.create({
      file: await toFile(Buffer.from(`${line('a')}\n${line('b')}\n`), 'input.jsonl'),
      purpose: 'batch',
    });
    const batch = await alice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    assert.equal(batch.status, 'validating');

    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    const rows = () => {
      try {
        return db
          .prepare(
            `SELECT user_id AS user, input_tokens AS input, output_tokens AS output,
               cost_dollars AS cost, operation FROM usage_events`,
          )
          .all() as Record<string, unknown>[];
      } catch {
        return []; // the table is made with the first event
      }
    };
    try {
      await until('the usage row is stored', () => rows().length >= 1);
      const input = 2 * LINE_USAGE.prompt_tokens;
      const output = 2 * LINE_USAGE.completion_tokens;
      const expected =
        ((input / 1000) * PRICE.inputPer1k + (output / 1000) * PRICE.outputPer1k) * 0.5;
      const [row] = rows();
      assert.ok(row, 'no usage row: the finished batch was not billed');
      assert.equal(row.user, 'alice');
      assert.equal(row.operation, 'batch');
      assert.equal(row.input, input);
      assert.equal(row.output, output);
      assert.ok(Math.abs((row.cost as number) - expected) < 1e-12, `${String(row.cost)}`);

      // The client looks now: it sees the batch finished, and nothing is billed again.
      const done = await alice.batches.retrieve(batch.id);
      assert.equal(done.status, 'completed');
      await (await alice.files.content(done.output_file_id!)).text();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(rows().length, 1);
    } finally {
      db.close();
    }
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.equal(metricSum(text, 'ai_gateway_batches_billed_total', { trigger: 'sweeper' }), 1);
    assert.equal(metricSum(text, 'ai_gateway_batches_billed_total'), 1);
    assert.ok(
      metricSum(text, 'ai_gateway_batch_sweeper_checks_total', { outcome: 'billed' }) === 1,
      'the sweeper counted its bill',
    );
    // The output was read once by billing (and once by the client), never again.
    const reads = backend.calls.filter((call) => call.path.endsWith('/content'));
    assert.equal(reads.length, 2);
  });

  it('stops retrying a finished batch whose output the backend no longer has, counted output_gone', async () => {
    const bob = userClient(gateway.baseUrl, 'bob', VIRTUAL);
    const line = JSON.stringify({
      custom_id: 'gone',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: VIRTUAL, messages: [{ role: 'user', content: 'gone' }] },
    });
    const file = await bob.files.create({
      file: await toFile(Buffer.from(`${line}\n`), 'gone.jsonl'),
      purpose: 'batch',
    });
    // Every read of its output fails until the output is gone at the backend (deleted or
    // expired there, not through the gateway).
    backend.failContentReads = 1_000;
    const contentReads = () => backend.calls.filter((c) => c.path.endsWith('/content')).length;
    const before = contentReads();
    try {
      await bob.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      await until('the finished batch output is read', () => contentReads() !== before, {
        everyMs: 50,
      });
      const output = [...backend.files.values()].find((f) => f.content.includes('batch_req_gone'));
      assert.ok(output, 'the batch finished');
      backend.files.delete(output.id);
    } finally {
      backend.failContentReads = 0;
    }
    const gone = async () =>
      metricSum(
        await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
        'ai_gateway_batch_sweeper_checks_total',
        { outcome: 'output_gone' },
      );
    await until('the sweeper counts the output gone', async () => (await gone()) >= 1);
    assert.equal(await gone(), 1);
    // Several more sweeps (200 ms apart): the batch is no longer looked at, nor read.
    const looks = () => backend.calls.filter((c) => c.path.startsWith('/v1/batches/')).length;
    const [looked, read] = [looks(), contentReads()];
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(looks(), looked);
    assert.equal(contentReads(), read);
    assert.equal(await gone(), 1);
  });
});
