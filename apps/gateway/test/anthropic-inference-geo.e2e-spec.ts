import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnAnthropicBackend } from './anthropic-backend';

const COST_HEADER = 'x-ai-gateway-cost-usd';

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

  it('answers where Claude ran (usage.inference_geo), plain and streamed', async () => {
    upstream.reset();
    const plain = (await (await ask({ inference_geo: 'us' })).json()) as {
      usage: { inference_geo?: string };
    };
    assert.equal(plain.usage.inference_geo, 'us');
    const streamed = await (await ask({ inference_geo: 'us', stream: true })).text();
    const usages = streamed
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map(
        (line) => JSON.parse(line.slice(6)) as { type: string; usage?: { inference_geo?: string } },
      )
      .filter((event) => event.type === 'message_delta');
    assert.equal(usages[0]?.usage?.inference_geo, 'us');
  });

  it("bills US-only inference at Anthropic's 1.1 times the token price", async () => {
    upstream.reset();
    const costOf = async (body: Record<string, unknown>): Promise<number> => {
      const response = await ask(body);
      await response.text();
      return Number(response.headers.get(COST_HEADER));
    };
    const anywhere = await costOf({});
    const usOnly = await costOf({ inference_geo: 'us' });
    assert.ok(anywhere > 0, 'claude-opus-4-6 has a catalog price');
    // The header is rounded to a tenth of a micro-dollar.
    assert.ok(Math.abs(usOnly - anywhere * 1.1) < 2e-7, `${usOnly} vs ${anywhere} x 1.1`);
    assert.equal(await costOf({ inference_geo: 'global' }), anywhere);
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
