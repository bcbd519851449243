// Prices through the all-in-one gateway with the openai client: a model no route prices
// costs its list price from the built-in catalog (the package's bundled data, read here in
// the test too), cache reads are billed at the route's `cachedInputPer1k`, a model with no
// price anywhere is counted in ai_gateway_unpriced_calls_total, a catalog-priced model is
// stopped by `maxDailyCostPerUser`, and AI_GATEWAY_BUILTIN_PRICES=false turns the catalog off.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type * as GenAiPrices from '@pydantic/genai-prices';
import { metricSum, until } from '@aigw/testing';
import { FakeOpenAiUpstream, type FakeOpenAiUsage } from '@aigw/testing/fake-provider';
import { runAppToExit, startApp, type AppProcess } from '@aigw/testing/processes';

const COST_HEADER = 'x-ai-gateway-cost-usd';
const OPENAI_KEY = { AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-test-builtin-prices' };
/** The daily dollar cap of the `capped` route: two of the calls below, not three. */
const DAILY_CAP = 0.0005;

const dir = mkdtempSync(join(tmpdir(), 'aigw-builtin-prices-'));

function writeConfig(upstream: FakeOpenAiUpstream): string {
  const file = join(dir, 'config.yaml');
  const openai = `provider: openai, baseUrl: "${upstream.baseUrl}", auth: {apiKeyRef: {name: openai-key}}`;
  writeFileSync(
    file,
    `kind: AIGatewayRoute
metadata: {name: prices}
spec:
  backends:
  - {name: listed, ${openai}, model: gpt-4o-mini}
  - {name: own-price, priority: 1, ${openai}, model: gpt-4o}
  - {name: self-hosted, priority: 2, provider: openai-compatible, baseUrl: "${upstream.baseUrl}", model: llama-3}
  costControl:
    modelPricing:
      gpt-4o: {inputPer1k: 0.0025, cachedInputPer1k: 0.00125, outputPer1k: 0.01}
---
kind: AIGatewayRoute
metadata: {name: capped}
spec:
  backends:
  - {name: capped, ${openai}, model: gpt-4o-mini-2024-07-18}
  userIdentification: {header: x-user-id}
  costControl: {maxDailyCostPerUser: ${DAILY_CAP}}
`,
  );
  return file;
}

/** An answer that read most of its prompt from OpenAI's cache. */
const CACHED_ANSWER: FakeOpenAiUsage = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 1000 },
};

/** What the package itself says `usage` costs on `model` (OpenAI's list price). */
function catalogDollars(model: string, usage: FakeOpenAiUsage): number {
  const prices = createRequire(__filename)('@pydantic/genai-prices') as typeof GenAiPrices;
  const result = prices.calcPrice(
    {
      input_tokens: usage.prompt_tokens,
      cache_read_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
      output_tokens: usage.completion_tokens,
    },
    model,
    { providerId: 'openai' },
  );
  assert.ok(result, `the catalog prices ${model}`);
  return result.total_price;
}

/** The header as the gateway writes it: to a tenth of a micro-dollar. */
const asHeader = (dollars: number) => Number(dollars.toFixed(7));

async function askWithHeaders(
  client: OpenAI,
  model: string,
): Promise<{
  cost: string | null;
  usage: (OpenAI.CompletionUsage & { cost?: number }) | undefined;
}> {
  const { data, response } = await client.chat.completions
    .create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'How much?' }] })
    .withResponse();
  return { cost: response.headers.get(COST_HEADER), usage: data.usage };
}

async function metricsText(gateway: AppProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
}

describe('all-in-one gateway: built-in prices', () => {
  const upstream = new FakeOpenAiUpstream('prices');
  let config: string;
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await upstream.start();
    config = writeConfig(upstream);
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      ...OPENAI_KEY,
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('prices gpt-4o-mini, which no route prices, at its catalog price, cache reads included', async () => {
    upstream.reportUsage(CACHED_ANSWER);
    const { cost, usage } = await askWithHeaders(client, 'gpt-4o-mini');
    assert.equal(usage?.prompt_tokens_details?.cached_tokens, 1000);
    const expected = catalogDollars('gpt-4o-mini', CACHED_ANSWER);
    assert.ok(expected > 0);
    assert.equal(Number(cost), asHeader(expected));
    assert.equal(usage?.cost, asHeader(expected), 'the body says it too, as usage.cost');
    assert.match(
      gateway.output(),
      /"msg":"priced gpt-4o-mini from the built-in catalog \(genai-prices /,
    );
  });

  it("bills cache reads at the route's cachedInputPer1k", async () => {
    upstream.reportUsage({
      prompt_tokens: 2000,
      completion_tokens: 100,
      total_tokens: 2100,
      prompt_tokens_details: { cached_tokens: 1500 },
    });
    const { cost } = await askWithHeaders(client, 'gpt-4o');
    // 500 input tokens at 0.0025, 1,500 cache reads at 0.00125, 100 output at 0.01 per 1000;
    // the whole prompt at the input price would be 0.006.
    assert.equal(Number(cost), asHeader((500 * 0.0025 + 1500 * 0.00125 + 100 * 0.01) / 1000));
  });

  it("puts a stream's cost in its closing usage chunk, when the client asked for usage", async () => {
    const usage = { prompt_tokens: 400, completion_tokens: 50, total_tokens: 450 };
    upstream.reportUsage(usage);
    const ask = (includeUsage: boolean) =>
      client.chat.completions.create({
        model: 'gpt-4o',
        max_tokens: 50,
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        messages: [{ role: 'user', content: 'How much, streamed?' }],
      });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of await ask(true)) chunks.push(chunk);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, [], 'the usage-only chunk still ends the stream');
    assert.equal(last.usage?.prompt_tokens, 400);
    assert.equal(
      (last.usage as { cost?: number }).cost,
      asHeader((400 * 0.0025 + 50 * 0.01) / 1000),
    );
    assert.ok(chunks.slice(0, -1).some((c) => c.choices[0]?.delta?.content));

    const plain: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of await ask(false)) plain.push(chunk);
    assert.ok(plain.length > 0);
    assert.ok(
      plain.every((c) => !c.usage),
      'no usage asked for: no usage chunk, and no cost',
    );
  });

  it('counts a call whose model has no price anywhere, and sends no cost for it', async () => {
    upstream.reportUsage(CACHED_ANSWER);
    const { cost, usage } = await askWithHeaders(client, 'llama-3');
    assert.equal(cost, null);
    assert.equal(usage?.cost, undefined, 'an unknown cost is not a zero one');
    const text = await metricsText(gateway);
    assert.match(text, /^ai_gateway_unpriced_calls_total\{model="llama-3"\} 1$/m);
    assert.doesNotMatch(text, /^ai_gateway_unpriced_calls_total\{model="gpt-4o(-mini)?"\}/m);
    assert.match(
      gateway.output(),
      /"msg":"no price for llama-3: its calls cost \$0 in metrics and budgets"/,
    );
  });

  it('stops a catalog-priced model at maxDailyCostPerUser', async () => {
    upstream.reportUsage(CACHED_ANSWER);
    const perCall = catalogDollars('gpt-4o-mini', CACHED_ANSWER);
    assert.ok(perCall * 2 > DAILY_CAP && perCall < DAILY_CAP, 'the cap fits one or two calls');
    const capped = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': 'thrifty' },
    });
    let served = 0;
    let refusal: unknown;
    for (let attempt = 0; attempt < 6 && refusal === undefined; attempt++) {
      try {
        await askWithHeaders(capped, 'gpt-4o-mini-2024-07-18');
        served++;
        // Its usage settles before the next call (in its own time on a loaded machine).
        await until('its usage to settle', async () => {
          const text = await metricsText(gateway);
          const spent = metricSum(text, 'ai_gateway_cost_dollars', { user: 'thrifty' });
          const left = metricSum(text, 'ai_gateway_budget_remaining', {
            budget_key: 'thrifty',
            limit: 'costControl.maxDailyCostPerUser',
          });
          return spent > 0 && Math.abs(left - Math.max(0, DAILY_CAP - spent)) < 1e-9;
        });
      } catch (error) {
        refusal = error;
      }
    }
    assert.ok(refusal instanceof OpenAI.APIError, `refused after ${served} calls`);
    assert.equal(refusal.status, 429);
    assert.equal(refusal.code, 'budget_exceeded');
    assert.ok(served >= 1 && served <= 3, `served ${served} calls before the cap`);
  });

  it('AI_GATEWAY_BUILTIN_PRICES=false leaves an unpriced model at $0, and says so', async () => {
    const optedOut = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'opted-out'),
      AI_GATEWAY_BUILTIN_PRICES: 'false',
      ...OPENAI_KEY,
    });
    try {
      const plain = new OpenAI({
        baseURL: `${optedOut.baseUrl}/v1`,
        apiKey: 'unused',
        maxRetries: 0,
      });
      upstream.reportUsage(CACHED_ANSWER);
      const { cost } = await askWithHeaders(plain, 'gpt-4o-mini');
      assert.equal(cost, null);
      assert.match(
        await metricsText(optedOut),
        /^ai_gateway_unpriced_calls_total\{model="gpt-4o-mini"\} 1$/m,
      );
      assert.match(optedOut.output(), /"msg":"no price for gpt-4o-mini: /);
      assert.doesNotMatch(optedOut.output(), /from the built-in catalog/);
    } finally {
      await optedOut.stop();
    }
  });

  it('refuses to start on another value, in one line', async () => {
    const result = await runAppToExit('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'bad'),
      AI_GATEWAY_BUILTIN_PRICES: 'maybe',
      PORT: '0',
      ADMIN_PORT: '0',
      ...OPENAI_KEY,
    });
    assert.notEqual(result.code, 0);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /AI_GATEWAY_BUILTIN_PRICES must be "true" or "false", got "maybe"/);
  });
});
