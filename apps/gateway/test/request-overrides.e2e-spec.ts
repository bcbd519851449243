// Per-request overrides through the all-in-one gateway (the openai client, real processes,
// fake upstreams): x-ai-gateway-fallback: none keeps a call on the first backend,
// x-ai-gateway-request-timeout-ms cuts a slow upstream with a 504 and hangs up on it,
// x-ai-gateway-retries makes fewer calls (clamped to the route's), bad values are 400s
// naming the header (Anthropic-style on /v1/messages), and each override is counted.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { metricSum, until } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-overrides-'));

const backend = (name: string, upstream: FakeOpenAiUpstream, model: string, rest = '') =>
  `  - {name: ${name}, provider: vllm, baseUrl: "${upstream.baseUrl}", model: ${name}-model, modelNameOverride: ${model}${rest}}`;

function writeConfig(
  primary: FakeOpenAiUpstream,
  secondary: FakeOpenAiUpstream,
  slow: FakeOpenAiUpstream,
  flaky: FakeOpenAiUpstream,
) {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `kind: AIGatewayRoute
metadata: {name: pinned}
spec:
  backends:
${backend('primary', primary, 'gpt-4o', ', priority: 0')}
${backend('secondary', secondary, 'gpt-4o', ', priority: 1')}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
---
kind: AIGatewayRoute
metadata: {name: slow}
spec:
  backends:
${backend('slow', slow, 'slow-model', ', priority: 0, requestTimeout: 30s, firstByteTimeout: 30s')}
${backend('spare', secondary, 'slow-model', ', priority: 1')}
  failover: {on: [timeout, error], retryDelay: 0s}
---
kind: AIGatewayRoute
metadata: {name: flaky}
spec:
  backends:
${backend('flaky', flaky, 'flaky-model')}
  failover: {on: [error], retryAttempts: 2, retryDelay: 0s}
`,
  );
  return file;
}

describe('per-request overrides on the all-in-one gateway', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  const slow = new FakeOpenAiUpstream('slow');
  const flaky = new FakeOpenAiUpstream('flaky');
  const upstreams = [primary, secondary, slow, flaky];
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all(upstreams.map((upstream) => upstream.start()));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: writeConfig(primary, secondary, slow, flaky),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    // Without the override a hung upstream holds the call for 30 s: the client gives up first,
    // though not so soon that a loaded machine's slow answer reads as a hang.
    client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'c',
      maxRetries: 0,
      timeout: 20_000,
    });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all(upstreams.map((upstream) => upstream.stop()));
  });

  beforeEach(() => {
    for (const upstream of upstreams) upstream.reset();
  });

  const ask = (model: string, headers: Record<string, string> = {}, stream = false) =>
    client.chat.completions.create(
      { model, messages: [{ role: 'user', content: 'hi' }], stream: stream as false },
      { headers },
    );

  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();

  it('serves from the first backend only with x-ai-gateway-fallback: none', async () => {
    primary.next({ kind: 'status', status: 503 });
    await assert.rejects(ask('gpt-4o', { 'x-ai-gateway-fallback': 'none' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 502);
      return true;
    });
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls.length, 0, 'no failover');
    // The override headers never travel upstream.
    const sent = Object.keys(primary.calls[0].headers).filter((h) => h.startsWith('x-ai-gateway'));
    assert.deepEqual(sent, []);

    // Without it the same failure fails over.
    primary.next({ kind: 'status', status: 503 });
    const answer = await ask('gpt-4o');
    assert.equal(answer.model, 'gpt-4o');
    assert.equal(secondary.calls.length, 1);
  });

  it('cuts a slow upstream at x-ai-gateway-request-timeout-ms with a 504 and hangs up on it', async () => {
    slow.always({ kind: 'hang' });
    const before = metricSum(await metrics(), 'ai_gateway_request_overrides_total', {
      override: 'timeout',
    });
    const started = performance.now();
    await assert.rejects(
      ask('slow-model', { 'x-ai-gateway-request-timeout-ms': '400' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError, String(error));
        assert.equal(error.status, 504);
        assert.equal(error.type, 'timeout_error');
        assert.match(error.message, /x-ai-gateway-request-timeout-ms \(400 ms\)/);
        return true;
      },
    );
    // The message names the header's 400 ms; the time shows no earlier cut and that the
    // route's own 30 s never came into it (a bound this loaded CI box cannot trip).
    const took = performance.now() - started;
    assert.ok(took >= 390 && took < 30_000, `answered after ${Math.round(took)} ms`);
    assert.equal(slow.calls.length, 1);
    assert.equal(secondary.calls.length, 0, 'no failover past the deadline');
    // The gateway hangs up on the upstream in its own time.
    await until('the upstream call is cancelled', () => slow.hungUp === 1, { everyMs: 20 });
    const after = metricSum(await metrics(), 'ai_gateway_request_overrides_total', {
      override: 'timeout',
      clamped: 'false',
    });
    assert.equal(after - before, 1);
  });

  it('cuts a stream that outlives x-ai-gateway-request-timeout-ms', async () => {
    slow.always({ kind: 'stall-stream', afterChunks: 2 });
    const stream = await client.chat.completions.create(
      { model: 'slow-model', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { headers: { 'x-ai-gateway-request-timeout-ms': '600' } },
    );
    let text = '';
    const started = performance.now();
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    }, /x-ai-gateway-request-timeout-ms \(600 ms\)/);
    // Cut by the header's 600 ms (the message says so), not the route's own 30 s.
    assert.ok(performance.now() - started < 30_000);
    assert.equal(text, 'Hello from');
    await until('the upstream stream is cancelled', () => slow.hungUp === 1, { everyMs: 20 });
  });

  it("makes fewer calls with x-ai-gateway-retries, never more than the route's", async () => {
    flaky.always({ kind: 'status', status: 503 });
    const calls = async (headers: Record<string, string>) => {
      flaky.calls.length = 0;
      await assert.rejects(ask('flaky-model', headers), { status: 502 });
      return flaky.calls.length;
    };
    const before = await metrics();
    assert.equal(await calls({}), 3, 'retryAttempts 2');
    assert.equal(await calls({ 'x-ai-gateway-retries': '1' }), 2);
    assert.equal(await calls({ 'x-ai-gateway-retries': '0' }), 1);
    assert.equal(await calls({ 'x-ai-gateway-retries': '9' }), 3, 'clamped to the route');
    const text = await metrics();
    const count = (clamped: string) =>
      metricSum(text, 'ai_gateway_request_overrides_total', { override: 'retries', clamped }) -
      metricSum(before, 'ai_gateway_request_overrides_total', { override: 'retries', clamped });
    assert.equal(count('false'), 2);
    assert.equal(count('true'), 1);
  });

  it('refuses a bad value with a 400 naming the header, calling no upstream', async () => {
    await assert.rejects(ask('gpt-4o', { 'x-ai-gateway-retries': 'lots' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 400);
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.param, 'x-ai-gateway-retries');
      assert.match(error.message, /x-ai-gateway-retries must be a whole number/);
      return true;
    });
    await assert.rejects(ask('gpt-4o', { 'x-ai-gateway-fallback': 'cheaper' }), {
      status: 400,
      param: 'x-ai-gateway-fallback',
    });
    assert.equal(primary.calls.length + secondary.calls.length, 0);
  });

  it('refuses a bad value on /v1/messages in Anthropic’s format', async () => {
    const anthropic = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'c', maxRetries: 0 });
    await assert.rejects(
      anthropic.messages.create(
        { model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'x-ai-gateway-request-timeout-ms': '0' } },
      ),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.APIError);
        assert.equal(error.status, 400);
        const body = error.error as { type: string; error: { type: string; message: string } };
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'invalid_request_error');
        assert.match(body.error.message, /x-ai-gateway-request-timeout-ms must be/);
        return true;
      },
    );
    assert.equal(primary.calls.length, 0);
  });
});
