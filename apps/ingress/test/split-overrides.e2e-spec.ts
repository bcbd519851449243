// Per-request overrides in the split deployment: the ingress reads the x-ai-gateway-*
// headers, the request crosses the internal wire to the router, which applies them, and
// the provider-adapter's upstream call is cancelled at the deadline.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { eventually, metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-split-overrides-'));

function config(primary: FakeOpenAiUpstream, secondary: FakeOpenAiUpstream): string {
  const path = join(dir, 'split.yaml');
  writeFileSync(
    path,
    `kind: AIGatewayRoute
metadata: {name: split}
spec:
  backends:
  - {name: primary, priority: 0, provider: vllm, baseUrl: "${primary.baseUrl}", model: primary-model, modelNameOverride: gpt-4, requestTimeout: 30s, firstByteTimeout: 30s}
  - {name: secondary, priority: 1, provider: vllm, baseUrl: "${secondary.baseUrl}", model: secondary-model, modelNameOverride: gpt-4}
  failover: {on: [rateLimit, timeout, error], retryAttempts: 2, retryDelay: 0s}
`,
  );
  return path;
}

describe('split deployment: per-request overrides cross the wire to the router', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  let router: AppProcess;
  let ingress: AppProcess;
  /** Every process up so far, so teardown stops them even when a later start fails. */
  const started: AppProcess[] = [];
  let client: OpenAI;

  before(async () => {
    await Promise.all([primary.start(), secondary.start()]);
    const shared = { AI_GATEWAY_CONFIG: config(primary, secondary) };
    ({ router, ingress } = await startSplitDataPlane(shared, dir, started));
    // Without the deadline a hung upstream holds the call for 30 s: the client gives up first,
    // though not so soon that a loaded machine's slow answer reads as a hang.
    client = new OpenAI({
      baseURL: `${ingress.baseUrl}/v1`,
      apiKey: 'c',
      maxRetries: 0,
      timeout: 20_000,
    });
  });

  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    await Promise.all([primary.stop(), secondary.stop()]);
  });

  beforeEach(() => {
    primary.reset();
    secondary.reset();
  });

  const ask = (headers: Record<string, string>) =>
    client.chat.completions.create(
      { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] },
      { headers },
    );

  it('keeps a call on the first backend, with no retry, when asked', async () => {
    primary.always({ kind: 'status', status: 503 });
    await assert.rejects(ask({ 'x-ai-gateway-fallback': 'none', 'x-ai-gateway-retries': '0' }), {
      status: 502,
    });
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls.length, 0);
    const sent = Object.keys(primary.calls[0].headers).filter((h) => h.startsWith('x-ai-gateway'));
    assert.deepEqual(sent, [], 'the headers reach no provider');
  });

  it('ends a call at its deadline with a 504 and cancels the call to the upstream', async () => {
    primary.always({ kind: 'hang' });
    const started = performance.now();
    await assert.rejects(ask({ 'x-ai-gateway-request-timeout-ms': '500' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, 504);
      assert.equal(error.type, 'timeout_error');
      assert.match(error.message, /x-ai-gateway-request-timeout-ms \(500 ms\)/);
      return true;
    });
    // The message names the header's 500 ms; the time shows no earlier cut and that the
    // route's own 30 s never came into it (a bound this loaded CI box cannot trip).
    const took = performance.now() - started;
    assert.ok(took >= 490 && took < 30_000, `answered after ${Math.round(took)} ms`);
    assert.equal(secondary.calls.length, 0, 'no failover past the deadline');
    // The cancel crosses the router and the provider-adapter, each in its own time.
    await eventually(
      "the provider-adapter's upstream call is cancelled",
      () => (primary.hungUp === 0 ? undefined : true),
      { everyMs: 20 },
    );
    assert.equal(primary.hungUp, 1, "the provider-adapter's upstream call is cancelled");
    // The router applied it: it counts the override.
    const text = await (await fetch(`http://127.0.0.1:${router.adminPort}/metrics`)).text();
    assert.equal(metricSum(text, 'ai_gateway_request_overrides_total', { override: 'timeout' }), 1);
  });
});
