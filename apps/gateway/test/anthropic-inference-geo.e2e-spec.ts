import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnAnthropicBackend } from './anthropic-backend';

// A Messages client's `inference_geo` ("us": Claude runs only on US infrastructure, for
// data residency) through the all-in-one gateway to an Anthropic backend.

describe('inference_geo on /v1/messages to an Anthropic backend', () => {
  const upstream = new FakeAnthropicUpstream();
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    gateway = await startOnAnthropicBackend(upstream, 'claude', 'claude-opus-4-6');
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
  });

  const ask = (body: Record<string, unknown>) =>
    fetch(`${gateway.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': 'client-key',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({
        model: 'claude',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'hi' }],
        ...body,
      }),
    });

  it('reaches Anthropic as sent, plain and streamed', async () => {
    for (const stream of [false, true]) {
      upstream.reset();
      const response = await ask({ inference_geo: 'us', stream });
      assert.equal(response.status, 200, await response.clone().text());
      await response.text();
      assert.equal(upstream.calls[0]?.body.inference_geo, 'us');
    }
  });

  it('is refused in Anthropic’s shape when it is not a string, before any call', async () => {
    upstream.reset();
    const response = await ask({ inference_geo: 5 });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { type: string; error: { type: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(upstream.calls.length, 0);
  });
});
