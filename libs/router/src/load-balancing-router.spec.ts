// loadBalancing through the FailoverRouter: how it counts each backend's calls in flight
// (a stream until it ends) and measures latency (a stream's first event, a JSON answer),
// and how least-busy and lowest-latency then pick among backends of equal priority.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonObject,
  type ProviderCall,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';
import { BackendLoad } from './domain/backend-load';
import { FailoverRouter } from './failover-router';

function configWith(loadBalancing: string): GatewayConfig {
  const result = parseGatewayConfig(
    `
kind: AIGatewayRoute
metadata: {name: r}
spec:
  ${loadBalancing}
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 0, provider: openai, model: gpt-4}
  - {name: fallback, priority: 1, provider: openai, model: gpt-4}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

function request(stream = false): GatewayRequest {
  return {
    requestId: 'r',
    operation: 'chat',
    requestedModel: 'gpt-4',
    stream,
    clientWantsStreamUsage: false,
    body: { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }], stream },
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

/** A virtual clock the fake backends move on by their latency. */
class Clock {
  ms = 0;
  readonly now = () => this.ms;
}

/** Backends answering after `latency[name]` virtual ms; streams of two events. */
function providers(clock: Clock, latency: Record<string, number>, failing = new Set<string>()) {
  const called: string[] = [];
  return {
    called,
    async invoke(call: ProviderCall): Promise<GatewayAnswer> {
      const backend = call.target.backendName;
      called.push(backend);
      const servedBy = { backend, provider: call.target.provider, model: call.target.model };
      const usage = { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0 };
      if (failing.has(backend)) {
        clock.ms += 1;
        throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'down');
      }
      if (!call.request.stream) {
        clock.ms += latency[backend] ?? 0;
        return {
          kind: 'json',
          status: 200,
          body: {},
          usage: { ...usage, source: 'reported' },
          servedBy,
        };
      }
      const events = (async function* (): AsyncGenerator<JsonObject> {
        clock.ms += latency[backend] ?? 0;
        yield { choices: [] };
        clock.ms += 1_000; // the rest of the stream is not latency
        yield { choices: [] };
      })();
      const answer: StreamAnswer = {
        kind: 'stream',
        status: 200,
        events,
        usage: Promise.resolve({ ...usage, source: 'reported' }),
        servedBy,
      };
      return answer;
    },
  };
}

async function drain(answer: GatewayAnswer): Promise<void> {
  if (answer.kind === 'stream') for await (const _ of answer.events) void _;
}

describe('FailoverRouter: load balancing', () => {
  it('counts a stream in flight until it ends, and its latency to the first event', async () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now);
    const p = providers(clock, { a: 50, b: 50 });
    const router = new FailoverRouter({ config: () => configWith(''), providers: p, load });
    const answer = await router.route(request(true), new AbortController().signal);
    assert.deepEqual(load.of('a'), { inFlight: 1, latencyMs: 50, samples: 1 });
    await drain(answer);
    assert.deepEqual(load.of('a'), { inFlight: 0, latencyMs: 50, samples: 1 });
    const dropped = await router.route(request(true), new AbortController().signal);
    assert.equal(load.of('b').inFlight, 1);
    assert.ok(dropped.kind === 'stream');
    for await (const _ of dropped.events) break; // the client reads one event, then leaves
    assert.equal(load.of('b').inFlight, 0, 'a stream given up is no longer in flight');
  });

  it('a stream whose client went away is no longer in flight, read or not', async () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now);
    const router = new FailoverRouter({
      config: () => configWith(''),
      providers: providers(clock, {}),
      load,
    });
    const client = new AbortController();
    await router.route(request(true), client.signal);
    assert.equal(load.of('a').inFlight, 1);
    client.abort();
    assert.equal(load.of('a').inFlight, 0);
  });

  it('a failed call is no longer in flight and is not measured', async () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now);
    const p = providers(clock, { b: 30 }, new Set(['a']));
    const router = new FailoverRouter({
      config: () => configWith(''),
      providers: p,
      load,
      sleep: async () => undefined,
    });
    await router.route(request(), new AbortController().signal);
    assert.deepEqual(p.called, ['a', 'b']);
    assert.deepEqual(load.of('a'), { inFlight: 0, samples: 0 });
    assert.deepEqual(load.of('b'), { inFlight: 0, latencyMs: 30, samples: 1 });
  });

  it('least-busy: streams under way send the next calls to the idle backend', async () => {
    const clock = new Clock();
    const lb = new FailoverRouter({
      config: () => configWith('loadBalancing: {strategy: least-busy}'),
      providers: providers(clock, {}),
    });
    const wrr = new FailoverRouter({
      config: () => configWith(''),
      providers: providers(clock, {}),
    });
    const served = async (router: FailoverRouter) => {
      const open = await router.route(request(true), new AbortController().signal);
      const json = [];
      for (let i = 0; i < 4; i++) {
        json.push((await router.route(request(), new AbortController().signal)).servedBy.backend);
      }
      return [open.servedBy.backend, ...json];
    };
    // a holds the stream: b takes every call while it lasts; by weight alone they alternate.
    assert.deepEqual(await served(lb), ['a', 'b', 'b', 'b', 'b']);
    assert.deepEqual(await served(wrr), ['a', 'b', 'a', 'b', 'a']);
  });

  it('lowest-latency: after one measure each, calls go to the faster backend', async () => {
    const clock = new Clock();
    const p = providers(clock, { a: 200, b: 20 });
    const router = new FailoverRouter({
      load: new BackendLoad(clock.now),
      config: () => configWith('loadBalancing: {strategy: lowest-latency, explorationPercent: 10}'),
      providers: p,
      random: () => 0.5, // never below 10%: no exploration here
    });
    for (let i = 0; i < 6; i++) await router.route(request(), new AbortController().signal);
    assert.deepEqual(p.called, ['a', 'b', 'b', 'b', 'b', 'b']);
    assert.deepEqual(
      router.backendLoads().map((l) => [l.backend, l.latencyMs]),
      [
        ['a', 200],
        ['b', 20],
        ['fallback', undefined],
      ],
    );
  });
});

describe('FailoverRouter: lowest-latency with ageing figures', () => {
  it('retries a backend whose slow figure went stale, reading the clock once to order', async () => {
    const clock = new Clock();
    let reads = 0;
    const counted = () => (reads++, clock.ms);
    const latency = { a: 200, b: 20 };
    const p = providers(clock, latency);
    const router = new FailoverRouter({
      load: new BackendLoad(counted, 60_000),
      config: () => configWith('loadBalancing: {strategy: lowest-latency, explorationPercent: 10}'),
      providers: p,
      random: () => 0.5, // never below 10%: no exploration here
    });
    const call = () => router.route(request(), new AbortController().signal);
    await call();
    await call();
    assert.deepEqual(p.called, ['a', 'b']);
    // A JSON call reads the clock at its start and its answer; ordering reads it once.
    reads = 0;
    await call();
    assert.equal(reads, 3);
    // b keeps every call for the half-life; a, measured slow once, is not called.
    clock.ms += 59_000;
    await call();
    assert.deepEqual(p.called.slice(2), ['b', 'b']);
    // a's figure is 60 s old now: unmeasured, so it gets the next call, and is quick now.
    clock.ms += 1_000;
    latency.a = 10;
    await call();
    assert.equal(p.called.at(-1), 'a');
    const figure = router.backendLoads().find((l) => l.backend === 'a')?.latencyMs ?? 0;
    assert.ok(figure > 100 && figure < 110, `the stale 200 about halved toward 10: ${figure}`);
    await call();
    assert.equal(p.called.at(-1), 'b', 'a fresh figure counts again: b is still faster');
  });
});

describe('FailoverRouter: lowest-latency, a stale backend that fails', () => {
  it('is probed once a half-life, not first on every request while it fails', async () => {
    const clock = new Clock();
    const failing = new Set<string>();
    const p = providers(clock, { a: 200, b: 20 }, failing);
    const router = new FailoverRouter({
      load: new BackendLoad(clock.now, 60_000),
      config: () => configWith('loadBalancing: {strategy: lowest-latency, explorationPercent: 0}'),
      providers: p,
      sleep: async () => undefined,
    });
    const call = () => router.route(request(), new AbortController().signal);
    await call();
    await call();
    assert.deepEqual(p.called, ['a', 'b']);
    // a answered at 200 ms, b at 220: at 60 205 a's figure is stale, b's is not.
    clock.ms = 60_205;
    failing.add('a');
    // a's probe fails over to b.
    await call();
    assert.deepEqual(p.called.slice(2), ['a', 'b']);
    // The probe is spent: a's old figure orders it again (below the failure threshold, so
    // no cooldown would keep it from going first on every request).
    await call();
    await call();
    assert.deepEqual(p.called.slice(4), ['b', 'b']);
  });
});

describe('FailoverRouter: lowest-latency, calls in flight by kind', () => {
  it("a stream under way holds back the backend's stream probe, not its JSON one", async () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now, 60_000);
    const p = providers(clock, { a: 50, b: 50 });
    const router = new FailoverRouter({
      load,
      config: () => configWith('loadBalancing: {strategy: lowest-latency, explorationPercent: 0}'),
      providers: p,
    });
    const answer = await router.route(request(true), new AbortController().signal);
    const backend = p.called[0];
    assert.equal(load.of(backend, 'stream').kindInFlight, 1);
    assert.equal(load.of(backend, 'json').kindInFlight, 0, 'no JSON call is measuring it');
    assert.equal(load.of(backend).inFlight, 1);
    await drain(answer);
    assert.equal(load.of(backend, 'stream').kindInFlight, 0);
  });
});

describe('FailoverRouter: load balancing, listeners on a long-lived signal', () => {
  it("leaves no abort listener behind on a signal that outlives the call (a dedup leader's)", async () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now);
    const router = new FailoverRouter({
      config: () => configWith(''),
      providers: providers(clock, {}),
      load,
    });
    // The edge's deduplication calls every leader with one signal that never aborts.
    const detached = new AbortController().signal;
    for (let i = 0; i < 20; i++) await drain(await router.route(request(true), detached));
    assert.equal(getEventListeners(detached, 'abort').length, 0);
    assert.equal(load.of('a').inFlight + load.of('b').inFlight, 0);
  });
});

describe('FailoverRouter: lowest-latency, a backend that never answered and fails', () => {
  it('is probed once a half-life, not first on every request', async () => {
    // Errors reach the client (no failover on them, so no cooldown either): a backend
    // with a wrong deployment name, answering 404 at once.
    const result = parseGatewayConfig(
      `
kind: AIGatewayRoute
metadata: {name: r}
spec:
  loadBalancing: {strategy: lowest-latency, explorationPercent: 0}
  failover: {on: [rateLimit]}
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 0, provider: openai, model: gpt-4}
`,
      { missingSecrets: 'warn', env: {} },
    );
    assert.ok(result.ok);
    const clock = new Clock();
    const p = providers(clock, { b: 20 }, new Set(['a']));
    const router = new FailoverRouter({
      load: new BackendLoad(clock.now, 60_000),
      config: () => result.config,
      providers: p,
    });
    let failed = 0;
    const call = () =>
      router.route(request(), new AbortController().signal).catch(() => void failed++);
    for (let i = 0; i < 10; i++) await call();
    assert.deepEqual(p.called, ['a', ...Array<string>(9).fill('b')], 'one probe of a');
    assert.equal(failed, 1);
    // A half-life on, a is probed again, once.
    clock.ms += 60_000;
    await call();
    await call();
    assert.deepEqual(p.called.slice(10), ['a', 'b']);
  });
});
