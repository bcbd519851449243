import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnAnthropicBackend } from './anthropic-backend';

// A Messages client's strict tool use (`strict: true` on a tool: Anthropic guarantees the
// call's input follows its schema) through the all-in-one gateway to an Anthropic backend.

describe('strict tools on /v1/messages to an Anthropic backend', () => {
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

  const input_schema = {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  };

  it('reach Anthropic strict, plain and streamed, and the call comes back', async () => {
    for (const stream of [false, true]) {
      upstream.reset();
      const response = await fetch(`${gateway.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'client-key',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({
          model: 'claude',
          max_tokens: 64,
          stream,
          tools: [{ name: 'get_weather', input_schema, strict: true }],
          messages: [{ role: 'user', content: 'Weather in Paris?' }],
        }),
      });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      assert.match(text, /get_weather/);
      assert.deepEqual(upstream.calls[0]?.body.tools, [
        { name: 'get_weather', input_schema, strict: true },
      ]);
    }
  });
});
