// A batch's hold and bill where one route identifies users two ways (all-in-one gateway): a
// SecurityPolicy trusts two JWT providers, each setting x-user-id from its tokens' `sub`.
// The corp's alice and the partner's alice are two users with two budgets
// (jwt:corp:sub:alice, jwt:partner:sub:alice), as their chat calls are: one's batch hold
// must not spend the other's day, and each batch is billed to its own owner's budget.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { FAKE_BATCH_LINE_USAGE as LINE_USAGE, FakeBatchBackend } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import {
  BATCH_MODEL as VIRTUAL,
  BATCH_PRICE as PRICE,
  batchRoute,
  budgetExceeded,
  createChatBatch,
  dailyDollarsRemaining,
} from './batch-budget-calls';
import { TwoJwtProviders } from './two-jwt-providers';

const DAILY_LIMIT = 0.01;
const CORP_ALICE = 'jwt:corp:sub:alice';
const PARTNER_ALICE = 'jwt:partner:sub:alice';

const yaml = (
  issuers: TwoJwtProviders,
  batchUrl: string,
) => `apiVersion: gateway.envoyproxy.io/v1alpha1
${batchRoute('shared', batchUrl, DAILY_LIMIT)}---
${issuers.securityPolicy('shared')}`;

describe("a batch is held and billed in its owner's qualified budget on a route trusting two JWT providers", () => {
  const issuers = new TwoJwtProviders('batch-budgets-identified');
  const backend = new FakeBatchBackend();
  let gateway: AppProcess;
  let corpAlice: OpenAI;
  let partnerAlice: OpenAI;

  before(async () => {
    await Promise.all([issuers.start(), backend.start()]);
    gateway = await startGatewayWithConfig(yaml(issuers, backend.baseUrl), {
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
      AI_GATEWAY_BATCH_POLL_INTERVAL_MS: '0',
    });
    corpAlice = await issuers.client(issuers.corp, 'alice', gateway.baseUrl, VIRTUAL);
    partnerAlice = await issuers.client(issuers.partner, 'alice', gateway.baseUrl, VIRTUAL);
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([issuers.stop(), backend.stop()]);
  });

  const createBatch = (client: OpenAI, lines: number, maxTokens: number) =>
    createChatBatch(client, VIRTUAL, lines, maxTokens);
  const dailyRemaining = () => dailyDollarsRemaining(gateway.baseUrl);

  it("holds each alice's batch in her own budget and bills it there", async () => {
    // About $0.008 of the corp alice's $0.01 held while her batch runs.
    const corpBatch = await createBatch(corpAlice, 2, 1000);
    assert.equal(corpBatch.status, 'validating');
    // Her own hold binds her: another batch of about $0.004 does not fit.
    await assert.rejects(createBatch(corpAlice, 1, 1000), budgetExceeded);
    // The partner's alice has her whole day: the same $0.008 batch fits.
    const partnerBatch = await createBatch(partnerAlice, 2, 1000);
    assert.equal(partnerBatch.status, 'validating');
    assert.equal(backend.batches.size, 2);

    // Billed: each hold replaced by its bill, in its owner's budget.
    assert.equal((await corpAlice.batches.retrieve(corpBatch.id)).status, 'completed');
    assert.equal((await partnerAlice.batches.retrieve(partnerBatch.id)).status, 'completed');
    const billed =
      ((2 * LINE_USAGE.prompt_tokens * PRICE.inputPer1k +
        2 * LINE_USAGE.completion_tokens * PRICE.outputPer1k) /
        1000) *
      0.5;
    const settled = (rows: Map<string, number>) =>
      [CORP_ALICE, PARTNER_ALICE].every(
        (key) => Math.abs(DAILY_LIMIT - billed - (rows.get(key) ?? NaN)) < 1e-9,
      );
    let rows = new Map<string, number>();
    // Up to a minute, as the kit's until: the bound only ends a hang (the bill reaches the
    // budget through the event log, late on a loaded machine).
    for (let i = 0; i < 600; i++) {
      rows = await dailyRemaining();
      if (settled(rows)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(settled(rows), `remaining ${JSON.stringify([...rows])}`);
    assert.equal(rows.has('alice'), false, 'nothing kept under the bare id');
  });
});
