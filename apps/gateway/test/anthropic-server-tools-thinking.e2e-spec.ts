// Claude's interleaved thinking beside Anthropic's server tools, through the gateway with
// the official SDK: a thinking block on a search's result keeps its place among the
// server_tool_use and *_tool_result blocks in the answer (plain and streamed) and in the
// turn sent back, where Anthropic checks the order. A route's prompt rules
// (security.promptValidation.redact) and answer rules (security.responseValidation) read
// the server tools' readable text (the query, a result's title, a fetched page, the cited
// text); encrypted content, URLs and the signed or redacted thinking pass as they came.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import {
  FakeAnthropicThinkingSearch,
  thinkingSearchContent,
} from './fake-anthropic-thinking-search';

const TOOLS = [
  { type: 'web_search_20250305' as const, name: 'web_search' as const },
  { type: 'web_fetch_20250910' as const, name: 'web_fetch' as const },
];
const ASK = {
  max_tokens: 2048,
  thinking: { type: 'enabled' as const, budget_tokens: 1024 },
  tools: TOOLS,
  messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }],
};
const MASK = '[REDACTED:email]';
/** The fake's answer as Anthropic wrote it, and as the email rules leave it. */
const ANSWER = thinkingSearchContent();
const MASKED = thinkingSearchContent(MASK);

describe('Interleaved thinking and redaction beside Anthropic server tools', () => {
  const claude = new FakeAnthropicThinkingSearch();
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await claude.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: thinking-search}
spec:
  backends:
  - {name: claude, provider: anthropic, baseUrl: "${claude.origin}", model: claude-sonnet-4-5, modelNameOverride: claude-search, auth: {apiKeyRef: {name: anthropic-key}}}
---
kind: AIGatewayRoute
metadata: {name: thinking-search-guarded}
spec:
  backends:
  - {name: claude-guarded, provider: anthropic, baseUrl: "${claude.origin}", model: claude-sonnet-4-5, modelNameOverride: claude-guarded, auth: {apiKeyRef: {name: anthropic-key}}}
  security:
    promptValidation:
      redact: {detectors: [email]}
    responseValidation:
      redact: {detectors: [email]}
`,
      { AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test' },
    );
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await claude.stop();
  });

  /** The assistant turn the last call to the fake sent back. */
  const turnSentBack = (): unknown => {
    const messages = claude.calls.at(-1)?.body.messages as { role: string }[];
    return messages.at(-1);
  };

  it('answers the thinking in its places among the server tool blocks, plain and streamed', async () => {
    claude.reset();
    const plain = await client.messages.create({ model: 'claude-search', ...ASK });
    assert.deepEqual(plain.content, ANSWER);
    assert.equal(plain.stop_reason, 'pause_turn');
    const stream = client.messages.stream({ model: 'claude-search', ...ASK });
    const types: string[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_start') types.push(event.content_block.type);
    });
    const streamed = await stream.finalMessage();
    assert.deepEqual(
      types,
      ANSWER.map((block) => block.type),
    );
    assert.deepEqual(streamed.content, ANSWER);
  });

  it('sends a paused turn back with its thinking where Claude thought it', async () => {
    claude.reset();
    const paused = await client.messages.create({ model: 'claude-search', ...ASK });
    const next = await client.messages.create({
      model: 'claude-search',
      ...ASK,
      messages: [...ASK.messages, { role: 'assistant', content: paused.content }],
    });
    assert.equal(next.stop_reason, 'end_turn');
    assert.deepEqual(turnSentBack(), { role: 'assistant', content: ANSWER });
  });

  it("masks a guarded answer's query, titles, fetched page and cited text, plain and streamed", async () => {
    claude.reset();
    const plain = await client.messages.create({ model: 'claude-guarded', ...ASK });
    assert.deepEqual(plain.content, MASKED);
    const streamed = await client.messages
      .stream({ model: 'claude-guarded', ...ASK })
      .finalMessage();
    assert.deepEqual(streamed.content, MASKED);
  });

  it('masks the server tool text of a turn sent back on a guarded route, in its order', async () => {
    claude.reset();
    const next = await client.messages.create({
      model: 'claude-guarded',
      ...ASK,
      // As a client keeps it: the SDK's blocks are the ones Anthropic answered.
      messages: [
        ...ASK.messages,
        { role: 'assistant', content: ANSWER as unknown as Anthropic.ContentBlockParam[] },
      ],
    });
    assert.equal(next.stop_reason, 'end_turn');
    assert.deepEqual(turnSentBack(), { role: 'assistant', content: MASKED });
  });
});
