// An operator asks the all-in-one gateway's admin port which backends are cooled down,
// why and until when, and puts one back (real process, the openai client, fake upstreams):
// a backend answering 429 with Retry-After is shown cooling with its trigger and until,
// reset sends the next call to it again, drain moves calls to the standby until reset
// (ai_gateway_backend_drained says so meanwhile).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-backend-admin-'));
const UPSTREAM_SECRET = 'org-key-sk-upstream-said-this';

interface BackendView {
  route: string;
  backend: string;
  provider: string;
  model: string | null;
  priority: number;
  weight: number;
  state: string;
  cooling: {
    since: string;
    until: string;
    remainingMs: number;
    reason: string;
    trigger: string | null;
    retryAfterMs: number | null;
  } | null;
  drained: { since: string; operator: string | null; reason: string | null } | null;
  failures: { consecutive: number; lastAt: string | null; lastTrigger: string | null };
  upstream: {
    known: boolean;
    origin?: string;
    openConnections?: number;
    inFlight?: number;
    waiting?: number;
  };
  loadBalancing: {
    strategy: string;
    explorationPercent: number;
    inFlight: number | null;
    latencyMs: number | null;
    latencySamples: number;
    latencyAgeSeconds: number | null;
    byKind: Record<'json' | 'stream', KindLatency>;
  };
}

interface KindLatency {
  latencyMs: number | null;
  latencySamples: number;
  latencyAgeSeconds: number | null;
  stale: boolean;
}

const UNMEASURED: KindLatency = {
  latencyMs: null,
  latencySamples: 0,
  latencyAgeSeconds: null,
  stale: false,
};

describe('backend health on the admin port of the all-in-one gateway', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const standby = new FakeOpenAiUpstream('standby');
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([primary.start(), standby.start()]);
    const config = join(dir, 'config.yaml');
    const backend = (name: string, upstream: FakeOpenAiUpstream, priority: number) =>
      `  - {name: ${name}, provider: vllm, baseUrl: "${upstream.baseUrl}", model: ${name}-model, modelNameOverride: gpt-4o, priority: ${priority}}`;
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
${backend('primary', primary, 0)}
${backend('standby', standby, 1)}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
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
    await Promise.all([primary.stop(), standby.stop()]);
  });

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${gateway.adminPort}${path}`, init);
  const post = (path: string, body: unknown = {}) =>
    admin(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const backends = async () => {
    const reply = await admin('/admin/backends');
    assert.equal(reply.status, 200);
    const text = await reply.text();
    assert.ok(!text.includes(UPSTREAM_SECRET), 'no upstream body in the view');
    return new Map(
      (JSON.parse(text) as { backends: BackendView[] }).backends.map((b) => [b.backend, b]),
    );
  };
  /** Which fakes the next call reached, in order ('primary standby' when it failed over). */
  const servedBy = async () => {
    const before = [primary.calls.length, standby.calls.length];
    await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const reached = [
      ...(primary.calls.length > before[0] ? ['primary'] : []),
      ...(standby.calls.length > before[1] ? ['standby'] : []),
    ];
    return reached.join(' ');
  };

  it('shows a backend a 429 cooled, with its trigger, Retry-After and until; reset puts it back', async () => {
    primary.next({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '120' },
      body: { error: { message: UPSTREAM_SECRET, type: 'rate_limit' } },
    });
    const asked = Date.now();
    assert.equal(await servedBy(), 'primary standby', 'failed over');

    const cooled = await backends();
    const view = cooled.get('primary');
    assert.ok(view?.cooling, JSON.stringify(view));
    assert.deepEqual(
      { ...view, cooling: undefined, failures: { ...view.failures, lastAt: undefined } },
      {
        route: 'chat',
        backend: 'primary',
        provider: 'vllm',
        model: 'primary-model',
        priority: 0,
        weight: 1,
        state: 'cooling',
        cooling: undefined,
        drained: null,
        failures: { consecutive: 1, lastAt: undefined, lastTrigger: 'rateLimit' },
        upstream: {
          known: true,
          origin: new URL(primary.baseUrl).origin,
          openConnections: view.upstream.known ? view.upstream.openConnections : -1,
          inFlight: 0,
          waiting: 0,
        },
        // A failed call is not measured: no latency figure yet.
        loadBalancing: {
          strategy: 'weighted-round-robin',
          explorationPercent: 0,
          inFlight: 0,
          latencyMs: null,
          latencySamples: 0,
          latencyAgeSeconds: null,
          byKind: { json: UNMEASURED, stream: UNMEASURED },
        },
      },
    );
    assert.equal(view.cooling.reason, 'retry_after');
    assert.equal(view.cooling.trigger, 'rateLimit');
    assert.equal(view.cooling.retryAfterMs, 120_000);
    const until = Date.parse(view.cooling.until);
    assert.ok(until >= asked + 119_000 && until <= Date.now() + 120_000, view.cooling.until);
    assert.equal(cooled.get('standby')?.state, 'available');

    assert.equal(await servedBy(), 'standby', 'cooling: skipped');
    const reset = await post('/admin/backends/chat/primary/reset', {
      operator: 'alice',
      reason: 'provider recovered',
    });
    assert.equal(reset.status, 200);
    assert.equal(((await reset.json()) as { backend: BackendView }).backend.state, 'available');
    assert.equal((await backends()).get('primary')?.state, 'available');
    assert.equal(await servedBy(), 'primary', 'back in rotation at once');

    const metrics = await (await admin('/metrics')).text();
    assert.match(metrics, /^ai_gateway_backend_admin_actions_total\{action="reset"\} 1$/m);
    const logged = gateway
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"backend reset"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      logged.map(({ route, backend, operator, reason }) => ({ route, backend, operator, reason })),
      [{ route: 'chat', backend: 'primary', operator: 'alice', reason: 'provider recovered' }],
    );
  });

  it('drain sends the calls to the standby until reset', async () => {
    const drained = await post('/admin/backends/chat/primary/drain', { reason: 'key rotation' });
    assert.equal(drained.status, 200);
    // The all-in-one gateway holds the pools: the action's reply shows the one the listing does.
    const { backend } = (await drained.json()) as { backend: BackendView };
    const listed = (await backends()).get('primary');
    assert.equal(listed?.state, 'drained');
    assert.equal(backend.upstream.known, true);
    assert.deepEqual(backend.upstream, listed?.upstream);
    assert.match(
      await (await admin('/metrics')).text(),
      /^ai_gateway_backend_drained\{backend="primary"\} 1$/m,
    );
    assert.equal(await servedBy(), 'standby');
    assert.equal(await servedBy(), 'standby');
    await post('/admin/backends/chat/primary/reset');
    assert.equal(await servedBy(), 'primary');
    assert.doesNotMatch(await (await admin('/metrics')).text(), /ai_gateway_backend_drained\{/);
    assert.match(
      await (await admin('/metrics')).text(),
      /^ai_gateway_backend_admin_actions_total\{action="drain"\} 1$/m,
    );
  });

  it('an unknown backend is a 404, a bad body a 400, in the admin routes’ error shape', async () => {
    const missing = await post('/admin/backends/chat/ghost/reset');
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: { type: 'not_found', message: 'route "chat" has no backend "ghost"' },
    });
    const bad = await post('/admin/backends/chat/primary/drain', { weight: 0 });
    assert.equal(bad.status, 400);
    const error = ((await bad.json()) as { error: { type: string; issues: { path: string }[] } })
      .error;
    assert.equal(error.type, 'invalid_request');
    assert.deepEqual(
      error.issues.map((issue) => issue.path),
      ['weight'],
    );
    assert.equal((await backends()).get('primary')?.state, 'available');
    // Operator routes live on the admin port only.
    assert.equal((await fetch(`${gateway.baseUrl}/admin/backends`)).status, 404);
  });
});
