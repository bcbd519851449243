import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type ProviderCall,
  type ProviderPort,
} from '@aigw/contracts/data-plane';
import { AdminServer, adminAccessFrom, type AdminRoute } from '@aigw/runtime';
import { BackendHealth } from '../domain/backend-health';
import { BackendLoad } from '../domain/backend-load';
import { FailoverRouter } from '../failover-router';
import {
  backendAdminRoutes,
  type BackendActionReply,
  type BackendAdminDeps,
  type BackendsReply,
} from './backend-admin-routes';

const CONFIG = (() => {
  const result = parseGatewayConfig(
    `
kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - {name: primary, priority: 0, provider: openai, model: gpt-4o, baseUrl: 'http://127.0.0.1:9001/v1'}
  - {name: standby, priority: 1, provider: openai, model: gpt-4o-mini, modelNameOverride: gpt-4o}
  failover:
    on: [rateLimit, timeout, error]
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
})();

const request: GatewayRequest = {
  requestId: 'r1',
  operation: 'chat',
  requestedModel: 'gpt-4o',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
  caller: { userKey: 'u' },
  allowedModels: [],
  forwardHeaders: {},
};

/** Answers from each backend as told; `primary` 429s with Retry-After while `limited`. */
class Providers implements ProviderPort {
  readonly called: string[] = [];
  limited = false;
  failing = new Set<string>();
  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    const backend = call.target.backendName;
    this.called.push(backend);
    if (backend === 'primary' && this.limited) {
      throw new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down', {
        retryAfterMs: 60_000,
      });
    }
    if (this.failing.has(backend)) throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'x');
    return {
      kind: 'json',
      status: 200,
      body: { choices: [] },
      usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
      servedBy: { backend, provider: call.target.provider, model: call.target.model },
    };
  }
}

interface Harness {
  providers: Providers;
  router: FailoverRouter;
  routes: AdminRoute[];
  actions: string[];
  logs: [string, Record<string, unknown>][];
}

function harness(extra: Partial<BackendAdminDeps> = {}): Harness {
  const config = (): GatewayConfig => CONFIG;
  const health = new BackendHealth();
  const providers = new Providers();
  const router = new FailoverRouter({ config, providers, health, sleep: async () => undefined });
  const actions: string[] = [];
  const logs: [string, Record<string, unknown>][] = [];
  const routes = backendAdminRoutes({
    config,
    health,
    metrics: { recordBackendAdminAction: (action) => void actions.push(action) },
    logger: {
      info: (message: string, fields?: Record<string, unknown>) =>
        logs.push([message, fields ?? {}]),
    },
    ...extra,
  });
  return { providers, router, routes, actions, logs };
}

/** Every reply's fields, as the tests read them (an error, a list or an action). */
type Body = BackendsReply &
  BackendActionReply & {
    error: { type: string; message: string; issues: { path: string; message: string }[] };
  };

async function call(
  routes: AdminRoute[],
  method: 'GET' | 'POST',
  path: string,
  body: unknown = {},
): Promise<{ status: number; body: Body }> {
  const route = routes.find((r) => r.method === method && r.path.test(path));
  assert.ok(route, `${method} ${path} is routed`);
  const params = route.path.exec(path)!.slice(1).map(decodeURIComponent);
  const reply = await route.handle({ params, body, headers: {} });
  return { status: reply.status, body: reply.body as Body };
}

const served = async (h: Harness) => {
  h.providers.called.length = 0;
  const answer = await h.router.route(request, new AbortController().signal);
  return answer.servedBy.backend;
};

describe('GET /admin/backends', () => {
  it('lists every backend; one a 429 cooled shows cooling with trigger, Retry-After and until', async () => {
    const h = harness();
    h.providers.limited = true;
    const before = Date.now();
    assert.equal(await served(h), 'standby');
    const { status, body } = await call(h.routes, 'GET', '/admin/backends');
    assert.equal(status, 200);
    assert.equal(body.scope, 'process');
    const [primary, standby] = body.backends;
    assert.deepEqual(
      { ...primary, cooling: undefined, failures: { ...primary.failures, lastAt: undefined } },
      {
        route: 'chat',
        backend: 'primary',
        provider: 'openai',
        model: 'gpt-4o',
        priority: 0,
        weight: 1,
        state: 'cooling',
        cooling: undefined,
        drained: null,
        failures: { consecutive: 1, lastAt: undefined, lastTrigger: 'rateLimit' },
        upstream: primary.upstream,
        loadBalancing: primary.loadBalancing,
      },
    );
    const cooling = primary.cooling;
    assert.ok(cooling);
    assert.equal(cooling.reason, 'retry_after');
    assert.equal(cooling.trigger, 'rateLimit');
    assert.equal(cooling.retryAfterMs, 60_000);
    const until = Date.parse(cooling.until);
    assert.ok(until >= before + 60_000 && until <= Date.now() + 60_000, cooling.until);
    assert.ok(cooling.remainingMs > 59_000);
    assert.equal(standby.state, 'available');
    assert.equal(standby.cooling, null);
    assert.deepEqual(standby.failures, { consecutive: 0, lastAt: null, lastTrigger: null });
    // No pools in this process (the split router): said, not guessed.
    assert.ok(!primary.upstream.known);
    assert.match(primary.upstream.note, /provider-adapter/);
  });

  it("shows the upstream pool of a backend's origin where the process holds it", async () => {
    const h = harness({
      upstreamPools: () => [{ origin: 'http://127.0.0.1:9001', open: 3, busy: 2, waiting: 1 }],
    });
    const { body } = await call(h.routes, 'GET', '/admin/backends');
    assert.deepEqual(body.backends[0].upstream, {
      known: true,
      origin: 'http://127.0.0.1:9001',
      openConnections: 3,
      inFlight: 2,
      waiting: 1,
    });
    assert.equal(body.backends[1].upstream.known, false, 'no baseUrl, no origin given');
    // The gateway tells the origin of a backend without baseUrl: its provider's endpoint.
    const told = harness({
      upstreamPools: () => [{ origin: 'https://api.openai.com', open: 1, busy: 1, waiting: 0 }],
      originOf: (backend) => backend.baseUrl ?? 'https://api.openai.com',
    });
    const standby = (await call(told.routes, 'GET', '/admin/backends')).body.backends[1];
    assert.deepEqual(standby.upstream, {
      known: true,
      origin: 'https://api.openai.com',
      openConnections: 1,
      inFlight: 1,
      waiting: 0,
    });
  });
});

describe('GET /admin/backends: load balancing', () => {
  it("shows the route's strategy and each backend's calls in flight and latency", async () => {
    const parsed = parseGatewayConfig(
      `
kind: AIGatewayRoute
metadata: {name: chat}
spec:
  loadBalancing: {strategy: lowest-latency, explorationPercent: 10}
  backends:
  - {name: primary, priority: 0, provider: openai, model: gpt-4o}
  - {name: standby, priority: 0, provider: openai, model: gpt-4o}
`,
      { missingSecrets: 'warn', env: {} },
    );
    assert.ok(parsed.ok);
    const config = () => parsed.config;
    let now = 0;
    const load = new BackendLoad(() => now);
    const health = new BackendHealth();
    const router = new FailoverRouter({
      config,
      health,
      load,
      providers: {
        invoke: async (call) => {
          now += 120;
          return new Providers().invoke(call);
        },
      },
    });
    await router.route(request, new AbortController().signal);
    load.start('standby'); // a call under way
    now += 2_500; // primary answered 2.5 s ago
    const routes = backendAdminRoutes({
      config,
      health,
      load,
      metrics: { recordBackendAdminAction: () => undefined },
    });
    const { body } = await call(routes, 'GET', '/admin/backends');
    assert.deepEqual(
      body.backends.map((b) => b.loadBalancing),
      [
        {
          strategy: 'lowest-latency',
          explorationPercent: 10,
          inFlight: 0,
          latencyMs: 120,
          latencySamples: 1,
          latencyAgeSeconds: 2.5,
          byKind: {
            json: { latencyMs: 120, latencySamples: 1, latencyAgeSeconds: 2.5, stale: false },
            stream: { latencyMs: null, latencySamples: 0, latencyAgeSeconds: null, stale: false },
          },
        },
        {
          strategy: 'lowest-latency',
          explorationPercent: 10,
          inFlight: 1,
          latencyMs: null,
          latencySamples: 0,
          latencyAgeSeconds: null,
          byKind: {
            json: { latencyMs: null, latencySamples: 0, latencyAgeSeconds: null, stale: false },
            stream: { latencyMs: null, latencySamples: 0, latencyAgeSeconds: null, stale: false },
          },
        },
      ],
    );
    assert.deepEqual(router.backendLoads(), [
      {
        backend: 'primary',
        inFlight: 0,
        latencyMs: 120,
        latencyAges: [{ kind: 'json', seconds: 2.5 }],
      },
      { backend: 'standby', inFlight: 1 },
    ]);
    // Without the router's load (none given), the figures are unknown, not zero.
    const { body: unknown } = await call(harness().routes, 'GET', '/admin/backends');
    assert.equal(unknown.backends[0].loadBalancing.inFlight, null);
    assert.equal(unknown.backends[0].loadBalancing.strategy, 'weighted-round-robin');
  });

  it('shows the age of each kind of figure, and which one lowest-latency reads as stale', async () => {
    let now = 0;
    const load = new BackendLoad(() => now, 10_000); // a 10 s half-life
    const answer = (kind: 'json' | 'stream', ms: number) => {
      const started = load.start('primary', kind);
      now += ms;
      started.answered(kind);
      started.ended();
    };
    answer('stream', 200); // the stream figure, at 0.2 s
    now = 8_000;
    answer('json', 500); // the JSON figure, at 8.5 s
    now = 12_000;
    const routes = backendAdminRoutes({
      config: () => CONFIG,
      health: new BackendHealth(),
      load,
      metrics: { recordBackendAdminAction: () => undefined },
    });
    const view = async () =>
      (await call(routes, 'GET', '/admin/backends')).body.backends[0].loadBalancing;
    let lb = await view();
    assert.equal(lb.latencyAgeSeconds, 3.5, 'the last answer of any kind: JSON, fresh');
    assert.deepEqual(lb.byKind, {
      json: { latencyMs: 500, latencySamples: 1, latencyAgeSeconds: 3.5, stale: false },
      stream: { latencyMs: 200, latencySamples: 1, latencyAgeSeconds: 11.8, stale: true },
    });
    // A stream probe that fails: lowest-latency orders by the old figure for another
    // half-life, so it is no longer stale though no stream answered since.
    load.start('primary', 'stream').ended();
    lb = await view();
    assert.deepEqual(lb.byKind.stream, {
      latencyMs: 200,
      latencySamples: 1,
      latencyAgeSeconds: 11.8,
      stale: false,
    });
  });

  it('leaves the figure of all answers out once no answer came for a half-life', async () => {
    let now = 0;
    const load = new BackendLoad(() => now, 10_000); // a 10 s half-life
    const started = load.start('primary', 'json');
    now = 300;
    started.answered('json');
    started.ended();
    const routes = backendAdminRoutes({
      config: () => CONFIG,
      health: new BackendHealth(),
      load,
      metrics: { recordBackendAdminAction: () => undefined },
    });
    const view = async () =>
      (await call(routes, 'GET', '/admin/backends')).body.backends[0].loadBalancing;
    now = 10_200; // just under a half-life: still current
    let lb = await view();
    assert.equal(lb.latencyMs, 300);
    now = 10_300;
    lb = await view();
    // Stale: no figure to read as current, though its age and sample count remain.
    assert.equal(lb.latencyMs, null);
    assert.equal(lb.latencySamples, 1);
    assert.equal(lb.latencyAgeSeconds, 10);
    assert.deepEqual(lb.byKind.json, {
      latencyMs: 300,
      latencySamples: 1,
      latencyAgeSeconds: 10,
      stale: true,
    });
  });
});

describe("FailoverRouter.backendLoads: the latency gauges' figures", () => {
  it('leaves out a latency no answer refreshed for a half-life, and gives each kind its age', () => {
    let now = 0;
    const load = new BackendLoad(() => now, 10_000);
    const router = new FailoverRouter({
      config: () => CONFIG,
      health: new BackendHealth(),
      load,
      providers: new Providers(),
    });
    const answer = (kind: 'json' | 'stream', ms: number) => {
      const started = load.start('primary', kind);
      now += ms;
      started.answered(kind);
      started.ended();
    };
    answer('stream', 100);
    now = 5_000;
    answer('json', 100); // 5.1 s
    now = 9_100;
    assert.deepEqual(router.backendLoads()[0], {
      backend: 'primary',
      inFlight: 0,
      latencyMs: 100,
      latencyAges: [
        { kind: 'json', seconds: 4 },
        { kind: 'stream', seconds: 9 },
      ],
    });
    now = 15_100; // a half-life since the last answer: no current figure
    assert.deepEqual(router.backendLoads()[0], {
      backend: 'primary',
      inFlight: 0,
      latencyAges: [
        { kind: 'json', seconds: 10 },
        { kind: 'stream', seconds: 15 },
      ],
    });
    assert.deepEqual(router.backendLoads()[1], { backend: 'standby', inFlight: 0 });
  });
});

describe('POST /admin/backends/{route}/{backend}/reset and /drain', () => {
  it('reset ends the cooldown: the next call goes to the backend again; logged and counted', async () => {
    const h = harness();
    h.providers.limited = true;
    await served(h);
    h.providers.limited = false;
    assert.equal(await served(h), 'standby', 'cooling: still skipped');
    const reply = await call(h.routes, 'POST', '/admin/backends/chat/primary/reset', {
      operator: 'alice',
      reason: 'provider recovered',
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.action, 'reset');
    assert.equal(reply.body.backend.state, 'available');
    assert.equal(reply.body.backend.failures.consecutive, 0);
    assert.equal(await served(h), 'primary');
    assert.deepEqual(h.actions, ['reset']);
    assert.deepEqual(h.logs, [
      [
        'backend reset',
        { route: 'chat', backend: 'primary', operator: 'alice', reason: 'provider recovered' },
      ],
    ]);
  });

  it('drain takes a backend out of rotation (a last resort) until reset', async () => {
    const h = harness();
    assert.equal(await served(h), 'primary');
    const reply = await call(h.routes, 'POST', '/admin/backends/chat/primary/drain', {
      reason: 'key rotation',
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.processOnly, true);
    assert.equal(reply.body.backend.state, 'drained');
    assert.deepEqual(
      { ...reply.body.backend.drained, since: undefined },
      { since: undefined, operator: null, reason: 'key rotation' },
    );
    assert.equal(await served(h), 'standby');
    assert.equal(await served(h), 'standby');
    // Kept as a last resort: the standby failing, the drained backend still answers.
    h.providers.failing.add('standby');
    assert.equal(await served(h), 'primary');
    assert.deepEqual(h.providers.called, ['standby', 'primary']);
    h.providers.failing.clear();
    assert.equal(
      (await call(h.routes, 'GET', '/admin/backends')).body.backends[0].state,
      'drained',
    );
    await call(h.routes, 'POST', '/admin/backends/chat/primary/reset');
    assert.equal(await served(h), 'primary');
    assert.deepEqual(h.actions, ['drain', 'reset']);
    assert.deepEqual(
      h.logs.map(([message]) => message),
      ['backend drained', 'backend reset'],
    );
  });

  it("a reset's and a drain's reply show the pool the listing shows, where the process holds it", async () => {
    const h = harness({
      upstreamPools: () => [{ origin: 'http://127.0.0.1:9001', open: 3, busy: 2, waiting: 1 }],
    });
    const listed = (await call(h.routes, 'GET', '/admin/backends')).body.backends[0].upstream;
    assert.equal(listed.known, true);
    for (const action of ['drain', 'reset']) {
      const reply = await call(h.routes, 'POST', `/admin/backends/chat/primary/${action}`);
      assert.equal(reply.status, 200, action);
      assert.deepEqual(reply.body.backend.upstream, listed, action);
    }
  });

  it('an unknown route or backend is a 404 naming it; nothing is done', async () => {
    const h = harness();
    const noRoute = await call(h.routes, 'POST', '/admin/backends/nope/primary/reset');
    assert.equal(noRoute.status, 404);
    assert.deepEqual(noRoute.body, {
      error: { type: 'not_found', message: 'no route "nope" in the configuration in force' },
    });
    const noBackend = await call(h.routes, 'POST', '/admin/backends/chat/ghost/drain');
    assert.equal(noBackend.status, 404);
    assert.match(noBackend.body.error.message, /route "chat" has no backend "ghost"/);
    assert.deepEqual(h.actions, []);
  });

  it('a bad body is a 400 listing its issues, in the admin routes’ shape', async () => {
    const h = harness();
    for (const [body, path] of [
      [[], ''],
      ['text', ''],
      [{ operator: 7 }, 'operator'],
      [{ reason: '' }, 'reason'],
      [{ reason: 'x'.repeat(201) }, 'reason'],
      [{ weight: 0 }, 'weight'],
    ] as const) {
      const reply = await call(h.routes, 'POST', '/admin/backends/chat/primary/drain', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.body.error.type, 'invalid_request');
      assert.equal(reply.body.error.issues[0].path, path);
    }
    assert.deepEqual(h.actions, []);
    assert.equal(await served(h), 'primary', 'nothing was drained');
  });
});

describe('the backend routes on the admin port', () => {
  const TOKEN = 'an-operator-token-of-some-length';
  const h = harness();
  const server = new AdminServer({
    metrics: async () => '',
    metricsContentType: 'text/plain',
    ready: async () => ({ ready: true, checks: {} }),
    routes: h.routes,
    access: adminAccessFrom({ AI_GATEWAY_ADMIN_TOKEN: TOKEN }),
  });
  let base = '';
  before(async () => {
    base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  });
  after(() => server.close());

  it('refuse a caller without the token, answer its bearer', async () => {
    const reset = (headers: Record<string, string>) =>
      fetch(`${base}/admin/backends/chat/primary/drain`, { method: 'POST', headers, body: '{}' });
    assert.equal((await reset({})).status, 401);
    assert.equal((await fetch(`${base}/admin/backends`)).status, 401);
    assert.deepEqual(h.actions, []);
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await reset({ ...auth, origin: 'https://x.example' })).status, 403);
    assert.equal((await reset(auth)).status, 200);
    const list = await fetch(`${base}/admin/backends`, { headers: auth });
    assert.equal(list.status, 200);
    const body = (await list.json()) as { backends: { state: string }[] };
    assert.equal(body.backends[0].state, 'drained');
    // Percent-encoded names are decoded before they are looked up.
    const encoded = await fetch(`${base}/admin/backends/ch%61t/primary/reset`, {
      method: 'POST',
      headers: auth,
    });
    assert.equal(encoded.status, 200);
  });
});
