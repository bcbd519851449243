import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnAnthropicBackend } from './anthropic-backend';

// What Claude Code sends with ANTHROPIC_BASE_URL pointing at the gateway, through the
// official SDK, against a fake Anthropic backend.

const INTERLEAVED = 'interleaved-thinking-2025-05-14';

describe('Claude Code on an Anthropic backend', () => {
  const upstream = new FakeAnthropicUpstream();
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await upstream.start();
    gateway = await startOnAnthropicBackend(upstream, 'claude-code');
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
  });

  /** The error a plain "hi" to the gateway ends in (undefined when it is answered). */
  const failureOfHi = (): Promise<unknown> =>
    client.messages
      .create({ model: 'claude-code', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );

  it('takes a thinking budget past max_tokens with interleaved thinking, and sends the beta on', async () => {
    upstream.reset();
    // With interleaved thinking the budget spans the whole turn, so it may exceed max_tokens.
    const ask = {
      model: 'claude-code',
      max_tokens: 2048,
      thinking: { type: 'enabled' as const, budget_tokens: 4096 },
      betas: ['claude-code-20250219', INTERLEAVED],
      messages: [{ role: 'user' as const, content: 'think hard' }],
    };
    const message = await client.beta.messages.create(ask);
    assert.equal(message.type, 'message');
    assert.ok(message.content.some((block) => block.type === 'thinking'));
    const call = upstream.calls[0];
    assert.deepEqual(call?.body.thinking, { type: 'enabled', budget_tokens: 4096 });
    assert.equal(call?.body.max_tokens, 2048);
    assert.equal(call?.headers['anthropic-beta'], `claude-code-20250219,${INTERLEAVED}`);
    // Counting takes the same body.
    const counted = await client.beta.messages.countTokens({
      model: ask.model,
      thinking: ask.thinking,
      betas: ask.betas,
      messages: ask.messages,
    });
    assert.ok(counted.input_tokens > 0);
    // Without the beta it stays the client's error, before any call.
    upstream.reset();
    const { betas: _betas, ...plain } = ask;
    await assert.rejects(
      client.messages.create(plain),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError && /thinking\.budget_tokens/.test(error.message),
    );
    assert.equal(upstream.calls.length, 0);
  });
  it("answers Anthropic's own 529 overloaded_error as itself, which clients retry on", async () => {
    upstream.reset();
    upstream.next({
      kind: 'status',
      status: 529,
      body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    });
    const failure = await failureOfHi();
    assert.ok(failure instanceof Anthropic.APIError, String(failure));
    assert.equal(failure.status, 529);
    assert.equal((failure.error as { error?: { type?: string } }).error?.type, 'overloaded_error');
  });

  it("keeps Anthropic's message of a prompt too long, which Claude Code compacts on", async () => {
    upstream.reset();
    const message = 'prompt is too long: 210000 tokens > 200000 maximum';
    upstream.next({
      kind: 'status',
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message } },
    });
    const failure = await failureOfHi();
    assert.ok(failure instanceof Anthropic.BadRequestError, String(failure));
    assert.equal(failure.type, 'invalid_request_error');
    assert.match(failure.message, /prompt is too long: 210000 tokens > 200000 maximum/);
  });
  it('answers output_config.format with JSON of that schema, plain and streamed', async () => {
    upstream.reset();
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    };
    const ask = {
      model: 'claude-code',
      max_tokens: 256,
      output_config: { format: { type: 'json_schema' as const, schema } },
      messages: [{ role: 'user' as const, content: 'Which city?' }],
    };
    const message = await client.messages.create(ask);
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    assert.deepEqual(JSON.parse(text), { city: 'Paris' });
    const streamed = await client.messages.stream(ask).finalMessage();
    const streamedText = streamed.content
      .map((block) => (block.type === 'text' ? block.text : ''))
      .join('');
    assert.deepEqual(JSON.parse(streamedText), { city: 'Paris' });
    // The format reached Claude 4.5 as sent, for the model to answer in natively.
    assert.deepEqual(upstream.calls[0]?.body.output_config, ask.output_config);
    assert.equal(upstream.calls[0]?.body.tools, undefined);

    // With thinking, which a forced answer tool would have cost (Anthropic refuses thinking
    // with a forced tool), and beside the client's own tools.
    upstream.reset();
    const weather = {
      name: 'get_weather',
      input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } },
    };
    const thoughtOut = await client.messages.create({
      ...ask,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      tools: [weather],
    });
    assert.deepEqual(
      thoughtOut.content.map((block) => block.type),
      ['thinking', 'text'],
    );
    const sent = upstream.calls[0]?.body;
    assert.deepEqual(sent?.thinking, { type: 'enabled', budget_tokens: 2048 });
    assert.deepEqual(sent?.output_config, ask.output_config);
    assert.deepEqual(
      (sent?.tools as { name: string }[] | undefined)?.map((tool) => tool.name),
      ['get_weather'],
    );
  });

  it('sends output_config.task_budget as sent, with its beta', async () => {
    upstream.reset();
    const beta = 'task-budgets-2026-03-13';
    const output_config = { effort: 'high', task_budget: { type: 'tokens', total: 64000 } };
    const response = await fetch(`${gateway.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': 'client-key',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': beta,
      },
      body: JSON.stringify({
        model: 'claude-code',
        max_tokens: 64,
        output_config,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(response.status, 200, await response.text());
    const call = upstream.calls[0];
    assert.deepEqual(
      (call?.body.output_config as { task_budget?: unknown } | undefined)?.task_budget,
      output_config.task_budget,
    );
    assert.equal(call?.headers['anthropic-beta'], beta);
  });

  it('refuses mcp_servers and container, which it cannot serve, instead of dropping them', async () => {
    upstream.reset();
    const base = {
      model: 'claude-code',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    };
    const fields = {
      mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'example' }],
      container: 'container_011',
    };
    for (const [field, value] of Object.entries(fields)) {
      const response = await fetch(`${gateway.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ ...base, [field]: value }),
      });
      assert.equal(response.status, 400, field);
      const body = (await response.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, new RegExp(`^${field}: `));
    }
    assert.equal(upstream.calls.length, 0);
  });
  it('carries a Claude Code turn whole: cache marks with ttl, signed thinking, tool use, user id, betas', async () => {
    upstream.reset();
    const hour = { type: 'ephemeral' as const, ttl: '1h' as const };
    const tool = {
      name: 'Bash',
      description: 'Runs a command',
      input_schema: { type: 'object' as const, properties: { command: { type: 'string' } } },
      cache_control: hour,
    };
    const signedThinking = { type: 'thinking' as const, thinking: 'Run ls.', signature: 'sig+/=' };
    const ask = {
      model: 'claude-code',
      max_tokens: 32000,
      thinking: { type: 'enabled' as const, budget_tokens: 31999 },
      system: [
        { type: 'text' as const, text: "You are Claude Code, Anthropic's official CLI." },
        { type: 'text' as const, text: 'Project notes.', cache_control: hour },
      ],
      tools: [tool],
      metadata: { user_id: 'user_abc_account_def_session_0f0f' },
      messages: [
        { role: 'user' as const, content: 'List files' },
        {
          role: 'assistant' as const,
          content: [
            signedThinking,
            { type: 'redacted_thinking' as const, data: 'EmwKAhgB' },
            { type: 'tool_use' as const, id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
          ],
        },
        {
          role: 'user' as const,
          content: [
            {
              type: 'tool_result' as const,
              tool_use_id: 'toolu_1',
              content: 'a.txt',
              cache_control: { type: 'ephemeral' as const },
            },
          ],
        },
      ],
    };
    const events: string[] = [];
    const stream = client.beta.messages.stream({ ...ask, betas: [INTERLEAVED] });
    stream.on('streamEvent', (event) => {
      events.push(event.type === 'content_block_delta' ? event.delta.type : event.type);
    });
    const message = await stream.finalMessage();
    const sent = upstream.calls[0]?.body ?? {};
    assert.deepEqual(sent.system, ask.system);
    assert.deepEqual(sent.tools, [tool]);
    assert.deepEqual(sent.metadata, ask.metadata);
    const turns = sent.messages as { role: string; content: unknown }[];
    assert.deepEqual(turns[1]?.content, ask.messages[1]?.content);
    assert.deepEqual(turns[2]?.content, ask.messages[2]?.content);
    assert.equal(upstream.calls[0]?.headers['anthropic-beta'], INTERLEAVED);
    // The answer streams back as Anthropic streams it, signature and cache counts included.
    assert.deepEqual(events.slice(0, 4), [
      'message_start',
      'content_block_start',
      'thinking_delta',
      'thinking_delta',
    ]);
    assert.ok(events.includes('signature_delta'));
    assert.ok(events.includes('input_json_delta'));
    assert.deepEqual(events.slice(-2), ['message_delta', 'message_stop']);
    const [thinking] = message.content;
    assert.equal(thinking?.type === 'thinking' ? thinking.signature : '', 'sig-fake-1');
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual(
      [message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens],
      [100, 5],
    );
  });
  it("passes a rate limit's retry-after on, as the SDK waits by it", async () => {
    upstream.reset();
    upstream.next({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    const failure = await failureOfHi();
    assert.ok(failure instanceof Anthropic.RateLimitError, String(failure));
    assert.equal(failure.type, 'rate_limit_error');
    assert.equal(failure.headers?.get('retry-after'), '7');
  });
});
