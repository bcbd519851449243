// OpenAI's service tiers through the all-in-one gateway with the openai client: a call the
// backend answers as served at `priority` costs OpenAI's priority price (gpt-5: twice the
// standard one) and `flex` half, in the cost header, the body's `usage.cost` and a stream's
// usage chunk; a request asking for `priority` is held at the priority price, so a dollar cap
// the standard hold fits under refuses it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { ScriptedChatUpstream, type ChatAnswer } from './scripted-chat-upstream';

const COST_HEADER = 'x-ai-gateway-cost-usd';
const USAGE = { prompt_tokens: 1000, completion_tokens: 1000, total_tokens: 2000 };
/** gpt-5's list price of USAGE: $1.25 and $10 per 1M tokens. */
const STANDARD_DOLLARS = 0.01125;
/** A daily cap a 1,500-token answer fits under at gpt-5's standard price, not at priority. */
const DAILY_CAP = 0.02;

/** Answers as OpenAI does: served at the tier asked for (`default` for none or `auto`). */
const servedAtAskedTier: ChatAnswer = (body, response) => {
  const asked = body.service_tier;
  const tier = typeof asked === 'string' && asked !== 'auto' ? asked : 'default';
  const base = { id: 'chatcmpl-tier', model: 'gpt-5-2025-08-07', service_tier: tier };
  if (body.stream !== true) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        ...base,
        object: 'chat.completion',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Done.' }, finish_reason: 'stop' },
        ],
        usage: USAGE,
      }),
    );
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  const event = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
  const chunk = { ...base, object: 'chat.completion.chunk' };
  event({
    ...chunk,
    choices: [{ index: 0, delta: { role: 'assistant', content: 'Done.' }, finish_reason: null }],
  });
  event({ ...chunk, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  event({ ...chunk, choices: [], usage: USAGE });
  response.end('data: [DONE]\n\n');
};

/** The usage of an OpenAI-format answer, with the gateway's `cost`. */
type PricedUsage = OpenAI.CompletionUsage & { cost?: number };

function near(actual: number | undefined, expected: number, what: string): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) < 1e-7,
    `${what}: ${actual} != ${expected}`,
  );
}

describe('all-in-one gateway: OpenAI service tiers are priced as billed', () => {
  const upstream = new ScriptedChatUpstream(servedAtAskedTier);
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await upstream.start();
    const openai = `provider: openai, baseUrl: "${upstream.baseUrl}", auth: {apiKeyRef: {name: openai-key}}`;
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: tiers}
spec:
  backends:
  - {name: gpt5, ${openai}, model: gpt-5}
---
kind: AIGatewayRoute
metadata: {name: capped}
spec:
  backends:
  - {name: capped, ${openai}, model: gpt-5-2025-08-07}
  userIdentification: {header: x-user-id}
  costControl: {maxDailyCostPerUser: ${DAILY_CAP}}
`,
      { AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-test-service-tier' },
    );
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  async function costOf(tier: 'default' | 'priority' | 'flex'): Promise<{
    header: number;
    body: number | undefined;
    served: string | null | undefined;
  }> {
    const { data, response } = await client.chat.completions
      .create({
        model: 'gpt-5',
        service_tier: tier,
        max_completion_tokens: 1000,
        messages: [{ role: 'user', content: 'Go.' }],
      })
      .withResponse();
    const usage: PricedUsage | undefined = data.usage;
    return {
      header: Number(response.headers.get(COST_HEADER)),
      body: usage?.cost,
      served: data.service_tier,
    };
  }

  it('bills a priority answer at the priority price and a flex answer at half', async () => {
    const standard = await costOf('default');
    near(standard.header, STANDARD_DOLLARS, 'standard header');
    const priority = await costOf('priority');
    assert.equal(priority.served, 'priority');
    near(priority.header, 2 * STANDARD_DOLLARS, 'priority header');
    near(priority.body, 2 * STANDARD_DOLLARS, 'priority usage.cost');
    const flex = await costOf('flex');
    near(flex.header, STANDARD_DOLLARS / 2, 'flex header');
  });

  it("prices a priority stream's usage chunk at the priority price", async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-5',
      service_tier: 'priority',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Go.' }],
    });
    let cost: number | undefined;
    for await (const chunk of stream) {
      const usage = chunk.usage as { cost?: number } | null | undefined;
      if (usage?.cost !== undefined) cost = usage.cost;
    }
    near(cost, 2 * STANDARD_DOLLARS, 'stream usage.cost');
  });

  it('holds a priority request at the priority price against a dollar cap', async () => {
    const ask = (tier: 'default' | 'priority') =>
      client.chat.completions.create(
        {
          model: 'gpt-5-2025-08-07',
          service_tier: tier,
          max_completion_tokens: 1500,
          messages: [{ role: 'user', content: 'Go.' }],
        },
        { headers: { 'x-user-id': `hold-${tier}` } },
      );
    // $0.015 and the prompt at the standard price: under the cap.
    await ask('default');
    // Twice that at priority: more than the whole day's cap allows.
    await assert.rejects(ask('priority'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, 400, error.message);
      assert.match(error.message, /may cost up to/);
      return true;
    });
    assert.equal(
      upstream.bodies.filter((body) => body.service_tier === 'priority').length,
      2,
      'the refused priority call never reached the backend',
    );
  });
});
