// A stopping gateway (SIGTERM) gives the calls in flight AI_GATEWAY_DRAIN_TIMEOUT_MS, then
// ends them itself: a JSON call waiting on a failover chain gets the OpenAI-style 503 (no
// further backend is tried past the deadline), a started stream ends in its error event
// (never a clean-looking end), and the process exits on its own rather than at a SIGKILL
// that would reset the clients' connections.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '@aigw/testing';
import { HangingUpstream, streamReadThroughStop } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { hasErrorEvent, looksFinished } from './fuzz/answer-checks';

const DRAIN_MS = 800;
/**
 * Each backend's timeout: past the drain deadline, so without it a second backend would be
 * tried after the first, and the three in turn (6 s) would hold the stop that long.
 */
const REQUEST_TIMEOUT_S = 2;

describe('a stopping gateway ends the calls still running at its drain deadline', () => {
  const upstream = new HangingUpstream();
  let gateway: AppProcess | undefined;

  before(async () => {
    await upstream.start();
  });
  afterEach(async () => {
    await gateway?.stop('SIGKILL');
    gateway = undefined;
  });
  after(() => upstream.stop());

  const start = async () => {
    const backend = (name: string, priority: number) =>
      `  - {name: ${name}, provider: vllm, baseUrl: "${upstream.baseUrl}", model: m, modelNameOverride: chain, priority: ${priority}, requestTimeout: ${REQUEST_TIMEOUT_S}s, firstByteTimeout: ${REQUEST_TIMEOUT_S}s, streamIdleTimeout: 60s}`;
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: chain}
spec:
  backends:
${backend('first', 0)}
${backend('second', 1)}
${backend('third', 2)}
  failover: {on: [timeout, error], retryDelay: 0s}
`,
      { AI_GATEWAY_DRAIN_TIMEOUT_MS: String(DRAIN_MS), AI_GATEWAY_MISSING_SECRETS: 'warn' },
    );
    return gateway;
  };

  const ask = (running: AppProcess, stream: boolean) =>
    fetch(`${running.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'chain',
        stream,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });

  it('answers a JSON call waiting on its chain with a 503 at the deadline, and tries no further backend', async () => {
    const running = await start();
    const callsBefore = upstream.calls;
    const answered = ask(running, false);
    await until('the first backend to be called', () => upstream.calls === callsBefore + 1);
    const stopped = performance.now();
    running.kill('SIGTERM');
    const response = await answered;
    const tookMs = performance.now() - stopped;
    const body = (await response.json()) as { error?: { type?: string; message?: string } };
    assert.equal(response.status, 503, JSON.stringify(body));
    assert.equal(body.error?.type, 'service_unavailable');
    assert.match(body.error?.message ?? '', /drain deadline \(AI_GATEWAY_DRAIN_TIMEOUT_MS/);
    assert.equal(response.headers.get('retry-after'), '1');
    // At the deadline, not at the first backend's timeout (bounds loose for a busy machine).
    assert.ok(tookMs >= DRAIN_MS * 0.9, `answered ${Math.round(tookMs)} ms after the stop`);
    assert.ok(
      tookMs < REQUEST_TIMEOUT_S * 1000,
      `answered ${Math.round(tookMs)} ms after the stop`,
    );
    const ended = await running.exited;
    gateway = undefined;
    assert.deepEqual(ended, { code: 0, signal: null }, 'exited by itself, not at a SIGKILL');
    // The first backend's call was cancelled and no other backend was called after it.
    assert.equal(upstream.calls, callsBefore + 1);
    await until('the cancelled call to be hung up', () => upstream.waiting === 0);
  });

  it('ends a started stream with its error event at the deadline, never a clean-looking end', async () => {
    const running = await start();
    const response = await ask(running, true);
    assert.equal(response.status, 200);
    const text = await streamReadThroughStop(response, () => running.kill('SIGTERM'));
    assert.ok(hasErrorEvent('openai', '/v1/chat/completions', text), text);
    assert.ok(!looksFinished('openai', '/v1/chat/completions', text), text);
    assert.match(text, /"type":"service_unavailable"/, text);
    assert.match(text, /drain deadline/, text);
    const ended = await running.exited;
    gateway = undefined;
    assert.deepEqual(ended, { code: 0, signal: null }, 'exited by itself, not at a SIGKILL');
    await until('the cut stream to be hung up upstream', () => upstream.waiting === 0);
  });
});
