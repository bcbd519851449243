// loadBalancing strategies through the all-in-one gateway (real process, the openai client,
// fake upstreams): with lowest-latency, once each backend is measured the calls go to the
// fast one (a 200 ms backend gets only the exploration share); with least-busy, a backend
// holding a long call leaves the next calls to the idle one. The admin port and /metrics
// show the strategy and the figures it read.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-lb-strategies-'));

interface LoadBalancingView {
  strategy: string;
  explorationPercent: number;
  inFlight: number | null;
  latencyMs: number | null;
  latencySamples: number;
  latencyAgeSeconds: number | null;
}

describe('loadBalancing strategies in the all-in-one gateway', () => {
  const slow = new FakeOpenAiUpstream('slow');
  const fast = new FakeOpenAiUpstream('fast');
  const busy = new FakeOpenAiUpstream('busy');
  const idle = new FakeOpenAiUpstream('idle');
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([slow.start(), fast.start(), busy.start(), idle.start()]);
    const backend = (name: string, upstream: FakeOpenAiUpstream, model: string) =>
      `  - {name: ${name}, provider: vllm, baseUrl: "${upstream.baseUrl}", model: ${name}-model, modelNameOverride: ${model}, priority: 0}`;
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: by-latency}
spec:
  loadBalancing: {strategy: lowest-latency}
  backends:
${backend('lat-slow', slow, 'gpt-latency')}
${backend('lat-fast', fast, 'gpt-latency')}
---
kind: AIGatewayRoute
metadata: {name: by-load}
spec:
  loadBalancing: {strategy: least-busy}
  backends:
${backend('busy-a', busy, 'gpt-busy')}
${backend('busy-b', idle, 'gpt-busy')}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'c', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([slow.stop(), fast.stop(), busy.stop(), idle.stop()]);
  });

  const ask = (model: string) =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
  const admin = async (path: string) => fetch(`http://127.0.0.1:${gateway.adminPort}${path}`);
  const balancing = async (): Promise<Record<string, LoadBalancingView>> => {
    const body = (await (await admin('/admin/backends')).json()) as {
      backends: { backend: string; loadBalancing: LoadBalancingView }[];
    };
    return Object.fromEntries(body.backends.map((b) => [b.backend, b.loadBalancing]));
  };

  it('lowest-latency: after warm-up most calls go to the fast backend', async () => {
    slow.always({ kind: 'delay', ms: 200 });
    for (let i = 0; i < 30; i++) assert.equal((await ask('gpt-latency')).model, 'gpt-latency');
    // Each is measured once (the slow one first, by turn), then only the 5% exploration
    // share is spread by weight: about 1 call in 40 to the slow one, not 1 in 2.
    assert.ok(slow.calls.length >= 1, 'the slow backend was measured');
    assert.ok(slow.calls.length <= 5, `slow got ${slow.calls.length} of 30`);
    assert.equal(fast.calls.length, 30 - slow.calls.length);

    const views = await balancing();
    assert.equal(views['lat-slow'].strategy, 'lowest-latency');
    assert.equal(views['lat-slow'].explorationPercent, 5);
    assert.ok((views['lat-slow'].latencyMs ?? 0) >= 150, `slow ${views['lat-slow'].latencyMs}`);
    assert.ok((views['lat-fast'].latencyMs ?? Infinity) < (views['lat-slow'].latencyMs ?? 0));
    assert.equal(views['lat-fast'].latencySamples, fast.calls.length);
    assert.equal(views['lat-fast'].inFlight, 0);
    // Just measured: seconds old (a figure a half-life old counts as unmeasured).
    assert.ok((views['lat-fast'].latencyAgeSeconds ?? Infinity) < 60);
    const metrics = await (await admin('/metrics')).text();
    assert.match(
      metrics,
      /^ai_gateway_backend_latency_ewma_seconds\{backend="lat-slow"\} 0\.[2-9]/m,
    );
    assert.match(metrics, /^ai_gateway_backend_in_flight\{backend="lat-fast"\} 0$/m);
  });

  it('least-busy: while one backend holds a call, the next calls go to the idle one', async () => {
    // busy-a holds its call until the checks below are done, however long they take.
    let release = () => {};
    busy.always({ kind: 'held', until: new Promise<void>((resolve) => (release = resolve)) });
    const held = ask('gpt-busy'); // the turn's first: busy-a
    while (busy.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    for (let i = 0; i < 6; i++) assert.equal((await ask('gpt-busy')).model, 'gpt-busy');
    const views = await balancing();
    const metrics = await (await admin('/metrics')).text();
    release();
    await held;
    assert.equal(views['busy-a'].strategy, 'least-busy');
    assert.equal(views['busy-a'].inFlight, 1);
    assert.match(metrics, /^ai_gateway_backend_in_flight\{backend="busy-a"\} 1$/m);
    assert.equal(busy.calls.length, 1, 'by weight alone, busy-a would have had 3 more');
    assert.equal(idle.calls.length, 6);
    assert.equal((await balancing())['busy-a'].inFlight, 0);
  });
});
