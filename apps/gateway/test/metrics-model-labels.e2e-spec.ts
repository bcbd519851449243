import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

// A wildcard backend serves whatever model a client names, so clients choose the model label's
// values. The cap (AI_GATEWAY_METRICS_MAX_MODELS) bounds them; the models the config names
// must keep their own series however many names clients invented first.

/** The distinct values of `label` on the samples of `metric`. */
function labelValues(text: string, metric: string, label: string): Set<string> {
  const values = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const value = new RegExp(`[{,]${label}="([^"]*)"`).exec(line)?.[1];
    if (value !== undefined) values.add(value);
  }
  return values;
}

describe('model labels under invented model names', () => {
  const upstream = new FakeOpenAiUpstream('any-model');
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: named}
spec:
  backends:
  - {name: named, provider: openai-compatible, baseUrl: "${upstream.baseUrl}", model: gpt-4o-2024-08-06, modelNameOverride: gpt-4o}
---
kind: AIGatewayRoute
metadata: {name: wild}
spec:
  backends:
  - {name: wild, provider: openai-compatible, baseUrl: "${upstream.baseUrl}"}
`,
      { AI_GATEWAY_MISSING_SECRETS: 'warn', AI_GATEWAY_METRICS_MAX_MODELS: '3' },
    );
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it("keeps the config's models on their own series after clients filled the cap", async () => {
    const chat = async (model: string) => {
      const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(response.status, 200, await response.text());
    };
    // More invented names than the cap, all served by the wildcard backend.
    for (let i = 0; i < 5; i++) await chat(`invented-${i}`);
    await chat('gpt-4o');

    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const models = labelValues(text, 'ai_gateway_tokens_total', 'model');
    assert.ok(models.has('gpt-4o'), `gpt-4o has its own series: ${[...models].join(', ')}`);
    // The invented names stay bounded: three of their own, the rest folded.
    assert.ok(models.has('__other__'));
    assert.equal([...models].filter((model) => model.startsWith('invented-')).length, 3);
    const served = labelValues(text, 'gen_ai_client_token_usage_count', 'gen_ai_response_model');
    assert.ok(served.has('gpt-4o-2024-08-06'), `the upstream model: ${[...served].join(', ')}`);
  });
});
