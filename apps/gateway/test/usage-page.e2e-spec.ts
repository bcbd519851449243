// The usage page in a real browser: Debian's headless Chromium (installed by
// scripts/browser/ensure-chromium.sh) driven by playwright-core loads /usage from the
// all-in-one gateway after a scripted workload (with a cache hit and a failover, so the
// rates are not trivially 0%, and a Claude call that ran a web search), and every number
// it shows must be the analytics API's.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { metricSum, until } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { CHROMIUM, withChromiumPage } from './chromium-page';
import { FakeAnthropicWebSearch } from './fake-anthropic-web-search';

// eve makes one call, to Claude with its web_search server tool.
const USERS = ['ada', 'brook', 'cyd', 'eve'];
const MODELS = ['gpt-4o-mini', 'small-model'];

interface Totals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  webSearchRequests: number;
  costDollars: number;
}
interface UsageBody {
  query: { from: string; to: string };
  totals: Totals;
  series: (Totals & { key: string; weightedTokens: number })[];
}
interface RatesBody {
  requests: number;
  cacheHitRate: number;
  fallbackRate: number;
}
interface LatencyBody {
  rows: { key: string; requests: number; p50Ms: number; p95Ms: number }[];
}
interface AdjustmentsBody {
  rows: {
    at: string;
    eventId: string;
    user: string;
    action: string;
    limitKind: string;
    amount: number | null;
    operator: string | null;
    reason: string | null;
  }[];
}
interface BudgetsBody {
  rows: {
    budgetKey: string;
    limitKind: string;
    state: string;
    remaining: number;
    unit: string;
    limit: number;
    resetAt: string;
  }[];
}

// The page's own formatting (usage-page.js), so text can be compared exactly.
const cost = (n: number) => `$${n.toFixed(6)}`;
const int = (n: number) => String(Math.round(n));
const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const maybe = (v: string | number | null) => (v === null ? '–' : String(v));

function perKey(series: UsageBody['series']): Map<string, Totals> {
  const totals = new Map<string, Totals>();
  for (const p of series) {
    const t = totals.get(p.key) ?? {
      requests: 0,
      inputTokens: 0,
      outputTokens: 0,
      webSearchRequests: 0,
      costDollars: 0,
    };
    t.requests += p.requests;
    t.inputTokens += p.inputTokens;
    t.outputTokens += p.outputTokens;
    t.webSearchRequests += p.webSearchRequests;
    t.costDollars += p.costDollars;
    totals.set(p.key, t);
  }
  return totals;
}

describe('the usage page in headless Chromium', () => {
  // small-model's first backend always fails: its calls fail over to the local one.
  const failing = new FakeOpenAiUpstream('failing');
  const claude = new FakeAnthropicWebSearch();
  let gateway: AppProcess;
  let dir: string;
  let served = 0;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: run scripts/browser/ensure-chromium.sh (Debian's chromium)`,
    );
    await Promise.all([failing.start(), claude.start()]);
    failing.always({ kind: 'status', status: 503 });
    dir = mkdtempSync(join(tmpdir(), 'aigw-usage-page-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: usage}
spec:
  backends:
  - {name: mini, provider: local, model: gpt-4o-mini}
  - {name: small-down, priority: 0, provider: vllm, baseUrl: "${failing.baseUrl}", model: small-model}
  - {name: small, priority: 1, provider: local, model: small-model}
  - {name: claude, provider: anthropic, baseUrl: "${claude.origin}", model: claude-sonnet-4-5, modelNameOverride: claude-web, auth: {apiKeyRef: {name: anthropic-key}}}
  failover: {on: [error]}
  caching: {enabled: true, ttl: 3600s}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 300, period: 30d}
  costControl:
    modelPricing:
      gpt-4o-mini: {inputPer1k: 0.15, outputPer1k: 0.6}
      small-model: {inputPer1k: 0.05, outputPer1k: 0.2}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      // What admission holds for output when a request names no max_tokens: less than the
      // local model's full reply, so such calls spend past their hold.
      AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS: '1',
      // Every settlement's room announced at once, not paced per second: the budgets the
      // test reads from the API settle with the last usage, and the page then reads the same.
      AI_GATEWAY_BUDGET_STATE_INTERVAL_MS: '0',
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
    // The workload: three users, two models, plain and streamed. `cyd` names no max_tokens
    // and sends until the budget's admission refuses (429): its spend passes the limit, so
    // the budget reports it exhausted (a row in the budgets table). Refused requests must
    // not show as usage.
    const ask = (i: number, user: string) =>
      fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': user },
        body: JSON.stringify({
          model: MODELS[i % 2],
          stream: i % 3 === 0,
          ...(user === 'cyd' ? {} : { max_tokens: 20 + i }),
          messages: [{ role: 'user', content: `question number ${i}` }],
        }),
      });
    for (let i = 0; i < 24; i++) {
      const response = await ask(i, i >= 12 ? 'cyd' : USERS[i % 2]);
      await response.text();
      if (response.status === 200) served++;
      else assert.equal(response.status, 429, `request ${i}`);
    }
    assert.ok(served >= 12 && served < 24, `served ${served}`);
    // ada's calls settled before she asks again: on a loaded box a hold of one still being
    // settled would refuse her next calls (429: calls in progress hold the rest).
    await until("ada's calls to settle", async () => {
      const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
      const billed = metricSum(text, 'ai_gateway_tokens_total', { user: 'ada' });
      const left = metricSum(text, 'ai_gateway_budget_remaining', {
        budget_key: 'ada',
        limit: 'tokenBudget.perUser',
      });
      return billed > 0 && left === Math.max(0, 300 - billed);
    });
    // The same question again: answered from the cache (a usage row marked cached).
    const repeated = await ask(2, USERS[0]);
    await repeated.text();
    assert.equal(repeated.status, 200);
    assert.equal(repeated.headers.get('x-ai-gateway-cache'), 'hit');
    served++;
    // Two embeddings calls of ada's: usage of a second operation.
    for (const input of ['first passage', 'second passage']) {
      const embedded = await fetch(`${gateway.baseUrl}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'ada' },
        body: JSON.stringify({ model: MODELS[0], input }),
      });
      assert.equal(embedded.status, 200, await embedded.text());
      served++;
    }
    // eve's question to Claude runs one web search (the fake's usage.server_tool_use).
    const searched = await fetch(`${gateway.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'eve' },
      body: JSON.stringify({
        model: 'claude-web',
        max_tokens: 20,
        tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }],
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      }),
    });
    assert.equal(searched.status, 200, await searched.text());
    served++;
    // An operator gives dee (no traffic yet) budget twice on the admin port: a named,
    // reasoned credit, then a bare reset.
    const adjust = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${gateway.adminPort}/admin/budgets/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const credit = await adjust('dee/credit', {
      limit: 'tokenBudget.perUser',
      amount: 50,
      reason: 'onboarding',
      operator: 'sre-oncall',
    });
    assert.equal(credit.status, 202, await credit.text());
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later millisecond
    const reset = await adjust('dee/reset', {});
    assert.equal(reset.status, 202, await reset.text());
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([failing.stop(), claude.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the API numbers for the workload', async () => {
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const range = { from, to, bucket: 'hour' };
    const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
      const response = await fetch(
        `${gateway.baseUrl}/v1/analytics/${path}?${new URLSearchParams(params).toString()}`,
      );
      assert.equal(response.status, 200, path);
      return (await response.json()) as T;
    };
    // Every served request has its usage row (the sink runs off the request path).
    let byModel = await api<UsageBody>('usage', { ...range, groupBy: 'model' });
    for (let i = 0; i < 100 && byModel.totals.requests < served; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      byModel = await api<UsageBody>('usage', { ...range, groupBy: 'model' });
    }
    assert.equal(byModel.totals.requests, served);
    // ...its completed row (rates and latency read those), and cyd's exhausted budget
    // its state row: each written off the request path too.
    const span = { from, to };
    let rates = await api<RatesBody>('rates', span);
    let latency = await api<LatencyBody>('latency', { ...span, groupBy: 'none' });
    let budgets = await api<BudgetsBody>('budgets', {});
    let adjustments = await api<AdjustmentsBody>('budget-adjustments', span);
    for (
      let i = 0;
      i < 100 &&
      (rates.requests < served ||
        latency.rows[0]?.requests !== served ||
        budgets.rows.length < 5 ||
        adjustments.rows.length < 2 ||
        // cyd's earlier batches announced room before her last one spent the limit.
        !budgets.rows.some((b) => b.budgetKey === 'cyd' && b.state === 'exhausted'));
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rates = await api<RatesBody>('rates', span);
      latency = await api<LatencyBody>('latency', { ...span, groupBy: 'none' });
      budgets = await api<BudgetsBody>('budgets', {});
      adjustments = await api<AdjustmentsBody>('budget-adjustments', span);
    }
    // The last settlements' announcements trail the usage rows by a flush: wait until the
    // budgets stop changing, so the page reads what the API answered.
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const again = await api<BudgetsBody>('budgets', {});
      if (JSON.stringify(again) === JSON.stringify(budgets)) break;
      budgets = again;
    }
    assert.equal(rates.requests, served);
    assert.equal(latency.rows.length, 1);
    assert.equal(latency.rows[0].requests, served);
    assert.ok(rates.cacheHitRate > 0, 'the workload has a cache hit');
    assert.ok(rates.fallbackRate > 0, 'the workload has a failover');
    // The budget service announces every settled limit: cyd spent hers, the others have room,
    // and dee's, given back, is whole.
    const stateOf = (user: string) => budgets.rows.find((b) => b.budgetKey === user);
    assert.deepEqual(budgets.rows.map((b) => b.budgetKey).sort(), [
      'ada',
      'brook',
      'cyd',
      'dee',
      'eve',
    ]);
    assert.deepEqual([stateOf('dee')?.state, stateOf('dee')?.remaining], ['recovered', 300]);
    assert.deepEqual(
      [stateOf('cyd')?.limitKind, stateOf('cyd')?.state, stateOf('cyd')?.remaining],
      ['tokenBudget.perUser', 'exhausted', 0],
    );
    for (const user of ['ada', 'brook', 'eve']) {
      const row = stateOf(user)!;
      assert.equal(row.state, 'remaining', user);
      assert.ok(row.remaining > 0 && row.remaining < row.limit, `${user}: ${row.remaining}`);
    }
    assert.ok(budgets.rows.every((b) => b.limit === 300));
    const byUser = await api<UsageBody>('usage', { ...range, groupBy: 'user' });
    const byOperation = await api<UsageBody>('usage', { ...range, groupBy: 'operation' });
    assert.deepEqual([...perKey(byOperation.series).keys()].sort(), ['chat', 'embeddings']);
    assert.equal(perKey(byOperation.series).get('embeddings')?.requests, 2);
    // eve's search is the workload's only one: in her row and in the totals.
    assert.deepEqual(
      [...perKey(byUser.series)].map(([user, t]) => [user, t.webSearchRequests]).sort(),
      [
        ['ada', 0],
        ['brook', 0],
        ['cyd', 0],
        ['eve', 1],
      ],
    );
    assert.equal(byModel.totals.webSearchRequests, 1);
    // Newest first: the bare reset, then the operator's credit.
    assert.deepEqual(
      adjustments.rows.map((a) => [a.user, a.action, a.amount, a.operator, a.reason]),
      [
        ['dee', 'reset', null, null, null],
        ['dee', 'credit', 50, 'sre-oncall', 'onboarding'],
      ],
    );

    await withChromiumPage(async (page) => {
      const problems: string[] = [];
      const foreign: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('request', (request) => {
        if (!request.url().startsWith(gateway.baseUrl)) foreign.push(request.url());
      });
      await page.goto(`${gateway.baseUrl}/usage?${new URLSearchParams(range).toString()}`);
      await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });

      await assertHeadlineTiles(page, { byModel, rates, latency, served });

      for (const [table, series] of [
        ['by-user', byUser.series],
        ['by-model', byModel.series],
        ['by-operation', byOperation.series],
      ] as const) {
        const expected = perKey(series);
        const rows: { key: string; cells: string[] }[] = [];
        for (const tr of await page.locator(`#${table} tbody tr`).all()) {
          rows.push({
            key: (await tr.getAttribute('data-key')) ?? '',
            cells: await tr.locator('td').allTextContents(),
          });
        }
        assert.deepEqual(rows.map((r) => r.key).sort(), [...expected.keys()].sort(), table);
        for (const row of rows) {
          const t = expected.get(row.key);
          assert.ok(t, row.key);
          assert.deepEqual(row.cells, [
            row.key,
            int(t.requests),
            int(t.inputTokens),
            int(t.outputTokens),
            int(t.webSearchRequests),
            cost(t.costDollars),
          ]);
        }
      }
      assert.deepEqual(
        [...perKey(byUser.series).keys()].sort(),
        [...USERS].sort(),
        'every user of the workload',
      );

      // Charts: drawn by uPlot (a canvas each), one series per model or user.
      for (const [id, count] of [
        ['chart-cost', MODELS.length + 1], // and the model Claude served eve
        ['chart-operations', 2],
        ['chart-tokens', USERS.length],
        ['chart-burn', USERS.length],
      ] as const) {
        assert.equal(await page.locator(`#${id} canvas`).count(), 1, id);
        assert.equal(await page.locator(`#${id}`).getAttribute('data-series'), String(count), id);
      }
      // Budget burn: the cumulative weighted tokens at the last bucket (uPlot's legend
      // shows the values where the cursor is: hover the plot's right edge) are each
      // user's total, and the budgets table is the API's rows, cell by cell.
      const burn = page.locator('#chart-burn .u-over');
      const box = await burn.boundingBox();
      assert.ok(box, 'the burn chart has a plot area');
      await burn.hover({ position: { x: box.width - 1, y: box.height / 2 } });
      const legend: Record<string, string> = {};
      for (const tr of await page.locator('#chart-burn .u-legend tr.u-series').all()) {
        const label = await tr.locator('.u-label').innerText();
        const value = await tr.locator('.u-value').innerText();
        legend[label] = value;
      }
      const burned = new Map<string, number>();
      for (const p of byUser.series) burned.set(p.key, (burned.get(p.key) ?? 0) + p.weightedTokens);
      assert.deepEqual(
        Object.fromEntries(Object.entries(legend).filter(([label]) => burned.has(label))),
        Object.fromEntries([...burned].map(([user, tokens]) => [user, int(tokens)])),
        'burn per user',
      );
      const budgetRows: { key: string; cells: string[] }[] = [];
      for (const tr of await page.locator('#budgets tbody tr').all()) {
        budgetRows.push({
          key: (await tr.getAttribute('data-key')) ?? '',
          cells: await tr.locator('td').allTextContents(),
        });
      }
      assert.deepEqual(
        budgetRows,
        budgets.rows.map((b) => ({
          key: `${b.budgetKey}|${b.limitKind}`,
          cells: [
            b.budgetKey,
            b.limitKind,
            b.state,
            `${b.remaining} ${b.unit}`,
            String(b.limit),
            b.resetAt,
          ],
        })),
      );
      // Spend by operation: the chart's legend names each operation (after the time axis).
      const legendLabels = await page
        .locator('#chart-operations .u-legend tr.u-series .u-label')
        .allInnerTexts();
      assert.deepEqual(legendLabels.slice(1).sort(), ['chat', 'embeddings']);
      // The latest adjustments, row by row as the API lists them, absent values as '–'.
      const adjustmentRows: { key: string; cells: string[] }[] = [];
      for (const tr of await page.locator('#adjustments tbody tr').all()) {
        adjustmentRows.push({
          key: (await tr.getAttribute('data-key')) ?? '',
          cells: await tr.locator('td').allTextContents(),
        });
      }
      assert.deepEqual(
        adjustmentRows,
        adjustments.rows.map((a) => ({
          key: a.eventId,
          cells: [
            a.at,
            a.user,
            a.action,
            a.limitKind,
            maybe(a.amount),
            maybe(a.operator),
            maybe(a.reason),
          ],
        })),
      );
      assert.equal(await page.locator('#adjustments-empty').isHidden(), true);
      assert.deepEqual(problems, []);
      assert.deepEqual(foreign, [], 'the page loads nothing from outside the gateway');
    });
  });
});

// The page's note (usage-page.js) where a per-user chart would be.
const TOO_MANY_USERS =
  'Too many users in this range for per-user charts: narrow the range or use a daily bucket (bucket=day).';

// The headline tiles show the API's totals, rates and latency in the page's own formatting.
async function assertHeadlineTiles(
  page: Page,
  expected: { byModel: UsageBody; rates: RatesBody; latency: LatencyBody; served: number },
): Promise<void> {
  const { byModel, rates, latency, served } = expected;
  const textOf = (selector: string) => page.locator(selector).innerText();
  assert.equal(await textOf('#total-cost'), cost(byModel.totals.costDollars));
  assert.equal(
    await textOf('#total-tokens'),
    int(byModel.totals.inputTokens + byModel.totals.outputTokens),
  );
  assert.equal(await textOf('#total-requests'), int(served));
  assert.equal(await textOf('#cache-hit-rate'), pct(rates.cacheHitRate));
  assert.equal(await textOf('#fallback-rate'), pct(rates.fallbackRate));
  assert.equal(
    await textOf('#latency'),
    `${ms(latency.rows[0].p50Ms)} / ${ms(latency.rows[0].p95Ms)}`,
  );
}

async function tableRows(page: Page, table: string): Promise<{ key: string; cells: string[] }[]> {
  const rows: { key: string; cells: string[] }[] = [];
  for (const tr of await page.locator(`#${table} tbody tr`).all()) {
    rows.push({
      key: (await tr.getAttribute('data-key')) ?? '',
      cells: await tr.locator('td').allTextContents(),
    });
  }
  return rows;
}

describe('the usage page when the per-user series is past the cap', () => {
  // Five users of one model and one operation: hour buckets over the workload are one (two
  // if it spans an hour's end), so per model and per operation the series holds at most 2
  // points, per user at least 5.
  const SPENDERS = ['u1', 'u2', 'u3', 'u4', 'u5'];
  const served = SPENDERS.length * 2;
  let gateway: AppProcess;
  let dir: string;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: run scripts/browser/ensure-chromium.sh`,
    );
    dir = mkdtempSync(join(tmpdir(), 'aigw-usage-page-cap-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: usage}
spec:
  backends:
  - {name: mini, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  costControl:
    modelPricing:
      gpt-4o-mini: {inputPer1k: 0.15, outputPer1k: 0.6}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_ANALYTICS_MAX_SERIES_POINTS: '2',
    });
    // Two calls each; later users ask longer questions, so each spends more than the last.
    for (const [n, user] of SPENDERS.entries()) {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': user },
          body: JSON.stringify({
            model: 'gpt-4o-mini',
            max_tokens: 20,
            messages: [{ role: 'user', content: `question ${i} ${'word '.repeat(10 * n)}` }],
          }),
        });
        assert.equal(response.status, 200, await response.text());
      }
    }
  });

  after(async () => {
    await gateway?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the top spenders instead of per-user charts, and every other panel as before', async () => {
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const range = { from, to, bucket: 'hour' };
    const span = { from, to };
    const get = (path: string, params: Record<string, string>) =>
      fetch(`${gateway.baseUrl}/v1/analytics/${path}?${new URLSearchParams(params).toString()}`);
    const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
      const response = await get(path, params);
      assert.equal(response.status, 200, path);
      return (await response.json()) as T;
    };
    let byModel = await api<UsageBody>('usage', { ...range, groupBy: 'model' });
    let rates = await api<RatesBody>('rates', span);
    let latency = await api<LatencyBody>('latency', { ...span, groupBy: 'none' });
    for (
      let i = 0;
      i < 100 &&
      (byModel.totals.requests < served ||
        rates.requests < served ||
        latency.rows[0]?.requests !== served);
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      byModel = await api<UsageBody>('usage', { ...range, groupBy: 'model' });
      rates = await api<RatesBody>('rates', span);
      latency = await api<LatencyBody>('latency', { ...span, groupBy: 'none' });
    }
    assert.equal(byModel.totals.requests, served);
    assert.equal(rates.requests, served);
    assert.equal(latency.rows[0]?.requests, served);
    const byOperation = await api<UsageBody>('usage', { ...range, groupBy: 'operation' });
    const budgets = await api<BudgetsBody>('budgets', {});
    const adjustments = await api<AdjustmentsBody>('budget-adjustments', span);
    assert.deepEqual([budgets.rows, adjustments.rows], [[], []]);
    // The per-user series is refused for its size: the case the page must survive.
    const refused = await get('usage', { ...range, groupBy: 'user' });
    assert.equal(refused.status, 400);
    const refusal = (await refused.json()) as { error: { type: string; message: string } };
    assert.equal(refusal.error.type, 'invalid_query');
    assert.match(refusal.error.message, /more than 2 points/);
    const spenders = await api<{ rows: (Totals & { user: string })[] }>('top-spenders', {
      ...span,
      limit: '100',
      orderBy: 'cost',
    });
    assert.deepEqual(
      spenders.rows.map((r) => r.user),
      [...SPENDERS].reverse(),
      'every user, the longest questions first',
    );

    await withChromiumPage(async (page) => {
      const problems: string[] = [];
      const refusedLoads: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        // Chromium logs the refused per-user series' 400 as a failed resource load.
        if (message.location().url.includes('groupBy=user')) refusedLoads.push(message.text());
        else problems.push(message.text());
      });
      // Requests that got no answer at all, named if the page fails to load.
      const unanswered: string[] = [];
      page.on('requestfailed', (r) => unanswered.push(`${r.url()}: ${r.failure()?.errorText}`));
      await page.goto(`${gateway.baseUrl}/usage?${new URLSearchParams(range).toString()}`);
      await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', {
        timeout: 60_000,
      });
      assert.equal(
        await page.locator('body').getAttribute('data-state'),
        'ready',
        `${await page.locator('#error').innerText()} ${unanswered.join(', ')}`,
      );
      assert.equal(refusedLoads.length, 1, 'the page asked for the per-user series once');

      const textOf = (selector: string) => page.locator(selector).innerText();
      await assertHeadlineTiles(page, { byModel, rates, latency, served });

      // Per user: the top spenders' rows, in their order.
      assert.deepEqual(
        await tableRows(page, 'by-user'),
        spenders.rows.map((r) => ({
          key: r.user,
          cells: [
            r.user,
            int(r.requests),
            int(r.inputTokens),
            int(r.outputTokens),
            int(r.webSearchRequests),
            cost(r.costDollars),
          ],
        })),
      );
      for (const [table, series] of [
        ['by-model', byModel.series],
        ['by-operation', byOperation.series],
      ] as const) {
        assert.deepEqual(
          await tableRows(page, table),
          [...perKey(series)].map(([key, t]) => ({
            key,
            cells: [
              key,
              int(t.requests),
              int(t.inputTokens),
              int(t.outputTokens),
              int(t.webSearchRequests),
              cost(t.costDollars),
            ],
          })),
          table,
        );
      }
      for (const id of ['chart-tokens', 'chart-burn']) {
        assert.equal(await page.locator(`#${id} canvas`).count(), 0, id);
        assert.equal(await textOf(`#${id}`), TOO_MANY_USERS, id);
      }
      for (const id of ['chart-cost', 'chart-operations']) {
        assert.equal(await page.locator(`#${id} canvas`).count(), 1, id);
        assert.equal(await page.locator(`#${id}`).getAttribute('data-series'), '1', id);
      }
      // No budgets configured and none adjusted: the API has no rows, nor has the page.
      assert.deepEqual(await tableRows(page, 'budgets'), budgets.rows);
      assert.deepEqual(await tableRows(page, 'adjustments'), adjustments.rows);
      assert.equal(await page.locator('#adjustments-empty').isHidden(), false);
      assert.deepEqual(problems, []);
      assert.deepEqual(unanswered, []);
    });
  });
});
