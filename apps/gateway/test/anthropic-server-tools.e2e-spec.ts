// Claude Code's WebSearch through the gateway: a Messages request carrying Anthropic's
// web_search server tool reaches an Anthropic backend as the client wrote it, and its
// answer comes back with the server_tool_use and web_search_tool_result blocks, the cited
// text, stop_reason pause_turn and usage.server_tool_use, plain and streamed, through the
// official SDK. A chain never sends it to a backend that cannot run it, and a model with
// no such backend answers an Anthropic-style 400 naming the tool. The search is billed
// beside the tokens (Anthropic's $10 per 1000 where the price names no webSearchPer1k): in
// the cost header and in the usage the analytics store keeps.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { metricSum, until } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { FakeAnthropicWebSearch, SEARCH_ANSWER_CONTENT } from './fake-anthropic-web-search';

const WEB_SEARCH = {
  type: 'web_search_20250305' as const,
  name: 'web_search' as const,
  max_uses: 5,
};
/** The route's token price for the model the Claude backend serves (no webSearchPer1k). */
const PRICE = { inputPer1k: 0.003, outputPer1k: 0.015 };
/** The fake's answer (40 tokens in, 12 out, one search) at PRICE, the search at $0.01. */
const SEARCH_ANSWER_DOLLARS =
  (40 / 1000) * PRICE.inputPer1k + (12 / 1000) * PRICE.outputPer1k + 1 * (10 / 1000);
const COST_HEADER = 'x-ai-gateway-cost-usd';

const ASK = {
  max_tokens: 512,
  tools: [WEB_SEARCH],
  messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }],
};

describe('Anthropic server tools through the gateway', () => {
  const claude = new FakeAnthropicWebSearch();
  const openai = new FakeOpenAiUpstream();
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await Promise.all([claude.start(), openai.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: server-tools}
spec:
  backends:
  - {name: cheap-first, priority: 0, provider: openai-compatible, baseUrl: "${openai.baseUrl}", model: gpt-4o-mini, modelNameOverride: claude-web}
  - {name: claude, priority: 1, provider: anthropic, baseUrl: "${claude.origin}", model: claude-sonnet-4-5, modelNameOverride: claude-web, auth: {apiKeyRef: {name: anthropic-key}}}
  - {name: gpt, provider: openai-compatible, baseUrl: "${openai.baseUrl}", model: gpt-4o-mini, modelNameOverride: gpt-only}
  failover: {on: [error]}
  costControl:
    modelPricing:
      claude-sonnet-4-5: {inputPer1k: ${PRICE.inputPer1k}, outputPer1k: ${PRICE.outputPer1k}}
`,
      { AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test' },
    );
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([claude.stop(), openai.stop()]);
  });

  /** The web searches the gateway counted for claude-web, from its metrics. */
  const searchesCounted = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    return metricSum(text, 'ai_gateway_server_tool_requests_total', {
      tool: 'web_search',
      model: 'claude-web',
    });
  };

  it('sends the server tool to the Anthropic backend only, and answers its blocks as they came', async () => {
    claude.reset();
    openai.reset();
    const counted = await searchesCounted();
    const { data: message, response } = await client.messages
      .create({ model: 'claude-web', ...ASK })
      .withResponse();
    assert.deepEqual(message.content, SEARCH_ANSWER_CONTENT);
    assert.equal(message.stop_reason, 'pause_turn');
    assert.equal(message.usage.server_tool_use?.web_search_requests, 1);
    // The OpenAI-format backend first in the chain was never tried.
    assert.equal(openai.calls.length, 0);
    assert.equal(claude.calls.length, 1);
    assert.deepEqual(claude.calls[0].body.tools, [WEB_SEARCH]);
    // The search is counted, and billed beside the tokens at Anthropic's list price.
    assert.equal(await searchesCounted(), counted + 1);
    assert.equal(
      Number(response.headers.get(COST_HEADER)),
      Number(SEARCH_ANSWER_DOLLARS.toFixed(7)),
    );
  });

  it('streams the blocks (input_json_delta, citations_delta) that the SDK puts back together', async () => {
    claude.reset();
    const stream = client.messages.stream({ model: 'claude-web', ...ASK });
    const types: string[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_start') types.push(event.content_block.type);
    });
    const message = await stream.finalMessage();
    assert.deepEqual(types, ['text', 'server_tool_use', 'web_search_tool_result', 'text', 'text']);
    assert.deepEqual(message.content, SEARCH_ANSWER_CONTENT);
    assert.equal(message.stop_reason, 'pause_turn');
    assert.equal(message.usage.server_tool_use?.web_search_requests, 1);
    assert.equal(claude.calls[0].body.stream, true);
  });

  it("records each answer's search and its fee in the usage the analytics store keeps", async () => {
    // The two answers above (plain and streamed), as the usage events brought them in.
    const query = new URLSearchParams({
      bucket: 'day',
      model: 'claude-sonnet-4-5',
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date(Date.now() + 86_400_000).toISOString(),
    });
    type Totals = { requests: number; webSearchRequests: number; costDollars: number };
    const totals = async (): Promise<Totals> =>
      (
        (await (
          await fetch(`${gateway.baseUrl}/v1/analytics/usage?${query.toString()}`)
        ).json()) as { totals: Totals }
      ).totals;
    // The usage events reach the embedded store in batches.
    await until(
      'both calls are in the analytics totals',
      async () => (await totals()).requests >= 2,
    );
    const stored = await totals();
    assert.equal(stored.requests, 2);
    assert.equal(stored.webSearchRequests, 2);
    assert.ok(
      Math.abs(stored.costDollars - 2 * SEARCH_ANSWER_DOLLARS) < 1e-12,
      `${stored.costDollars}`,
    );
  });

  it('sends a paused turn back to Anthropic intact to go on', async () => {
    claude.reset();
    const paused = await client.messages.create({ model: 'claude-web', ...ASK });
    const next = await client.messages.create({
      model: 'claude-web',
      ...ASK,
      messages: [...ASK.messages, { role: 'assistant', content: paused.content }],
    });
    assert.equal(next.stop_reason, 'end_turn');
    const sent = claude.calls[1].body.messages as { role: string; content: unknown }[];
    assert.deepEqual(sent.at(-1), { role: 'assistant', content: SEARCH_ANSWER_CONTENT });
  });

  it('answers an Anthropic-style 400 naming the tool for a model no backend of which runs it', async () => {
    openai.reset();
    await assert.rejects(
      client.messages.create({ model: 'gpt-only', ...ASK }),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError &&
        (error.error as { type?: string; error?: { type?: string } }).error?.type ===
          'invalid_request_error' &&
        /web_search server tool is run by Anthropic backends and Claude models on Vertex AI only/.test(
          error.message,
        ),
    );
    assert.equal(openai.calls.length, 0);
  });

  it('does not fail a server-tool request over onto a backend that cannot run it', async () => {
    claude.reset();
    openai.reset();
    claude.next({ kind: 'status', status: 500 });
    await assert.rejects(
      client.messages.create({ model: 'claude-web', ...ASK }),
      (error: unknown) => error instanceof Anthropic.APIError && (error.status ?? 0) >= 500,
    );
    assert.equal(claude.calls.length, 1);
    assert.equal(openai.calls.length, 0);
  });
});
