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

  interface KindView {
    latencyMs: number | null;
    latencyAgeSeconds: number | null;
    stale: boolean;
  }
  interface LoadBalancingView {
    latencyMs: number | null;
    latencyAgeSeconds: number | null;
    byKind: { json: KindView; stream: KindView };
  }
  const adminGet = (path: string) => fetch(`http://127.0.0.1:${gateway.adminPort}${path}`);
  const views = async (): Promise<Record<string, LoadBalancingView>> => {
    const body = (await (await adminGet('/admin/backends')).json()) as {
      backends: { backend: string; loadBalancing: LoadBalancingView }[];
    };
    return Object.fromEntries(body.backends.map((b) => [b.backend, b.loadBalancing]));
  };
  /** The value of a series on /metrics; undefined when it is not exported. */
  const series = (text: string, name: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };

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
    let metrics = await (await adminGet('/metrics')).text();
    const ewma = 'ai_gateway_backend_latency_ewma_seconds{backend="lat-slow"}';
    assert.ok((series(metrics, ewma) ?? 0) >= 0.15, 'fresh: the figure is exported');
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    // Stale: the latency series is gone rather than repeating the old figure; the age of
    // each kind that answered says since when, and the admin view which kind is stale.
    metrics = await (await adminGet('/metrics')).text();
    assert.equal(series(metrics, ewma), undefined, 'a stale figure is not exported');
    const jsonAge = 'ai_gateway_backend_latency_age_seconds{backend="lat-slow",kind="json"}';
    assert.ok((series(metrics, jsonAge) ?? 0) >= 3, `json age ${series(metrics, jsonAge)}`);
    assert.equal(
      series(metrics, 'ai_gateway_backend_latency_age_seconds{backend="lat-slow",kind="stream"}'),
      undefined,
      'no stream answered: no age',
    );
    const stale = (await views())['lat-slow'];
    assert.equal(stale.latencyMs, null, 'the figure of all answers: not shown once stale');
    assert.equal(stale.byKind.json.stale, true);
    assert.ok((stale.byKind.json.latencyAgeSeconds ?? 0) >= 3);
    assert.equal(stale.byKind.stream.latencyAgeSeconds, null);
    assert.equal(stale.byKind.stream.stale, false, 'unmeasured, not stale');
    await ask(); // both figures stale: the turn's order, which a slow probe may win
    await ask();
    // Within two calls after the quiet the slow one was re-measured, and its figure is fresh.
    assert.equal(slow.calls.length, 2);
    const fresh = (await views())['lat-slow'];
    const age = fresh.latencyAgeSeconds;
    assert.ok(typeof age === 'number' && age >= 0 && age < 3, `lat-slow measured ${age} s ago`);
    assert.ok((fresh.latencyMs ?? 0) > 0, 're-measured: the figure is shown again');
    assert.equal(fresh.byKind.json.latencyAgeSeconds, age);
    assert.equal(fresh.byKind.json.stale, false);
    metrics = await (await adminGet('/metrics')).text();
    assert.ok((series(metrics, ewma) ?? 0) > 0, 're-measured: exported again');
    assert.ok((series(metrics, jsonAge) ?? Infinity) < 3);
  });
});
