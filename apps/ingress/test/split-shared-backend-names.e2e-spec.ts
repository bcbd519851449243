// Two routes that each name a backend `openai`, on different upstreams and at different
// prices, across the split deployment's internal hops: the router names the route of the
// backend it calls, so the provider-adapter calls that route's upstream, and its usage
// event (which names the route) and the ingress's cost header price the call at that
// route's price, not at the first route naming `openai`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';
import { adapterUsageEvents } from './adapter-usage-events';

const COST_HEADER = 'x-ai-gateway-cost-usd';
/** The fake's embedding usage: 4 input tokens, priced at $0.5 per 1k on the embed route. */
const EMBED_DOLLARS = (4 / 1000) * 0.5;

describe('split deployment: a backend name shared by two routes', () => {
  const chatUpstream = new FakeOpenAiUpstream('chat');
  const embedUpstream = new FakeOpenAiUpstream('embed');
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-shared-names-'));
  const services: AppProcess[] = [];
  let ingressUrl = '';

  before(async () => {
    await chatUpstream.start();
    await embedUpstream.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - {name: openai, provider: vllm, baseUrl: '${chatUpstream.baseUrl}', model: gpt-4o-mini}
  costControl:
    modelPricing:
      gpt-4o-mini: {inputPer1k: 1, outputPer1k: 1}
      text-embedding-3-small: {inputPer1k: 9, outputPer1k: 9}
---
kind: AIGatewayRoute
metadata: {name: embed}
spec:
  backends:
  - {name: openai, provider: vllm, baseUrl: '${embedUpstream.baseUrl}', model: text-embedding-3-small}
  costControl:
    modelPricing:
      text-embedding-3-small: {inputPer1k: 0.5, outputPer1k: 0}
`,
    );
    const { ingress } = await startSplitDataPlane({ AI_GATEWAY_CONFIG: path }, dir, services);
    ingressUrl = ingress.baseUrl;
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await chatUpstream.stop();
    await embedUpstream.stop();
  });

  it("calls the embed route's upstream and prices the call at the embed route's price", async () => {
    const response = await fetch(`${ingressUrl}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'alice' },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: 'hello' }),
    });
    await response.text();
    assert.equal(response.status, 200);
    assert.equal(Number(response.headers.get(COST_HEADER)), EMBED_DOLLARS);
    assert.equal(embedUpstream.calls.length, 1);
    assert.equal(chatUpstream.calls.length, 0, "not the chat route's backend of that name");

    const usage = await eventually(
      'the usage event',
      async () => (await adapterUsageEvents(dir, 1))[0],
    );
    assert.equal(usage.backend, 'openai');
    assert.equal(usage.route, 'embed');
    assert.ok(
      Math.abs(Number(usage.costDollars) - EMBED_DOLLARS) < 1e-12,
      `${String(usage.costDollars)}`,
    );
  });
});
