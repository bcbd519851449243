import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type GatewayConfig } from '@aigw/config';
import { configFromYaml as configFrom } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonObject,
  type ProviderCall,
  type ProviderPort,
  type RequestOverrides,
} from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { BackendHealth } from './domain/backend-health';
import { FailoverRouter, type AppliedOverrides } from './failover-router';

/** Four backends of gpt-4 in priority order, then a cheaper model; three retries. */
const CHAIN = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 1, provider: openai, model: gpt-4}
  - {name: c, priority: 2, provider: openai, model: gpt-4}
  - {name: d, priority: 3, provider: openai, model: gpt-4}
  - {name: cheap, priority: 0, provider: openai, model: gpt-4o-mini}
  failover: {on: [rateLimit, timeout, error], retryAttempts: 3}
  retry:
    fallbackStrategy: cheaperModel
    fallbackOrder: [gpt-4, gpt-4o-mini]
`);

function request(overrides?: RequestOverrides, stream = false): GatewayRequest {
  return gatewayChatRequest(
    { model: 'gpt-4' },
    {
      requestId: 'r1',
      requestedModel: 'gpt-4',
      stream,
      caller: { userKey: 'u' },
      ...(overrides ? { overrides } : {}),
    },
  );
}

type Script = (call: ProviderCall) => Promise<GatewayAnswer>;

class ScriptedProviders implements ProviderPort {
  readonly calls: ProviderCall[] = [];
  constructor(private readonly script: Record<string, Script>) {}
  invoke(call: ProviderCall): Promise<GatewayAnswer> {
    this.calls.push(call);
    return (this.script[call.target.backendName] ?? ok)(call);
  }
  get backends(): string[] {
    return this.calls.map((call) => call.target.backendName);
  }
}

const servedBy = (call: ProviderCall) => ({
  backend: call.target.backendName,
  provider: call.target.provider,
  model: call.target.model,
});

const ok: Script = async (call) => ({
  kind: 'json',
  status: 200,
  body: { choices: [] },
  usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
  servedBy: servedBy(call),
});

const failing: Script = async () => {
  throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'scripted failure');
};

/** An upstream that never answers: it ends only when its call is cancelled. */
const hanging: Script = (call) =>
  new Promise((_, reject) => {
    call.signal.addEventListener('abort', () => reject(call.signal.reason as Error), {
      once: true,
    });
  });

/** A stream whose first event comes at once and whose second never does. */
const stalling: Script = async (call) => ({
  kind: 'stream',
  status: 200,
  usage: new Promise(() => undefined),
  servedBy: servedBy(call),
  events: (async function* (): AsyncGenerator<JsonObject> {
    yield { choices: [{ index: 0, delta: { content: 'Hel' } }] };
    await hanging(call);
  })(),
});

const noSleep = async () => undefined;
const signal = () => new AbortController().signal;
const pendingTimers = () =>
  process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

function routerWith(
  script: Record<string, Script>,
  options: { config?: GatewayConfig; sleep?: (ms: number, s: AbortSignal) => Promise<void> } = {},
) {
  const providers = new ScriptedProviders(script);
  const applied: AppliedOverrides[] = [];
  const health = new BackendHealth();
  const router = new FailoverRouter({
    config: () => options.config ?? CHAIN,
    providers,
    health,
    sleep: options.sleep ?? noSleep,
    observer: { fallback: () => undefined, overridden: (_r, o) => void applied.push(o) },
  });
  return { router, providers, applied, health };
}

const everyBackendFails = { a: failing, b: failing, c: failing, d: failing, cheap: failing };

describe('FailoverRouter: x-ai-gateway-fallback none', () => {
  it('calls the first backend only: no other backend, no cheaper model', async () => {
    // retryAttempts unset: one call per backend of the chain, so one call here.
    const config = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 1, provider: openai, model: gpt-4}
  - {name: cheap, priority: 0, provider: openai, model: gpt-4o-mini}
  failover: {on: [rateLimit, timeout, error]}
  retry:
    maxAttempts: 1
    fallbackStrategy: cheaperModel
    fallbackOrder: [gpt-4, gpt-4o-mini]
`);
    const { router, providers, applied } = routerWith({ a: failing }, { config });
    await assert.rejects(router.route(request({ fallback: false }), signal()), {
      message: 'scripted failure',
    });
    assert.deepEqual(providers.backends, ['a']);
    assert.deepEqual(applied, [{ fallback: false }]);
  });

  it("retries on that backend alone, as many times as the route's retryAttempts", async () => {
    const { router, providers } = routerWith(everyBackendFails);
    await assert.rejects(router.route(request({ fallback: false }), signal()));
    assert.deepEqual(providers.backends, ['a', 'a', 'a', 'a']);
  });
});

describe('FailoverRouter: x-ai-gateway-fallback none, the model itself', () => {
  it('calls a backend of the requested model even when only a cheaper one is healthy', async () => {
    const { router, providers, health } = routerWith({});
    for (const name of ['a', 'b', 'c', 'd']) health.recordFailure(name, 60_000);
    const answer = await router.route(request({ fallback: false }), signal());
    assert.equal(answer.servedBy.backend, 'a');
    assert.deepEqual(providers.backends, ['a']);
  });

  it('refuses rather than call a cheaper model when no backend of the model can be called', async () => {
    const config = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, provider: openai, model: gpt-4, auth: {apiKeyRef: {name: missing-key}}}
  - {name: cheap, provider: openai, model: gpt-4o-mini}
  failover: {on: [error]}
  retry:
    fallbackStrategy: cheaperModel
    fallbackOrder: [gpt-4, gpt-4o-mini]
`);
    const { router, providers } = routerWith({}, { config });
    await assert.rejects(router.route(request({ fallback: false }), signal()), {
      code: DataPlaneErrorCode.NoBackendAvailable,
      message: /x-ai-gateway-fallback: none/,
    });
    assert.deepEqual(providers.backends, []);
  });
});

describe('FailoverRouter: x-ai-gateway-retries', () => {
  it('makes at most that many calls after the first', async () => {
    const { router, providers } = routerWith(everyBackendFails);
    await assert.rejects(router.route(request({ retries: 1 }), signal()));
    assert.deepEqual(providers.backends, ['a', 'b']);
  });

  it('makes one call with 0', async () => {
    const { router, providers } = routerWith(everyBackendFails);
    await assert.rejects(router.route(request({ retries: 0 }), signal()));
    assert.deepEqual(providers.backends, ['a']);
  });

  it("is clamped to the route's retryAttempts, and says so", async () => {
    const { router, providers, applied } = routerWith(everyBackendFails);
    await assert.rejects(router.route(request({ retries: 10 }), signal()));
    assert.deepEqual(providers.backends, ['a', 'b', 'c', 'd']);
    assert.deepEqual(applied, [{ retries: 3, retriesClamped: true }]);
  });
});

describe('FailoverRouter: x-ai-gateway-request-timeout-ms', () => {
  it('ends a call past its deadline with a timeout and cancels the upstream call', async () => {
    const { router, providers, health } = routerWith({ a: hanging });
    const started = performance.now();
    await assert.rejects(
      router.route(request({ timeoutMs: 80 }), signal()),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.UpstreamTimeout &&
        error.httpStatus === 504 &&
        /x-ai-gateway-request-timeout-ms \(80 ms\)/.test(error.message),
    );
    // Not before the header's 80 ms; the backend's own first-byte timeout (15 s) never came
    // into it. A loaded machine may add a pause, so the upper bound leaves room for one.
    const took = performance.now() - started;
    assert.ok(took >= 75 && took < 10_000, `ended after ${took} ms`);
    assert.equal(providers.calls[0].signal.aborted, true, 'the upstream call was cancelled');
    assert.deepEqual(providers.backends, ['a'], 'no failover past the deadline');
    assert.equal(health.isCooling('a'), false, "the client's deadline is not the backend's fault");
  });

  it('covers every attempt: failover spends the same deadline', async () => {
    const failSlowly: Script = async () => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'slow failure');
    };
    const { router, providers } = routerWith({ a: failSlowly, b: hanging });
    const started = performance.now();
    await assert.rejects(router.route(request({ timeoutMs: 150 }), signal()), {
      code: DataPlaneErrorCode.UpstreamTimeout,
    });
    const took = performance.now() - started;
    assert.ok(took >= 145 && took < 10_000, `ended after ${took} ms, not 150 ms after b began`);
    assert.deepEqual(providers.backends, ['a', 'b']);
    assert.equal(providers.calls[1].signal.aborted, true);
  });

  it('does not sleep a retry delay that would end past the deadline', async () => {
    const config = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [error], retryAttempts: 1, retryDelay: 5s}
`);
    const waits: number[] = [];
    const { router, providers } = routerWith(
      { a: failing },
      { config, sleep: async (ms) => void waits.push(ms) },
    );
    await assert.rejects(router.route(request({ timeoutMs: 1_000 }), signal()), {
      code: DataPlaneErrorCode.UpstreamTimeout,
    });
    assert.deepEqual(waits, []);
    assert.deepEqual(providers.backends, ['a']);
  });

  it('cuts a stream that outlives it after its first event', async () => {
    const { router } = routerWith({ a: stalling });
    const answer = await router.route(request({ timeoutMs: 80 }, true), signal());
    assert.equal(answer.kind, 'stream');
    const received: JsonObject[] = [];
    await assert.rejects(
      (async () => {
        if (answer.kind !== 'stream') return;
        for await (const event of answer.events) received.push(event);
      })(),
      { code: DataPlaneErrorCode.UpstreamTimeout },
    );
    assert.equal(received.length, 1);
  });

  it('runs the call on its own signal, and lets go of its timer once the answer is in', async () => {
    const { router, providers, applied } = routerWith({});
    const client = signal();
    const before = pendingTimers();
    const answer = await router.route(request({ timeoutMs: 60_000 }), client);
    assert.equal(answer.servedBy.backend, 'a');
    assert.notEqual(providers.calls[0].signal, client, "the deadline's signal, not the client's");
    assert.equal(pendingTimers(), before);
    assert.deepEqual(applied, [{ timeoutMs: 60_000 }]);
  });
});
