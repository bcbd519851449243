// The drain deadline in the split deployment: a stopping router starts no further failover
// attempt past AI_GATEWAY_DRAIN_TIMEOUT_MS and answers the call still waiting with its 503,
// which the ingress passes on in the OpenAI shape; a stopping ingress ends a stream under way
// with its error event. Each exits on its own, before a SIGKILL could reset a connection.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@aigw/testing';
import { HangingUpstream, streamReadThroughStop } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-split-drain-'));
const DRAIN_MS = 800;
/** Past the drain deadline: without it the router would try the next backend after it. */
const REQUEST_TIMEOUT_S = 2;

describe('split deployment: calls still running at the drain deadline', () => {
  const upstream = new HangingUpstream();
  let started: AppProcess[] = [];
  let config: string;

  before(async () => {
    await upstream.start();
    const backend = (name: string, priority: number) =>
      `  - {name: ${name}, provider: vllm, baseUrl: "${upstream.baseUrl}", model: m, modelNameOverride: chain, priority: ${priority}, requestTimeout: ${REQUEST_TIMEOUT_S}s, firstByteTimeout: ${REQUEST_TIMEOUT_S}s, streamIdleTimeout: 60s}`;
    config = join(dir, 'split.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: chain}
spec:
  backends:
${backend('first', 0)}
${backend('second', 1)}
${backend('third', 2)}
  failover: {on: [timeout, error], retryDelay: 0s}
`,
    );
  });
  afterEach(async () => {
    await Promise.all(started.map((app) => app.stop('SIGKILL')));
    started = [];
  });
  after(() => upstream.stop());

  const start = (run: string) =>
    startSplitDataPlane(
      { AI_GATEWAY_CONFIG: config, AI_GATEWAY_DRAIN_TIMEOUT_MS: String(DRAIN_MS) },
      join(dir, run),
      started,
    );
  const ask = (ingress: AppProcess, stream: boolean) =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer c' },
      body: JSON.stringify({ model: 'chain', stream, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('a stopping router answers the call waiting on its chain with a 503 at the deadline, through the ingress', async () => {
    const { router, ingress } = await start('router-stop');
    const callsBefore = upstream.calls;
    const answered = ask(ingress, false);
    await until('the first backend to be called', () => upstream.calls === callsBefore + 1);
    const stopped = performance.now();
    router.kill('SIGTERM');
    const response = await answered;
    const tookMs = performance.now() - stopped;
    const body = (await response.json()) as { error?: { type?: string; message?: string } };
    assert.equal(response.status, 503, JSON.stringify(body));
    assert.equal(body.error?.type, 'service_unavailable');
    assert.match(body.error?.message ?? '', /drain deadline/);
    assert.equal(response.headers.get('retry-after'), '1');
    assert.ok(tookMs >= DRAIN_MS * 0.9, `answered ${Math.round(tookMs)} ms after the stop`);
    assert.ok(
      tookMs < REQUEST_TIMEOUT_S * 1000,
      `answered ${Math.round(tookMs)} ms after the stop`,
    );
    assert.deepEqual(await router.exited, { code: 0, signal: null });
    assert.equal(upstream.calls, callsBefore + 1, 'no further backend was tried');
    await until('the cancelled call to be hung up', () => upstream.waiting === 0);
  });

  it('a stopping ingress ends a stream under way with its error event at the deadline', async () => {
    const { ingress } = await start('ingress-stop');
    const response = await ask(ingress, true);
    assert.equal(response.status, 200);
    const text = await streamReadThroughStop(response, () => ingress.kill('SIGTERM'));
    assert.match(text, /^data: \{"error":\{.*"type":"service_unavailable"/m, text);
    assert.match(text, /drain deadline/, text);
    assert.ok(!text.includes('[DONE]'), text);
    assert.deepEqual(await ingress.exited, { code: 0, signal: null });
    // The hop was cancelled: the router and the provider-adapter let go of the upstream call.
    await until('the cut stream to be hung up upstream', () => upstream.waiting === 0);
  });
});
