// lowest-latency's figures age (AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS): a backend measured
// slow once, then left alone (no exploration share here), is tried again once its figure is
// a half-life old, rather than judged on that one measure for as long as the gateway runs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-lb-ageing-'));

describe('lowest-latency with a 3 s latency half-life in the all-in-one gateway', () => {
  const slow = new FakeOpenAiUpstream('slow');
  const fast = new FakeOpenAiUpstream('fast');
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([slow.start(), fast.start()]);
    const backend = (name: string, upstream: FakeOpenAiUpstream) =>
      `  - {name: ${name}, provider: vllm, baseUrl: "${upstream.baseUrl}", model: ${name}-model, modelNameOverride: gpt-latency, priority: 0}`;
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: by-latency}
spec:
  loadBalancing: {strategy: lowest-latency, explorationPercent: 0}
  backends:
${backend('lat-slow', slow)}
${backend('lat-fast', fast)}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS: '3', // short, yet longer than the warm-up on a busy box
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'c', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([slow.stop(), fast.stop()]);
  });

  const ask = () =>
    client.chat.completions.create({
      model: 'gpt-latency',
      messages: [{ role: 'user', content: 'hi' }],
    });

  it('retries the slow backend once its figure is stale, then leaves it again', async () => {
    slow.always({ kind: 'delay', ms: 150 });
    await ask();
    await ask(); // each measured once, by turn
    assert.equal(slow.calls.length, 1);
    for (let i = 0; i < 3; i++) await ask();
    assert.equal(slow.calls.length, 1, 'a fresh slow figure: the fast backend takes the calls');
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    await ask(); // both figures stale: the turn's order, which a slow probe may win
    await ask();
    // Within two calls after the quiet the slow one was re-measured, and its figure is fresh.
    assert.equal(slow.calls.length, 2);
    const view = (await (
      await fetch(`http://127.0.0.1:${gateway.adminPort}/admin/backends`)
    ).json()) as {
      backends: { backend: string; loadBalancing: { latencyAgeSeconds: number | null } }[];
    };
    const age = view.backends.find((b) => b.backend === 'lat-slow')?.loadBalancing
      .latencyAgeSeconds;
    assert.ok(typeof age === 'number' && age >= 0 && age < 3, `lat-slow measured ${age} s ago`);
  });
});
