// Claude Code's WebSearch through the gateway: a Messages request carrying Anthropic's
// web_search server tool reaches an Anthropic backend as the client wrote it, and its
// answer comes back with the server_tool_use and web_search_tool_result blocks, the cited
// text, stop_reason pause_turn and usage.server_tool_use, plain and streamed, through the
// official SDK. A chain never sends it to a backend that cannot run it, and a model with
// no such backend answers an Anthropic-style 400 naming the tool.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { FakeAnthropicWebSearch, SEARCH_ANSWER_CONTENT } from './fake-anthropic-web-search';

const WEB_SEARCH = {
  type: 'web_search_20250305' as const,
  name: 'web_search' as const,
  max_uses: 5,
};
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
    const message = await client.messages.create({ model: 'claude-web', ...ASK });
    assert.deepEqual(message.content, SEARCH_ANSWER_CONTENT);
    assert.equal(message.stop_reason, 'pause_turn');
    assert.equal(message.usage.server_tool_use?.web_search_requests, 1);
    // The OpenAI-format backend first in the chain was never tried.
    assert.equal(openai.calls.length, 0);
    assert.equal(claude.calls.length, 1);
    assert.deepEqual(claude.calls[0].body.tools, [WEB_SEARCH]);
    // The search is counted (billed per request beside the tokens).
    assert.equal(await searchesCounted(), counted + 1);
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
