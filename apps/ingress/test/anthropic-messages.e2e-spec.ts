import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { FakeOpenAiToolUpstream, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-split-anthropic-'));

const LOOKUP_TOOL = {
  name: 'lookup_order',
  description: 'Finds an order by id',
  input_schema: {
    type: 'object' as const,
    properties: { order_id: { type: 'string' } },
    required: ['order_id'],
  },
};

function errorType(error: unknown): string | undefined {
  return ((error as { error?: unknown }).error as { error?: { type?: string } } | undefined)?.error
    ?.type;
}

describe('Anthropic Messages API across ingress, router and provider-adapter processes', () => {
  const tools = new FakeOpenAiToolUpstream();
  const plain = new FakeOpenAiUpstream('plain');
  let ingress: AppProcess;
  /** Every process up so far, so teardown stops them even when a later start fails. */
  const started: AppProcess[] = [];
  let client: Anthropic;

  before(async () => {
    await Promise.all([tools.start(), plain.start()]);
    tools.toolArguments = { order_id: 'A-1001' };
    const config = join(dir, 'split.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: split-anthropic}
spec:
  backends:
  - name: tools
    provider: vllm
    baseUrl: ${tools.baseUrl}
    model: upstream-tool-model
    modelNameOverride: claude-tools
  - name: plain
    provider: vllm
    baseUrl: ${plain.baseUrl}
    model: upstream-plain-model
    modelNameOverride: claude-plain
  failover:
    on: [rateLimit, timeout, error]
    retryDelay: 0s
`,
    );
    const shared = { AI_GATEWAY_CONFIG: config };
    ({ ingress } = await startSplitDataPlane(shared, dir, started));
    client = new Anthropic({ baseURL: ingress.baseUrl, apiKey: 'client-key', maxRetries: 0 });
  });

  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    await Promise.all([tools.stop(), plain.stop()]);
  });

  it('answers messages.create with the virtual model name and reported usage', async () => {
    plain.reset();
    const message = await client.messages.create({
      model: 'claude-plain',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(message.model, 'claude-plain');
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hello from the fake upstream.' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.input_tokens, 12);
    assert.equal(message.usage.output_tokens, 6);
    const sent = plain.calls[0]?.body;
    assert.equal(sent?.model, 'upstream-plain-model');
    assert.equal(sent?.max_tokens, 100);
    assert.deepEqual(sent?.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('streams through messages.stream(...).finalMessage()', async () => {
    const message = await client.messages
      .stream({
        model: 'claude-plain',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'stream please' }],
      })
      .finalMessage();
    assert.equal(message.model, 'claude-plain');
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hello from the fake upstream.' }]);
    assert.equal(message.usage.input_tokens, 12);
    assert.equal(message.usage.output_tokens, 6);
  });

  it('completes a streamed tool-use round trip', async () => {
    tools.reset();
    const question: Anthropic.MessageParam = { role: 'user', content: 'Where is order A-1001?' };
    const first = await client.messages
      .stream({
        model: 'claude-tools',
        max_tokens: 200,
        tools: [LOOKUP_TOOL],
        messages: [question],
      })
      .finalMessage();
    assert.equal(first.stop_reason, 'tool_use');
    const toolUse = first.content.find((block) => block.type === 'tool_use');
    assert.ok(toolUse?.type === 'tool_use');
    assert.equal(toolUse.name, 'lookup_order');
    assert.deepEqual(toolUse.input, { order_id: 'A-1001' });

    const second = await client.messages.create({
      model: 'claude-tools',
      max_tokens: 200,
      tools: [LOOKUP_TOOL],
      messages: [
        question,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'shipped' }],
        },
      ],
    });
    assert.deepEqual(second.content, [{ type: 'text', text: 'The tool said: shipped' }]);
  });

  it('raises an error, not a clean end, when the upstream stream breaks midway', async () => {
    plain.reset();
    plain.next({ kind: 'break-stream', afterChunks: 2 });
    await assert.rejects(
      client.messages
        .stream({
          model: 'claude-plain',
          max_tokens: 50,
          messages: [{ role: 'user', content: 'x' }],
        })
        .finalMessage(),
      (error: unknown) => error instanceof Anthropic.APIError && errorType(error) === 'api_error',
    );
  });

  it('answers bad input with Anthropic errors', async () => {
    await assert.rejects(
      client.messages.create({
        model: 'claude-does-not-exist',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
      }),
      (error: unknown) =>
        error instanceof Anthropic.NotFoundError && errorType(error) === 'not_found_error',
    );
    await assert.rejects(
      client.messages.create({
        model: 'claude-plain',
        messages: [{ role: 'user', content: 'x' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError && /max_tokens/.test(error.message),
    );
    const malformed = await fetch(`${ingress.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": ',
    });
    assert.equal(malformed.status, 400);
    assert.ok(malformed.headers.get('x-request-id'));
    assert.deepEqual(
      ((await malformed.json()) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
  });
});
