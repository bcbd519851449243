import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnAnthropicBackend } from './anthropic-backend';

// A Messages client's context editing (`context_management`, with its beta), as Claude Code
// and agents send it, through the all-in-one gateway to an Anthropic backend.

const BETA = 'context-management-2025-06-27';

describe('context_management on /v1/messages to an Anthropic backend', () => {
  const upstream = new FakeAnthropicUpstream();
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    gateway = await startOnAnthropicBackend(upstream, 'claude');
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
  });

  it('reaches Anthropic as sent, with its beta, plain and streamed', async () => {
    const contextManagement = {
      edits: [
        { type: 'clear_thinking_20251015', keep: 'all' },
        { type: 'clear_tool_uses_20250919', trigger: { type: 'input_tokens', value: 30000 } },
      ],
    };
    for (const stream of [false, true]) {
      upstream.reset();
      const response = await fetch(`${gateway.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'client-key',
          'anthropic-version': '2023-06-01',
          'anthropic-beta': BETA,
        },
        body: JSON.stringify({
          model: 'claude',
          max_tokens: 4096,
          stream,
          thinking: { type: 'enabled', budget_tokens: 2048 },
          context_management: contextManagement,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      const call = upstream.calls[0];
      assert.deepEqual(call?.body.context_management, contextManagement);
      assert.equal(call?.headers['anthropic-beta'], BETA);
    }
  });

  it('answers the edits Anthropic applied (context_management.applied_edits), plain and streamed', async () => {
    const applied = [
      { type: 'clear_tool_uses_20250919', cleared_tool_uses: 3, cleared_input_tokens: 12000 },
    ];
    const ask = (stream: boolean) =>
      fetch(`${gateway.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'client-key',
          'anthropic-version': '2023-06-01',
          'anthropic-beta': BETA,
        },
        body: JSON.stringify({
          model: 'claude',
          max_tokens: 256,
          stream,
          context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
    upstream.reset();
    upstream.applyEdits(applied);
    const plain = await ask(false);
    const message = (await plain.json()) as { context_management?: unknown };
    assert.deepEqual(message.context_management, { applied_edits: applied });

    upstream.reset();
    upstream.applyEdits(applied);
    const streamed = await (await ask(true)).text();
    const delta = sseEvents(streamed).find((event) => event.type === 'message_delta');
    assert.deepEqual(delta?.context_management, { applied_edits: applied });
  });
});

/** The events of an SSE body, parsed. */
function sseEvents(body: string): Record<string, unknown>[] {
  return body
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)) as Record<string, unknown>);
}
