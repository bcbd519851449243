import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { estimatePromptTokensUpperBound } from '@aigw/contracts/data-plane';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-budget-e2e-'));
const PROMPT = [{ role: 'user', content: 'hi' }];
const MAX_TOKENS = 20;

/** Sum of the samples of one metric whose labels match all of `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (matches) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('budgets on the all-in-one gateway (embedded store)', () => {
  let gateway: AppProcess;
  // Every request reserves its prompt estimate plus max_tokens; the budget fits 20 of them.
  const LIMIT = 20 * (estimatePromptTokensUpperBound({ messages: PROMPT }) + MAX_TOKENS);

  before(async () => {
    const config = join(dir, 'budget.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: budgets}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: ${LIMIT}, period: 30d}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(() => gateway.stop());

  const chat = (user: string, stream: boolean) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: PROMPT,
        max_tokens: MAX_TOKENS,
        stream,
      }),
    });

  it('holds a burst of 200 concurrent streams to the budget: no token billed past the limit', async () => {
    const responses = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const response = await chat('burst-user', true);
        const body = await response.text();
        return { status: response.status, body };
      }),
    );
    const admitted = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    assert.equal(admitted.length + refused.length, 200, 'every request was admitted or refused');
    // Reservations alone fit 20; settled calls that used less than they held free room.
    assert.ok(admitted.length >= 20 && admitted.length < 200, `admitted ${admitted.length}`);
    assert.ok(admitted.every((r) => r.body.includes('data: [DONE]')));
    assert.match(refused[0].body, /Budget exceeded/);

    // Let the usage events settle, then read what was billed.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const billed =
      metricSum(metrics, 'ai_gateway_tokens_total', { user: 'burst-user', type: 'input' }) +
      metricSum(metrics, 'ai_gateway_tokens_total', { user: 'burst-user', type: 'output' });
    assert.ok(billed > 0 && billed <= LIMIT, `billed ${billed} of ${LIMIT}`);
    assert.equal(metricSum(metrics, 'ai_gateway_reservation_overshoot_tokens_total', {}), 0);
    const remaining = metricSum(metrics, 'ai_gateway_budget_remaining', {
      budget_key: 'burst-user',
    });
    assert.equal(remaining, LIMIT - billed);
  });

  it('refuses with OpenAI-style 429 and rate-limit headers, and reports them on success', async () => {
    const ok = await chat('header-user', false);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-ratelimit-limit-tokens'), String(LIMIT));
    assert.ok(Number(ok.headers.get('x-ratelimit-remaining-tokens')) < LIMIT);
    assert.ok(ok.headers.get('x-ratelimit-reset-tokens'));
    await ok.text();

    const burst = await Promise.all(Array.from({ length: 40 }, () => chat('header-user', false)));
    const refused = burst.find((r) => r.status === 429)!;
    assert.ok(refused, 'the budget ran out');
    const body = (await refused.json()) as { error: { type: string; code: string } };
    assert.equal(body.error.type, 'rate_limit_error');
    assert.equal(body.error.code, 'budget_exceeded');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal(refused.headers.get('x-ratelimit-limit-tokens'), String(LIMIT));
    await Promise.all(burst.filter((r) => r !== refused).map((r) => r.arrayBuffer()));
  });

  it('keeps each user to their own budget', async () => {
    const response = await chat('fresh-user', false);
    assert.equal(response.status, 200);
    await response.text();
  });

  it('keeps balances across a restart', async () => {
    const perRequest = LIMIT / 20;
    const first = await chat('restart-user', false);
    assert.equal(Number(first.headers.get('x-ratelimit-remaining-tokens')), LIMIT - perRequest);
    await first.text();
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the usage settle

    await gateway.stop();
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'budget.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    const second = await chat('restart-user', false);
    assert.equal(second.status, 200);
    // The first call's real usage survived: less is left than a fresh budget would show.
    const remaining = Number(second.headers.get('x-ratelimit-remaining-tokens'));
    assert.ok(remaining < LIMIT - perRequest, `remaining ${remaining}`);
    await second.text();
  });
});
