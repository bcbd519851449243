// A long embeddings list that Gemini serves in calls of 100 fails at one of its two calls:
// the other was embedded and billed by Google, so the gateway records its usage (analytics,
// the caller's budget) though the client gets the failure, and gives the hold back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { analyticsRows } from './analytics-rows';

const LIMIT = 1_000_000;
const TEXTS = Array.from({ length: 150 }, (_, index) => `document number ${index}`);

describe('an embeddings request that fails after some of its calls answered', () => {
  const gemini = new FakeGeminiUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-embed-partial-'));
  let gateway: AppProcess;

  before(async () => {
    await gemini.start();
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: embed-partial}
spec:
  userIdentification: {header: x-user-id}
  tokenBudget: {perUser: {limit: ${LIMIT}, period: 1d}}
  backends:
  - {name: gemini-embed, provider: google-gemini, baseUrl: "${gemini.baseUrl}", auth: {apiKeyRef: {name: gemini-key}}, model: gemini-embedding-001, modelNameOverride: docs}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'gemini-test',
    });
  });

  after(async () => {
    await gateway?.stop();
    await gemini.stop();
  });

  const embed = (input: string[], user: string) =>
    fetch(`${gateway.baseUrl}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({ model: 'docs', input, encoding_format: 'float' }),
    });

  /** What each user has left of the route's daily token budget, by the budgets report. */
  async function tokensRemaining(): Promise<Map<string, number>> {
    const report = (await (await fetch(`${gateway.baseUrl}/v1/analytics/budgets`)).json()) as {
      rows: { budgetKey: string; limitKind: string; remaining: number }[];
    };
    return new Map(
      report.rows
        .filter((row) => row.limitKind === 'tokenBudget.perUser')
        .map((row) => [row.budgetKey, row.remaining]),
    );
  }

  it('records the answered call and charges the budget for it, answering the failure', async () => {
    // The call that comes first (100 texts or the last 50: the two run at once) is
    // embedded; the other is refused as over quota.
    gemini.next({ kind: 'ok' }, { kind: 'status', status: 429 });
    const failed = await embed(TEXTS, 'alice');
    assert.equal(failed.status, 429, await failed.clone().text());
    assert.equal(gemini.calls.length, 2);
    const answered = (
      gemini.calls[0].body.requests as { content: { parts: { text: string }[] } }[]
    ).map((request) => request.content.parts[0].text);

    const rows = await analyticsRows<{ input: number; operation: string }>(
      join(dir, 'data'),
      'SELECT input_tokens AS input, operation FROM usage_events WHERE user_id = ?',
      'alice',
      1,
    );
    // What the answered call's texts count, as the same texts embedded alone count them.
    const alone = (await (await embed(answered, 'bob')).json()) as {
      usage: { prompt_tokens: number };
    };
    assert.deepEqual(
      rows.map((row) => ({ ...row })),
      [{ input: alone.usage.prompt_tokens, operation: 'embeddings' }],
    );

    // Alice's budget is charged that much, and holds nothing more: the hold is given back.
    const spent = LIMIT - alone.usage.prompt_tokens;
    let remaining = NaN;
    // Up to a minute, as the kit's until: the bound only ends a hang (the bill reaches the
    // budget through the event log, late on a loaded machine).
    for (let i = 0; i < 600 && remaining !== spent; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      remaining = (await tokensRemaining()).get('alice') ?? NaN;
    }
    assert.equal(remaining, spent);
  });
});
