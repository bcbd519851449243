import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { freeLoopbackPort, metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { answerText, chat, FULL_ANSWER } from './reuse-helpers';

// The cache and deduplication only save work: a Redis that was never reachable (down when
// the gateway started, or a wrong address) must cost a request nothing, as one that went
// away does (response-reuse-redis-outage.int-spec.ts).

describe('response cache and deduplication with a Redis never reached (all-in-one gateway)', () => {
  const upstream = new FakeOpenAiUpstream('unreachable-redis');
  let gateway: AppProcess;
  let redisUrl: string;

  before(async () => {
    await upstream.start();
    // Free now: nothing listens on it, so connecting is refused at once.
    const port = await freeLoopbackPort();
    redisUrl = `redis://127.0.0.1:${port}`;
    gateway = await startGatewayWithConfig(
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: cached}
spec:
  backends:
  - {name: cached-upstream, provider: vllm, baseUrl: "${upstream.baseUrl}", model: up-model, modelNameOverride: cached-model}
  caching:
    enabled: true
    ttl: 3600s
    keyComponents: [prompt, model]
    maxSize: 10MB
    backend: {type: redis, address: "127.0.0.1:${port}"}
  deduplication:
    enabled: true
    window: 5s
    keyComponents: [prompt, model]
`,
      {
        AI_GATEWAY_MISSING_SECRETS: 'warn',
        // Deduplication's Redis: away too.
        REDIS_URL: redisUrl,
      },
    );
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('serves every request from the provider at once, as a miss, plain and streaming', async () => {
    const timings: number[] = [];
    for (const stream of [false, true, false, true]) {
      const started = Date.now();
      const prompt = `No Redis ${randomUUID()}`;
      const response = await chat(gateway.baseUrl, { model: 'cached-model', prompt, stream });
      assert.equal(response.headers.get('x-ai-gateway-cache'), 'miss');
      assert.equal(await answerText(response), FULL_ANSWER);
      timings.push(Date.now() - started);
    }
    // Each Redis command had waited up to its 2 s timeout: the cache lookup, the dedup lookup
    // and lock, 4 to 6 s a request. The first (connections open on first use) is no slower.
    assert.ok(Math.max(...timings) < 1_000, `served after ${timings.join(', ')} ms`);
  });

  it('reports its Redis unreachable on /readyz and in a metric, staying in rotation', async () => {
    // The requests above opened the clients (they open on first use).
    const ready = await fetch(`http://127.0.0.1:${gateway.adminPort}/readyz`);
    const body = (await ready.json()) as {
      checks: Record<string, string>;
      notGating: string[];
      failing: string[];
    };
    assert.equal(ready.status, 200, JSON.stringify(body));
    assert.match(body.checks.responseCacheRedis, /^unreachable \(\d of \d clients\)$/);
    assert.ok(body.notGating.includes('responseCacheRedis'), JSON.stringify(body));
    assert.ok(body.failing.includes('responseCacheRedis'), JSON.stringify(body));
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.match(metrics, /ai_gateway_dependency_reachable\{[^}]*dependency="responseCacheRedis"/);
    assert.equal(
      metricSum(metrics, 'ai_gateway_dependency_reachable', { dependency: 'responseCacheRedis' }),
      0,
    );
    // Each of the four requests: its cache lookup, its dedup lookup and lock failed, counted.
    for (const operation of ['cache_lookup', 'dedup_join', 'dedup_lead']) {
      const failed = metricSum(metrics, 'ai_gateway_reuse_store_failures_total', { operation });
      assert.ok(failed >= 4, `${operation}: ${failed} failures counted`);
    }
    // Logged once a minute per kind, not once a request or reconnect attempt: an outage
    // under load is a line per kind, with how many failures came since the last.
    const warnings = new Map<string, number>();
    for (const line of gateway.output().split('\n')) {
      const msg = /"msg":"((?:cache|dedup) [a-z ]+ failed)"/.exec(line)?.[1];
      if (msg) warnings.set(msg, (warnings.get(msg) ?? 0) + 1);
    }
    assert.ok(warnings.size > 0, 'the failures are logged');
    for (const [msg, lines] of warnings) assert.equal(lines, 1, `${msg}: ${lines} lines`);
  });
});
