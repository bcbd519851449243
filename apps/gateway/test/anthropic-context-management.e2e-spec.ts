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
});
