import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { engineSkipReason, metricSum, startRedis, type RealService } from '@aigw/testing';
import { startApp, startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';
import { perUserBudgetRoute } from './per-user-budget-route';

// Redis, the authoritative budget store, paused (connected, silent) and then stopped under
// a running gateway: requests are refused at once with a 503 that says why and when to
// come back, never held for the reconnect backoff and never admitted unaccounted for.
// Redis is shared by every replica, so readiness reports it without gating on it: were it
// to take pods out of rotation, all would leave at once and clients would get connection
// errors instead of these 503s (and requests no budget binds would fail too).

// The Redis to pause and stop is always a container of this suite's own.
const skip = engineSkipReason('a Redis of its own to pause and stop');

describe('budgets while Redis is unreachable', { skip }, () => {
  let redis: RealService;
  let gateway: AppProcess;

  before(async () => {
    redis = await startRedis({ env: { ...process.env, REDIS_URL: undefined } });
    const dir = mkdtempSync(join(tmpdir(), 'aigw-redis-outage-'));
    writeFileSync(join(dir, 'config.yaml'), perUserBudgetRoute('redis-outage', 1_000_000));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      REDIS_URL: redis.url,
    });
  });
  after(async () => {
    await gateway?.stop();
    await redis?.stop();
  });

  const chat = async () => {
    const started = Date.now();
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'outage-user' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const body = (await response.json()) as { error?: { code: string; type: string } };
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      error: body.error,
      ms: Date.now() - started,
    };
  };
  const container = async () => {
    const client = await getContainerRuntimeClient();
    return { client, handle: client.container.getById(redis.containerId!) };
  };

  it('refuses at once with a 503 while Redis is silent, and serves again when it answers', async () => {
    assert.equal((await chat()).status, 200);
    const { handle } = await container();
    await handle.pause();
    try {
      for (let i = 0; i < 3; i++) {
        const refused = await chat();
        assert.equal(refused.status, 503, JSON.stringify(refused));
        assert.equal(refused.error?.code, 'budget_store_unavailable');
        assert.equal(refused.error?.type, 'service_unavailable');
        assert.equal(refused.retryAfter, '5');
        assert.ok(refused.ms < 10_000, `answered after ${refused.ms} ms`);
      }
    } finally {
      await handle.unpause();
    }
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await chat()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, 200, 'served again once Redis answers');
  });

  it('refuses at once, and stays ready reporting redis, while Redis is gone', async () => {
    const { handle } = await container();
    await handle.stop({ t: 1 });
    const timings: number[] = [];
    for (let i = 0; i < 4; i++) {
      const refused = await chat();
      assert.equal(refused.status, 503, JSON.stringify(refused));
      assert.equal(refused.error?.code, 'budget_store_unavailable');
      timings.push(refused.ms);
    }
    // Held through the reconnect backoff, the third of these had taken over 20 s.
    assert.ok(Math.max(...timings) < 5_000, `answered after ${timings.join(', ')} ms`);
    await assertReadyWithRedisDown(gateway);
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.ok(
      metricSum(metrics, 'ai_gateway_requests_total', { status: '503' }) >= 4,
      'the refusals are counted',
    );
  });
});

/** In rotation, with redis reported down and marked as not gating (body and metric). */
async function assertReadyWithRedisDown(app: AppProcess): Promise<void> {
  const ready = await fetch(`http://127.0.0.1:${app.adminPort}/readyz`);
  const body = (await ready.json()) as {
    status: string;
    checks: Record<string, string>;
    notGating: string[];
    failing: string[];
  };
  assert.equal(ready.status, 200, JSON.stringify(body));
  assert.equal(body.status, 'ready');
  assert.match(body.checks.redis, /^(connecting|reconnecting|close|end)$/);
  assert.ok(body.notGating.includes('redis'), JSON.stringify(body));
  assert.ok(body.failing.includes('redis'), JSON.stringify(body));
  const metrics = await (await fetch(`http://127.0.0.1:${app.adminPort}/metrics`)).text();
  assert.equal(metricSum(metrics, 'ai_gateway_dependency_reachable', { dependency: 'redis' }), 0);
}

describe('split deployment: an ingress while Redis is gone', { skip }, () => {
  let redis: RealService;
  const started: AppProcess[] = [];
  let ingress: AppProcess;

  before(async () => {
    redis = await startRedis({ env: { ...process.env, REDIS_URL: undefined } });
    const dir = mkdtempSync(join(tmpdir(), 'aigw-redis-outage-split-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `${perUserBudgetRoute('budgeted', 1_000_000)}---
kind: AIGatewayRoute
metadata: {name: unbudgeted}
spec:
  backends:
  - {name: open, provider: local, model: open-model}
`,
    );
    ({ ingress } = await startSplitDataPlane(
      { AI_GATEWAY_CONFIG: config, REDIS_URL: redis.url },
      dir,
      started,
    ));
  });
  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    await redis?.stop();
  });

  const chat = async (model: string) => {
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'outage-user' },
      body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { error?: { code: string; type: string } };
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
  };

  it('stays ready, refuses budget-bound requests with 503 + Retry-After and serves the rest', async () => {
    assert.equal((await chat('gpt-4o-mini')).status, 200);
    const client = await getContainerRuntimeClient();
    await client.container.getById(redis.containerId!).stop({ t: 1 });

    const refused = await chat('gpt-4o-mini');
    assert.equal(refused.status, 503, JSON.stringify(refused));
    assert.equal(refused.body.error?.code, 'budget_store_unavailable');
    assert.equal(refused.body.error?.type, 'service_unavailable');
    assert.equal(refused.retryAfter, '5');

    const unbound = await chat('open-model');
    assert.equal(unbound.status, 200, JSON.stringify(unbound));

    await assertReadyWithRedisDown(ingress);
  });
});
