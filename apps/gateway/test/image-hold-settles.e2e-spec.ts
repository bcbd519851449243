// A chat prompt's images are held at what the serving model may bill for each (3,080 tokens
// on Mistral Small, 1,540 px at 28 px a token), not 1,600; the call's usage then settles
// that hold once: what the caller has left afterwards is the limit less the usage alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

/** A day's tokens per user: room for the first call's usage and a second call's hold. */
const LIMIT = 30_000;
const USAGE = { prompt_tokens: 2_500, completion_tokens: 5, total_tokens: 2_505 };
const IMAGE = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };

describe('all-in-one gateway: an image on Mistral Small is held at its most, and settled', () => {
  const mistral = new FakeOpenAiUpstream('mistral');
  let gateway: AppProcess;

  before(async () => {
    await mistral.start();
    mistral.reportUsage(USAGE);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: vision}
spec:
  backends:
  - {name: mistral, provider: openai-compatible, baseUrl: "${mistral.baseUrl}", model: mistral-small-latest, modelNameOverride: vision}
  tokenBudget: {perUser: {limit: ${LIMIT}, period: 1d}}
`,
    );
  });

  after(async () => {
    await gateway?.stop();
    await mistral.stop();
  });

  const ask = async (images: number) => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'carol' },
      body: JSON.stringify({
        model: 'vision',
        max_tokens: 10,
        messages: [
          {
            role: 'user',
            content: [{ type: 'text', text: 'Compare.' }, ...Array(images).fill(IMAGE)],
          },
        ],
      }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return LIMIT - Number(response.headers.get('x-ratelimit-remaining-tokens'));
  };

  const applied = async () =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
      'ai_gateway_budget_usage_events_total',
      { result: 'applied' },
    );

  it('holds each image at 3,080 tokens, then leaves the usage alone once settled', async () => {
    const held = await ask(4);
    assert.ok(held >= 4 * 3_080, `held ${held}`);
    for (let i = 0; i < 150 && (await applied()) < 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await applied(), 1);
    // The same request again: its own hold, beside the first call's usage and nothing more.
    assert.equal(await ask(4), USAGE.total_tokens + held);
  });
});
