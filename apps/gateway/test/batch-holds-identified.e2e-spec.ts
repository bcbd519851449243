// A batch's hold where users are identified more than one way (all-in-one gateway): the
// batch route keys users by x-user-id, another route by x-other-id, so alice's budget on
// the batch route is `header:x-user-id:alice`. Her batch is held there, where her chat
// calls are held and its bill is charged: while it runs, a chat call gets only what the
// hold leaves, and its bill replaces the hold in that budget.
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
  dailyDollarsRemaining,
} from './batch-budget-calls';

const DAILY_LIMIT = 0.01;
const ALICE = 'header:x-user-id:alice';

describe('all-in-one gateway: a batch is held in its owner budget where users are identified two ways', () => {
  const backend = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-batch-holds-identified-'));
  let gateway: AppProcess;
  let alice: OpenAI;

  before(async () => {
    await backend.start();
    // $0.008 per 1k output tokens, half for batches: a line of 1000 holds about $0.004.
    writeFileSync(
      join(dir, 'config.yaml'),
      `${batchRoute('batch-holds', backend.baseUrl, DAILY_LIMIT)}---
kind: AIGatewayRoute
metadata: {name: other}
spec:
  backends:
  - {name: other-local, provider: local, model: other-mini}
  userIdentification: {header: x-other-id}
`,
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
  const dailyRemaining = () => dailyDollarsRemaining(gateway.baseUrl);

  it("holds the batch where alice's calls are held and its bill is charged", async () => {
    // About $0.008 of the day's $0.01 held while the batch runs.
    const first = await createBatch(2, 1000);
    assert.equal(first.status, 'validating');
    // A chat call of up to $0.0032 does not fit what the hold leaves; one of $0.0008 does.
    assert.equal(await chatRefused(400), true);
    assert.equal(await chatRefused(100), false);
    // Nor does another batch of about $0.004: refused before the backend hears of it.
    await assert.rejects(createBatch(1, 1000), budgetExceeded);
    assert.equal(backend.batches.size, 1);

    // Billed: the hold is gone, and what is left of her budget is the day less the bill.
    assert.equal((await alice.batches.retrieve(first.id)).status, 'completed');
    const billed =
      ((2 * LINE_USAGE.prompt_tokens * PRICE.inputPer1k +
        2 * LINE_USAGE.completion_tokens * PRICE.outputPer1k) /
        1000) *
      0.5;
    let rows = new Map<string, number>();
    // Up to a minute, as the kit's until: the bound only ends a hang (the bill reaches the
    // budget through the event log, late on a loaded machine).
    for (let i = 0; i < 600; i++) {
      rows = await dailyRemaining();
      if (Math.abs(DAILY_LIMIT - billed - (rows.get(ALICE) ?? NaN)) < 1e-9) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(
      Math.abs(DAILY_LIMIT - billed - (rows.get(ALICE) ?? NaN)) < 1e-9,
      `remaining ${JSON.stringify([...rows])}`,
    );
    assert.equal(rows.has('alice'), false, 'nothing kept under the bare id');
    assert.equal(await chatRefused(400), false);
  });
});
