import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum, until } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

// After a scripted workload (plain and streamed calls, a failover, a cache miss and hit,
// budgets and pricing), every metric an operator is promised is exported with its labels.

/** The label sets of a metric's samples (`name{a="x",b="y"} v`). */
function labelSets(text: string, name: string): Set<string>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => new Set([...line.matchAll(/(\w+)="/g)].map((m) => m[1])));
}

function assertSeries(text: string, name: string, labels: string[]): void {
  const sets = labelSets(text, name);
  assert.ok(sets.length > 0, `${name} has no samples`);
  assert.ok(
    sets.some((set) => labels.every((label) => set.has(label))),
    `${name} lacks labels ${labels.join(',')}`,
  );
}

describe('metrics after a scripted workload', () => {
  const failing = new FakeOpenAiUpstream('failing');
  const healthy = new FakeOpenAiUpstream('healthy');
  let gateway: AppProcess;

  before(async () => {
    await Promise.all([failing.start(), healthy.start()]);
    failing.always({ kind: 'status', status: 503 });
    const dir = mkdtempSync(join(tmpdir(), 'aigw-metrics-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: metrics}
spec:
  backends:
  - {name: openai-primary, priority: 0, provider: openai-compatible, baseUrl: "${failing.baseUrl}", model: gpt-4o}
  - {name: vllm-fallback, priority: 1, provider: vllm, baseUrl: "${healthy.baseUrl}", model: llama-3, modelNameOverride: gpt-4o}
  failover: {on: [error]}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 1000000, period: 30d}
  costControl:
    modelPricing:
      llama-3: {inputPer1k: 0.5, outputPer1k: 1.5}
  caching: {enabled: true, ttl: 60s, backend: memory}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([failing.stop(), healthy.stop()]);
  });

  it('exports the spec metrics, the GenAI metrics and the operations metrics with their labels', async () => {
    const chat = (stream: boolean, content: string) =>
      fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'metrics-user' },
        body: JSON.stringify({ model: 'gpt-4o', stream, messages: [{ role: 'user', content }] }),
      }).then((r) => r.text());
    await chat(false, 'first'); // failover, cache miss
    await chat(false, 'first'); // cache hit
    await chat(true, 'streamed'); // time to first token, per output token
    await chat(false, 'third'); // the primary's third failure in a row: cooled down
    // Usage settles into the budget gauge off the request path, in its own time.
    const scrape = async (path: string) =>
      (await fetch(`http://127.0.0.1:${gateway.adminPort}${path}`)).text();
    await until('the usage is settled into the budget gauge', async () =>
      /^ai_gateway_budget_remaining\{budget_key="metrics-user"/m.test(await scrape('/metrics')),
    );

    for (const path of ['/metrics', '/stats/prometheus']) {
      const text = await scrape(path);
      assertSeries(text, 'ai_gateway_tokens_total', ['user', 'model', 'type']);
      assertSeries(text, 'ai_gateway_request_duration_seconds_bucket', ['provider', 'model']);
      assertSeries(text, 'ai_gateway_fallback_total', ['from', 'to', 'reason']);
      assert.match(
        text,
        /ai_gateway_fallback_total\{from="openai-compatible",to="vllm",reason="error"\} [1-9]/,
      );
      // The always-failing primary was called three times: the third failure cooled it.
      assert.match(
        text,
        /^ai_gateway_backend_cooldowns_total\{backend="openai-primary",reason="failures"\} 1$/m,
      );
      assert.match(text, /^ai_gateway_backend_cooling\{backend="openai-primary"\} 1$/m);
      assert.match(text, /^ai_gateway_backend_cooling\{backend="vllm-fallback"\} 0$/m);
      // The healthy backend's pool: connections kept open, none waited for.
      const origin = new URL(healthy.baseUrl).origin;
      assert.match(
        text,
        new RegExp(
          `^ai_gateway_upstream_connections\\{origin="${origin}",state="open"\\} [1-9]`,
          'm',
        ),
      );
      assert.match(
        text,
        new RegExp(`^ai_gateway_upstream_requests_waiting\\{origin="${origin}"\\} 0$`, 'm'),
      );
      // Each call counted on the backend it went to, by how it began.
      assert.match(
        text,
        /^ai_gateway_backend_requests_total\{backend="openai-primary",result="error"\} 3$/m,
      );
      assert.match(
        text,
        /^ai_gateway_backend_requests_total\{backend="vllm-fallback",result="ok"\} 3$/m,
      );
      assertSeries(text, 'ai_gateway_cost_dollars', ['user', 'model']);
      assertSeries(text, 'ai_gateway_cache_hits_total', ['model']);
      assertSeries(text, 'ai_gateway_cache_misses_total', ['model']);
      for (const name of [
        'gen_ai_client_token_usage_bucket',
        'gen_ai_server_request_duration_bucket',
        'gen_ai_server_time_to_first_token_bucket',
        'gen_ai_server_time_per_output_token_bucket',
      ]) {
        assertSeries(text, name, ['gen_ai_request_model']);
      }
      assertSeries(text, 'ai_gateway_budget_remaining', ['budget_key', 'limit']);
      for (const declared of [
        'ai_gateway_reservation_overshoot_tokens_total',
        'ai_gateway_kafka_producer_spool_depth',
        'ai_gateway_kafka_consumer_lag',
        'ai_gateway_metrics_label_overflow_total',
      ]) {
        assert.match(text, new RegExp(`^# TYPE ${declared} `, 'm'), `${declared} is declared`);
      }
      assert.doesNotMatch(text, /sk-|Bearer /, 'no secret in metrics');
    }
  });

  it('tells the client what its call cost, and that a cache hit cost it nothing', async () => {
    const ask = () =>
      fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'metrics-user' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'priced' }] }),
      });
    const served = await ask();
    const body = (await served.json()) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    // llama-3 (the fallback that served it): 0.5 and 1.5 dollars per thousand tokens.
    const expected = (body.usage.prompt_tokens * 0.5 + body.usage.completion_tokens * 1.5) / 1000;
    assert.ok(expected > 0);
    assert.equal(Number(served.headers.get('x-ai-gateway-cost-usd')), Number(expected.toFixed(7)));
    const cached = await ask();
    await cached.arrayBuffer();
    assert.equal(cached.headers.get('x-ai-gateway-cache'), 'hit');
    assert.equal(cached.headers.get('x-ai-gateway-cost-usd'), '0');
  });

  it('counts a stream in flight until its client leaves', async () => {
    const inFlight = async () => {
      const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
      const line = /^ai_gateway_requests_in_flight\{route="chat\.completions"\} (\d+)$/m;
      return Number(line.exec(text)?.[1] ?? 'NaN');
    };
    assert.equal(await inFlight(), 0, 'the workload before left nothing in flight');
    // The failing primary is cooled down by now or fails over; either way the stream stalls.
    failing.next({ kind: 'stall-stream', afterChunks: 1 });
    healthy.next({ kind: 'stall-stream', afterChunks: 1 });
    const leave = new AbortController();
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      signal: leave.signal,
      headers: { 'content-type': 'application/json', 'x-user-id': 'metrics-user' },
      body: JSON.stringify({
        model: 'gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: 'a stream that stalls' }],
      }),
    });
    const reader = response.body!.getReader();
    await reader.read(); // the first chunk is through: the stream is open
    assert.equal(await inFlight(), 1);
    leave.abort();
    await reader.read().catch(() => undefined);
    // The gateway notices the hang-up in its own time on a loaded machine.
    await until(
      'the stream its client left is no longer counted',
      async () => (await inFlight()) === 0,
    );
  });

  it('counts requests refused before any handler ran under their route, or other', async () => {
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const count = (text: string, route: string, status: string) =>
      metricSum(text, 'ai_gateway_requests_total', { route, status });
    const before = await scrape();
    const send = (path: string, init: RequestInit) =>
      fetch(`${gateway.baseUrl}${path}`, init).then((response) => response.arrayBuffer());
    // A body that is not JSON fails in the parser, before the route's handler.
    await send('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    });
    await send('/embeddings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'not json',
    });
    await send('/v1/chat/completions', { method: 'GET' });
    await send('/v1/no-such-path', { method: 'GET' });
    const after = await scrape();
    const grew = (route: string, status: string) =>
      count(after, route, status) - count(before, route, status);
    assert.equal(grew('chat.completions', '400'), 1);
    assert.equal(grew('embeddings', '400'), 1);
    assert.equal(grew('chat.completions', '405'), 1);
    assert.equal(grew('other', '404'), 1);
  });
});
