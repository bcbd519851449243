// Prompt-cache writes through the all-in-one gateway with the official Anthropic SDK: a
// request with cache_control breakpoints on an Anthropic backend that writes most of the
// prompt to its cache. The client sees the write in cache_creation_input_tokens (JSON and
// streamed), and the call is billed at the route's cacheWritePer1k, or the built-in
// catalog's write price where no route prices the model, in the cost header, the token
// metrics, the stored usage rows and the analytics API's totals. Writes made for an hour
// (`cache_creation.ephemeral_1h_input_tokens`) are billed at cacheWrite1hPer1k, counted as
// type="cache_write_1h", and reported back in the client's `usage.cache_creation`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import Anthropic from '@anthropic-ai/sdk';
import type * as GenAiPrices from '@pydantic/genai-prices';
import { metricSum, until } from '@aigw/testing';
import { FakeAnthropicUpstream, type FakeAnthropicUsage } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const COST_HEADER = 'x-ai-gateway-cost-usd';
const PRICED = 'claude-sonnet-4-5';
/** Priced by no route: the built-in catalog's list price. */
const LISTED = 'claude-opus-4-1';
const PRICE = {
  inputPer1k: 0.003,
  cachedInputPer1k: 0.0003,
  cacheWritePer1k: 0.00375,
  cacheWrite1hPer1k: 0.006,
};
const OUTPUT_PER_1K = 0.015;

/** A first call on a long prompt: most of it written to the cache, some read. */
const WRITING: FakeAnthropicUsage = {
  input_tokens: 50,
  cache_creation_input_tokens: 2_000,
  cache_read_input_tokens: 400,
  output_tokens: 10,
};

/** What WRITING costs at PRICE: each part of the prompt at its own rate. */
const PRICED_DOLLARS =
  (50 / 1000) * PRICE.inputPer1k +
  (2_000 / 1000) * PRICE.cacheWritePer1k +
  (400 / 1000) * PRICE.cachedInputPer1k +
  (10 / 1000) * OUTPUT_PER_1K;

/** WRITING with 500 of its 2,000 written tokens written for an hour. */
const WRITING_FOR_AN_HOUR: FakeAnthropicUsage = {
  ...WRITING,
  cache_creation: { ephemeral_5m_input_tokens: 1_500, ephemeral_1h_input_tokens: 500 },
};

/** What WRITING_FOR_AN_HOUR costs at PRICE: the 1-hour writes at their own price. */
const HOUR_PRICED_DOLLARS =
  PRICED_DOLLARS + (500 / 1000) * (PRICE.cacheWrite1hPer1k - PRICE.cacheWritePer1k);

/** What the package itself says WRITING costs on `model` (Anthropic's list price). */
function catalogDollars(model: string, writtenForAnHour = 0): number {
  const prices = createRequire(__filename)('@pydantic/genai-prices') as typeof GenAiPrices;
  const result = prices.calcPrice(
    {
      input_tokens: 2_450,
      cache_write_tokens: 2_000,
      cache_write_1h_tokens: writtenForAnHour,
      cache_read_tokens: 400,
      output_tokens: 10,
    },
    model,
    { providerId: 'anthropic' },
  );
  assert.ok(result, `the catalog prices ${model}`);
  return result.total_price;
}

/** The header as the gateway writes it: to a tenth of a micro-dollar. */
const asHeader = (dollars: number) => Number(dollars.toFixed(7));

const CACHED_REQUEST = {
  max_tokens: 100,
  system: [
    {
      type: 'text' as const,
      text: 'A long, stable instruction.',
      cache_control: { type: 'ephemeral' as const },
    },
  ],
  messages: [{ role: 'user' as const, content: 'What does it say?' }],
};

describe('all-in-one gateway: prompt-cache writes on an Anthropic backend', () => {
  const upstream = new FakeAnthropicUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-cache-writes-'));
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await upstream.start();
    upstream.reportUsage(WRITING);
    const anthropic = `provider: anthropic, baseUrl: "${upstream.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}`;
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: cache-writes}
spec:
  backends:
  - {name: priced, ${anthropic}, model: ${PRICED}}
  - {name: listed, priority: 1, ${anthropic}, model: ${LISTED}}
  costControl:
    modelPricing:
      ${PRICED}: {inputPer1k: ${PRICE.inputPer1k}, cachedInputPer1k: ${PRICE.cachedInputPer1k}, cacheWritePer1k: ${PRICE.cacheWritePer1k}, cacheWrite1hPer1k: ${PRICE.cacheWrite1hPer1k}, outputPer1k: ${OUTPUT_PER_1K}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('reports the write to the client and bills it at cacheWritePer1k', async () => {
    const { data, response } = await client.messages
      .create({ model: PRICED, ...CACHED_REQUEST })
      .withResponse();
    const sent = upstream.calls.at(-1)?.body as { system: { cache_control?: unknown }[] };
    assert.deepEqual(sent.system[0].cache_control, { type: 'ephemeral' });
    assert.equal(data.usage.cache_creation_input_tokens, 2_000);
    assert.deepEqual(data.usage.cache_creation, {
      ephemeral_5m_input_tokens: 2_000,
      ephemeral_1h_input_tokens: 0,
    });
    assert.equal(data.usage.cache_read_input_tokens, 400);
    assert.equal(data.usage.input_tokens, 50);
    assert.equal(data.usage.output_tokens, 10);
    assert.equal(Number(response.headers.get(COST_HEADER)), asHeader(PRICED_DOLLARS));
  });

  it('reports the write in a stream too', async () => {
    const stream = client.messages.stream({ model: PRICED, ...CACHED_REQUEST });
    const message = await stream.finalMessage();
    assert.equal(message.usage.cache_creation_input_tokens, 2_000);
    assert.equal(message.usage.cache_read_input_tokens, 400);
    assert.equal(message.usage.input_tokens, 50);
  });

  it("bills a model no route prices at the catalog's write price", async () => {
    const { data, response } = await client.messages
      .create({ model: LISTED, ...CACHED_REQUEST })
      .withResponse();
    assert.equal(data.usage.cache_creation_input_tokens, 2_000);
    assert.equal(Number(response.headers.get(COST_HEADER)), asHeader(catalogDollars(LISTED)));
  });

  it('counts the writes in the metrics and records them with their cost', async () => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.equal(metricSum(text, 'ai_gateway_tokens_total', { type: 'cache_write' }), 6_000);
    assert.equal(metricSum(text, 'ai_gateway_tokens_total', { type: 'cached' }), 1_200);
    assert.equal(metricSum(text, 'ai_gateway_tokens_total', { type: 'cache_write_1h' }), 0);

    // The usage events reach the embedded store in batches: wait for all three rows.
    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const stored = () =>
        db
          .prepare(
            `SELECT model_served AS model, input_tokens AS input,
               cache_write_input_tokens AS written, cost_dollars AS cost
             FROM usage_events ORDER BY occurred_at, model_served`,
          )
          .all() as { model: string; input: number; written: number; cost: number }[];
      await until('the three usage rows are stored', () => stored().length >= 3);
      const rows = stored();
      assert.equal(rows.length, 3);
      for (const row of rows) {
        assert.equal(row.input, 2_450);
        assert.equal(row.written, 2_000);
        const expected = row.model === LISTED ? catalogDollars(LISTED) : PRICED_DOLLARS;
        assert.ok(Math.abs(row.cost - expected) < 1e-12, `${row.model}: ${row.cost}`);
      }
    } finally {
      db.close();
    }

    // The analytics API totals them.
    const query = new URLSearchParams({
      bucket: 'day',
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const report = (await (
      await fetch(`${gateway.baseUrl}/v1/analytics/usage?${query.toString()}`)
    ).json()) as {
      totals: { requests: number; cacheWriteInputTokens: number; costDollars: number };
    };
    assert.equal(report.totals.requests, 3);
    assert.equal(report.totals.cacheWriteInputTokens, 6_000);
    const dollars = 2 * PRICED_DOLLARS + catalogDollars(LISTED);
    assert.ok(Math.abs(report.totals.costDollars - dollars) < 1e-9, `${report.totals.costDollars}`);
  });

  // Last: the calls above are counted in the metrics and rows.
  it('bills writes made for an hour at cacheWrite1hPer1k, and at the catalog’s 1-hour price', async () => {
    upstream.reportUsage(WRITING_FOR_AN_HOUR);
    try {
      const priced = await client.messages
        .create({ model: PRICED, ...CACHED_REQUEST })
        .withResponse();
      assert.equal(priced.data.usage.cache_creation_input_tokens, 2_000);
      assert.deepEqual(priced.data.usage.cache_creation, {
        ephemeral_5m_input_tokens: 1_500,
        ephemeral_1h_input_tokens: 500,
      });
      const cost = Number(priced.response.headers.get(COST_HEADER));
      assert.equal(cost, asHeader(HOUR_PRICED_DOLLARS));
      assert.ok(cost > asHeader(PRICED_DOLLARS), 'dearer than 5-minute writes');
      const listed = await client.messages
        .create({ model: LISTED, ...CACHED_REQUEST })
        .withResponse();
      assert.equal(
        Number(listed.response.headers.get(COST_HEADER)),
        asHeader(catalogDollars(LISTED, 500)),
      );

      // Streamed: unknown when the message starts, split in message_delta with the counts.
      const events: Anthropic.MessageStreamEvent[] = [];
      for await (const event of client.messages.stream({ model: PRICED, ...CACHED_REQUEST })) {
        events.push(event);
      }
      const start = events.find((event) => event.type === 'message_start');
      assert.equal(start?.message.usage.cache_creation, null);
      const delta = events.find((event) => event.type === 'message_delta');
      assert.equal(delta?.usage.cache_creation_input_tokens, 2_000);
      assert.deepEqual((delta?.usage as { cache_creation?: unknown } | undefined)?.cache_creation, {
        ephemeral_5m_input_tokens: 1_500,
        ephemeral_1h_input_tokens: 500,
      });

      const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
      const tokens = (type: string) => metricSum(text, 'ai_gateway_tokens_total', { type });
      assert.equal(tokens('cache_write_1h'), 1_500, 'three calls writing 500 for an hour');
      assert.equal(tokens('cache_write'), 12_000, 'the 1-hour writes are counted in cache_write');
    } finally {
      upstream.reportUsage(WRITING);
    }
  });
});
