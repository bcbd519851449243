// A batch's hold on its owner's budgets in the all-in-one gateway, with the official openai
// client: creating a batch holds its estimated cost (its lines' prompt estimates plus
// max_tokens, at the batch price) where chat calls are held. A batch that does not fit
// what is left is refused before the backend hears of it; while one runs, a chat call gets
// only what the hold leaves; once billed, the hold is gone and the day's spend is the
// billed cost.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { FAKE_BATCH_LINE_USAGE as LINE_USAGE, FakeBatchBackend } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import {
  BATCH_MODEL as VIRTUAL,
  BATCH_PRICE as PRICE,
  batchRoute,
  userClient,
  budgetExceeded,
  chatRefusedByBudget,
  createChatBatch,
} from './batch-budget-calls';

const DAILY_LIMIT = 0.01;

describe('all-in-one gateway: a batch holds its estimated cost', () => {
  const backend = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-batch-holds-'));
  let gateway: AppProcess;
  let alice: OpenAI;

  before(async () => {
    await backend.start();
    // $0.008 per 1k output tokens, half for batches: a line of 1000 holds about $0.004.
    writeFileSync(
      join(dir, 'config.yaml'),
      batchRoute('batch-holds', backend.baseUrl, DAILY_LIMIT),
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
      AI_GATEWAY_BATCH_POLL_INTERVAL_MS: '0',
    });
    alice = userClient(gateway.baseUrl, 'alice', VIRTUAL);
  });

  after(async () => {
    await gateway?.stop();
    await backend.stop();
  });

  const createBatch = (lines: number, maxTokens: number) =>
    createChatBatch(alice, VIRTUAL, lines, maxTokens);
  const chatRefused = (maxTokens: number) => chatRefusedByBudget(alice, VIRTUAL, maxTokens);

  it('refuses a batch larger than what is left before the backend hears of it', async () => {
    // About $0.008 of the day's $0.01 held while the batch runs.
    const first = await createBatch(2, 1000);
    assert.equal(first.status, 'validating');
    assert.equal(backend.batches.size, 1);
    // About $0.004 more: refused, with the 429 a chat call gets; no second batch upstream.
    await assert.rejects(createBatch(1, 1000), budgetExceeded);
    assert.equal(backend.batches.size, 1);

    // While it runs, a chat call gets only what the hold leaves: up to $0.0032 is refused,
    // up to $0.0008 goes through.
    assert.equal(await chatRefused(400), true);
    assert.equal(await chatRefused(100), false);

    // Billed (two lines of 100 in and 20 out, at half price): the hold is gone, so the
    // $0.0032 call goes through now, and what is left is the day less the billed cost.
    assert.equal((await alice.batches.retrieve(first.id)).status, 'completed');
    const billed =
      ((2 * LINE_USAGE.prompt_tokens * PRICE.inputPer1k +
        2 * LINE_USAGE.completion_tokens * PRICE.outputPer1k) /
        1000) *
      0.5;
    let remaining = NaN;
    // Up to a minute, as the kit's until: the bound only ends a hang (the bill reaches the
    // budget through the event log, late on a loaded machine).
    for (let i = 0; i < 600; i++) {
      const report = (await (await fetch(`${gateway.baseUrl}/v1/analytics/budgets`)).json()) as {
        rows: { budgetKey: string; limitKind: string; remaining: number }[];
      };
      const row = report.rows.find(
        (r) => r.budgetKey === 'alice' && r.limitKind === 'costControl.maxDailyCostPerUser',
      );
      remaining = row?.remaining ?? NaN;
      if (Math.abs(DAILY_LIMIT - billed - remaining) < 1e-9) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(Math.abs(DAILY_LIMIT - billed - remaining) < 1e-9, `remaining ${remaining}`);
    assert.equal(await chatRefused(400), false);
  });
});
