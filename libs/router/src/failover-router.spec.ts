import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig } from '@aigw/config';
import { configFromYaml as configFrom } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import { BackendHealth } from './domain/backend-health';
import { abortableSleep, FailoverRouter, type RouterObserver } from './failover-router';
import {
  answers,
  chatRequest,
  ScriptedProviders,
  streamAnswer,
  type Script,
} from './testing/scripted-providers';

const THREE_BACKENDS = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: openai-gpt4, priority: 0, provider: openai, model: gpt-4}
  - {name: anthropic-claude, priority: 1, provider: openai, model: claude-3-opus, modelNameOverride: gpt-4}
  - {name: gemini, priority: 2, provider: openai, model: gemini-pro, modelNameOverride: gpt-4}
  - {name: cheap, priority: 0, provider: openai, model: gpt-3.5-turbo}
  failover:
    on: [rateLimit, timeout, error]
  retry:
    maxAttempts: 1
    fallbackStrategy: cheaperModel
    fallbackOrder: [gpt-4, gpt-3.5-turbo, gemini-flash]
`);

/** `slow` must send its first stream event within 50 ms, else `fast` is tried. */
const SLOW_FIRST_EVENT_THEN_FAST = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: slow, priority: 0, provider: openai, model: gpt-4, firstByteTimeout: 50ms}
  - {name: fast, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [timeout]}
`);

const request = chatRequest;

const fail =
  (code: DataPlaneErrorCode, retryAfterMs?: number): Script =>
  async () => {
    throw new DataPlaneError(code, 'scripted failure', { retryAfterMs });
  };

function streamOf(events: JsonObject[], breakAfter?: number): Script {
  return async (call) =>
    streamAnswer(
      call,
      (async function* () {
        for (const [index, event] of events.entries()) {
          if (breakAfter !== undefined && index >= breakAfter) {
            throw new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'cut');
          }
          yield event;
        }
      })(),
    );
}

const noSleep = async () => undefined;

/** Whether the router kept a stream attempt (its usage settles the hold) or gave it up. */
function kept(call: ProviderCall): Promise<boolean> {
  const commit = call.streamCommit;
  assert.ok(commit, 'a stream attempt carries its commit');
  return new Promise((resolve) => commit.decided(resolve));
}

describe('FailoverRouter', () => {
  it('uses the highest-priority backend and renames the model for the client', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => THREE_BACKENDS, providers, sleep: noSleep });
    const answer = await router.route(request(), new AbortController().signal);
    assert.equal(providers.calls.length, 1);
    assert.equal(providers.calls[0].target.backendName, 'openai-gpt4');
    assert.equal(answer.kind === 'json' && answer.body.model, 'gpt-4');
  });

  it('fails over in priority order on each trigger in failover.on and reports it', async () => {
    const fallbacks: string[] = [];
    const observer: RouterObserver = {
      fallback: (_r, from, to, reason) =>
        fallbacks.push(`${from.backend.name}->${to.backend.name}:${reason}`),
    };
    const providers = new ScriptedProviders({
      'openai-gpt4': fail(DataPlaneErrorCode.UpstreamRateLimited),
      'anthropic-claude': fail(DataPlaneErrorCode.UpstreamTimeout),
    });
    const router = new FailoverRouter({
      config: () => THREE_BACKENDS,
      providers,
      observer,
      sleep: noSleep,
    });
    const answer = await router.route(request(), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'gemini');
    assert.equal(answer.kind === 'json' && answer.body.model, 'gpt-4');
    assert.equal(providers.calls[2].target.model, 'gemini-pro');
    assert.deepEqual(fallbacks, [
      'openai-gpt4->anthropic-claude:rateLimit',
      'anthropic-claude->gemini:timeout',
    ]);
  });

  it('does not fail over on a trigger the route does not list', async () => {
    const config = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [error]}
`);
    const providers = new ScriptedProviders({ a: fail(DataPlaneErrorCode.UpstreamRateLimited) });
    const router = new FailoverRouter({ config: () => config, providers, sleep: noSleep });
    await assert.rejects(
      router.route(request(), new AbortController().signal),
      (e: unknown) =>
        e instanceof DataPlaneError && e.code === DataPlaneErrorCode.UpstreamRateLimited,
    );
    assert.equal(providers.calls.length, 1);
  });

  it('never fails over on a client error', async () => {
    const providers = new ScriptedProviders({
      'openai-gpt4': fail(DataPlaneErrorCode.UpstreamRejected),
    });
    const router = new FailoverRouter({ config: () => THREE_BACKENDS, providers, sleep: noSleep });
    await assert.rejects(router.route(request(), new AbortController().signal));
    assert.equal(providers.calls.length, 1);
  });

  describe('a backend answering 404 to a model call (it lacks the model or deployment)', () => {
    const notFound: Script = async () => {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamRejected,
        'backend answered 404: The model `gpt-4` does not exist',
        { upstreamStatus: 404 },
      );
    };
    const twoBackends = (on: string) =>
      configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [${on}]}
`);
    /** A router over backends a and b, failing over on `on`'s triggers. */
    const routerOn = (on: string, providers: ScriptedProviders, observer?: RouterObserver) =>
      new FailoverRouter({ config: () => twoBackends(on), providers, observer, sleep: noSleep });

    it('fails over on the error trigger, plain and streamed, and reports it as error', async () => {
      for (const operation of ['chat', 'embeddings', 'completions'] as const) {
        for (const stream of operation === 'embeddings' ? [false] : [false, true]) {
          const fallbacks: string[] = [];
          const observer: RouterObserver = {
            fallback: (_r, from, to, reason) =>
              fallbacks.push(`${from.backend.name}->${to.backend.name}:${reason}`),
          };
          const providers = new ScriptedProviders({
            a: notFound,
            b: stream ? streamOf([{ choices: [] }]) : answers,
          });
          const router = routerOn('error', providers, observer);
          const answer = await router.route(
            request({ operation, stream }),
            new AbortController().signal,
          );
          assert.equal(answer.servedBy.backend, 'b', `${operation} stream=${stream}`);
          assert.deepEqual(fallbacks, ['a->b:error'], `${operation} stream=${stream}`);
        }
      }
    });

    it("answers the last backend's 404 as its failure (502), not the client's 400", async () => {
      const providers = new ScriptedProviders({ a: notFound, b: notFound });
      const router = routerOn('error', providers);
      await assert.rejects(router.route(request(), new AbortController().signal), (e: unknown) => {
        assert.ok(e instanceof DataPlaneError);
        assert.equal(e.code, DataPlaneErrorCode.UpstreamError);
        assert.equal(e.httpStatus, 502);
        assert.equal(e.upstreamStatus, 404);
        assert.match(e.message, /does not exist/);
        return true;
      });
      assert.equal(providers.calls.length, 2);
    });

    it("leaves a wildcard backend's 404 the client's: the model it named does not exist", async () => {
      const providers = new ScriptedProviders({ a: notFound, b: answers });
      const cooled: string[] = [];
      const router = new FailoverRouter({
        config: () =>
          configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai}
  - {name: b, priority: 1, provider: openai}
  failover: {on: [error]}
`),
        providers,
        observer: { fallback: () => undefined, cooledDown: (backend) => cooled.push(backend.name) },
        sleep: noSleep,
      });
      for (let i = 0; i < 3; i++) {
        await assert.rejects(
          router.route(request(), new AbortController().signal),
          // The provider's 404 as it sent it: the SDKs' not-found, not a malformed request.
          (e: unknown) =>
            e instanceof DataPlaneError &&
            e.code === DataPlaneErrorCode.NotFound &&
            e.httpStatus === 404 &&
            e.upstreamStatus === 404,
        );
      }
      assert.equal(providers.calls.length, 3);
      assert.deepEqual(
        providers.calls.map((call) => call.target.backendName),
        ['a', 'a', 'a'],
      );
      assert.deepEqual(cooled, []);
    });

    it('does not fail over when the route does not list error', async () => {
      const providers = new ScriptedProviders({ a: notFound });
      const router = routerOn('rateLimit, timeout', providers);
      await assert.rejects(
        router.route(request(), new AbortController().signal),
        (e: unknown) => e instanceof DataPlaneError && e.upstreamStatus === 404,
      );
      assert.equal(providers.calls.length, 1);
    });

    it('still never fails over on the other refusals of the request (400, 413, 422)', async () => {
      for (const upstreamStatus of [400, 413, 422]) {
        const providers = new ScriptedProviders({
          a: async () => {
            throw new DataPlaneError(DataPlaneErrorCode.UpstreamRejected, 'refused', {
              upstreamStatus,
            });
          },
        });
        const router = routerOn('error', providers);
        await assert.rejects(
          router.route(request(), new AbortController().signal),
          (e: unknown) =>
            e instanceof DataPlaneError && e.code === DataPlaneErrorCode.UpstreamRejected,
        );
        assert.equal(providers.calls.length, 1, String(upstreamStatus));
      }
    });
  });

  it('retries with the cheaper model from retry.fallbackOrder, still named as asked', async () => {
    const providers = new ScriptedProviders({
      'openai-gpt4': fail(DataPlaneErrorCode.UpstreamError),
      'anthropic-claude': fail(DataPlaneErrorCode.UpstreamError),
      gemini: fail(DataPlaneErrorCode.UpstreamError),
    });
    const router = new FailoverRouter({ config: () => THREE_BACKENDS, providers, sleep: noSleep });
    const answer = await router.route(request(), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'cheap');
    assert.equal(providers.calls.at(-1)!.target.model, 'gpt-3.5-turbo');
    assert.equal(answer.kind === 'json' && answer.body.model, 'gpt-4');
  });

  it('reports a fallbackOrder model no backend serves as an error at request time', async () => {
    const providers = new ScriptedProviders({ cheap: fail(DataPlaneErrorCode.UpstreamError) });
    const router = new FailoverRouter({ config: () => THREE_BACKENDS, providers, sleep: noSleep });
    await assert.rejects(
      router.route(request({ requestedModel: 'gpt-3.5-turbo' }), new AbortController().signal),
      (e: unknown) =>
        e instanceof DataPlaneError &&
        e.code === DataPlaneErrorCode.ModelNotFound &&
        /gemini-flash/.test(e.message),
    );
  });

  it('rejects an unknown model and a model the tier may not use', async () => {
    const router = new FailoverRouter({
      config: () => THREE_BACKENDS,
      providers: new ScriptedProviders({}),
      sleep: noSleep,
    });
    await assert.rejects(
      router.route(request({ requestedModel: 'nope' }), new AbortController().signal),
      (e: unknown) => e instanceof DataPlaneError && e.httpStatus === 404,
    );
    await assert.rejects(
      router.route(request({ allowedModels: ['gpt-3.5-turbo'] }), new AbortController().signal),
      (e: unknown) => e instanceof DataPlaneError && e.code === DataPlaneErrorCode.ModelNotAllowed,
    );
  });

  it('waits retryDelay between attempts', async () => {
    const config = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [error], retryAttempts: 1, retryDelay: 250ms}
`);
    const waits: number[] = [];
    const providers = new ScriptedProviders({ a: fail(DataPlaneErrorCode.UpstreamError) });
    const router = new FailoverRouter({
      config: () => config,
      providers,
      sleep: async (ms) => void waits.push(ms),
    });
    await router.route(request(), new AbortController().signal);
    assert.deepEqual(waits, [250]);
  });

  it('cools a backend down after a 429 with Retry-After and tries it last', async () => {
    let now = 1_000;
    const health = new BackendHealth(undefined, () => now);
    const providers = new ScriptedProviders({
      'openai-gpt4': fail(DataPlaneErrorCode.UpstreamRateLimited, 60_000),
    });
    const router = new FailoverRouter({
      config: () => THREE_BACKENDS,
      providers,
      health,
      sleep: noSleep,
    });
    await router.route(request(), new AbortController().signal);
    providers.calls.length = 0;
    await router.route(request(), new AbortController().signal);
    assert.equal(providers.calls[0].target.backendName, 'anthropic-claude');
    now += 61_000;
    providers.calls.length = 0;
    assert.equal(health.isCooling('openai-gpt4'), false);
  });

  it('tells its observer when a backend is cooled down, once, and why', async () => {
    let now = 1_000;
    const health = new BackendHealth(undefined, () => now);
    const cooled: [string, string, number][] = [];
    const observer: RouterObserver = {
      fallback: () => undefined,
      cooledDown: (backend, cooldown) => cooled.push([backend.name, cooldown.reason, cooldown.ms]),
    };
    const providers = new ScriptedProviders({
      'openai-gpt4': fail(DataPlaneErrorCode.UpstreamRateLimited, 60_000),
      'anthropic-claude': fail(DataPlaneErrorCode.UpstreamError),
    });
    const router = new FailoverRouter({
      config: () => THREE_BACKENDS,
      providers,
      health,
      observer,
      sleep: noSleep,
    });
    for (let i = 0; i < 4; i++) await router.route(request(), new AbortController().signal);
    // The 429 cooled its backend at once; the 5xx backend on its third failure in a row,
    // and failing again while cooling started no second cooldown.
    assert.deepEqual(cooled, [
      ['openai-gpt4', 'retry_after', 60_000],
      ['anthropic-claude', 'failures', 30_000],
    ]);
    assert.deepEqual(router.backendStates(), [
      { backend: 'openai-gpt4', cooling: true },
      { backend: 'cheap', cooling: false },
      { backend: 'anthropic-claude', cooling: true },
      { backend: 'gemini', cooling: false },
    ]);
    now += 61_000;
    assert.ok(router.backendStates().every((state) => !state.cooling));
  });

  it('never calls a backend again within a request once it answered with Retry-After', async () => {
    const config = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [rateLimit, error], retryAttempts: 3}
`);
    const providers = new ScriptedProviders({
      a: fail(DataPlaneErrorCode.UpstreamRateLimited, 2_000),
      b: fail(DataPlaneErrorCode.UpstreamError),
    });
    const router = new FailoverRouter({ config: () => config, providers, sleep: noSleep });
    await assert.rejects(
      router.route(request(), new AbortController().signal),
      (e: unknown) => e instanceof DataPlaneError && e.code === DataPlaneErrorCode.UpstreamError,
    );
    assert.deepEqual(
      providers.calls.map((c) => c.target.backendName),
      ['a', 'b', 'b', 'b'],
    );
  });

  it('stops, with the Retry-After, once every backend asked to wait', async () => {
    const config = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4}
  - {name: b, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [rateLimit], retryAttempts: 5}
`);
    const providers = new ScriptedProviders({
      a: fail(DataPlaneErrorCode.UpstreamRateLimited, 2_000),
      b: fail(DataPlaneErrorCode.UpstreamRateLimited, 7_000),
    });
    const router = new FailoverRouter({ config: () => config, providers, sleep: noSleep });
    await assert.rejects(
      router.route(request(), new AbortController().signal),
      (e: unknown) => e instanceof DataPlaneError && e.retryAfterMs === 7_000,
    );
    assert.equal(providers.calls.length, 2, 'one call each, not six');
  });

  it('fails a stream over when it breaks before its first event, not after', async () => {
    const chunk = (content: string): JsonObject => ({
      model: 'x',
      choices: [{ index: 0, delta: { content } }],
    });
    const early = new ScriptedProviders({
      'openai-gpt4': streamOf([chunk('a')], 0),
      'anthropic-claude': streamOf([chunk('b'), chunk('c')]),
    });
    const router = new FailoverRouter({
      config: () => THREE_BACKENDS,
      providers: early,
      sleep: noSleep,
    });
    const answer = await router.route(request({ stream: true }), new AbortController().signal);
    assert.equal(answer.kind, 'stream');
    const seen: JsonObject[] = [];
    if (answer.kind === 'stream') for await (const event of answer.events) seen.push(event);
    assert.equal(seen.length, 2);
    assert.ok(seen.every((event) => event.model === 'gpt-4'));
    // Only the attempt that served settles the hold; the one cut before its first event
    // (its usage known before the router's catch ran) only spends.
    assert.deepEqual(await Promise.all(early.calls.map(kept)), [false, true]);

    const late = new ScriptedProviders({ 'openai-gpt4': streamOf([chunk('a'), chunk('b')], 1) });
    const router2 = new FailoverRouter({
      config: () => THREE_BACKENDS,
      providers: late,
      sleep: noSleep,
    });
    const committed = await router2.route(request({ stream: true }), new AbortController().signal);
    await assert.rejects(
      async () => {
        if (committed.kind === 'stream')
          for await (const _event of committed.events) {
            /* drain */
          }
      },
      (e: unknown) =>
        e instanceof DataPlaneError && e.code === DataPlaneErrorCode.StreamInterrupted,
    );
    assert.equal(late.calls.length, 1);
    // Cut after its first event: still the stream that served, so its usage settles.
    assert.equal(await kept(late.calls[0]), true);
  });

  it('times out a stream whose first event does not come in time, and fails over', async () => {
    const config = SLOW_FIRST_EVENT_THEN_FAST;
    const providers = new ScriptedProviders({
      slow: async (call) => ({
        kind: 'stream',
        status: 200,
        usage: new Promise(() => undefined),
        servedBy: { backend: 'slow', provider: 'openai', model: call.target.model },
        events: (async function* () {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          yield { choices: [] };
        })(),
      }),
      fast: streamOf([{ choices: [] }]),
    });
    const router = new FailoverRouter({ config: () => config, providers, sleep: noSleep });
    const answer = await router.route(request({ stream: true }), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'fast');
    // The late attempt, given up, does not settle the hold its successor still needs.
    assert.deepEqual(await Promise.all(providers.calls.map(kept)), [false, true]);
  });

  it('lets go of the backend whose first event came too late, not just of its stream', async () => {
    const config = SLOW_FIRST_EVENT_THEN_FAST;
    let slowCall: ProviderCall | undefined;
    const providers = new ScriptedProviders({
      // Like an adapter reading a silent body: only the call's signal ends the wait.
      slow: async (call) => {
        slowCall = call;
        return {
          kind: 'stream',
          status: 200,
          usage: new Promise(() => undefined),
          servedBy: { backend: 'slow', provider: 'openai', model: call.target.model },
          events: (async function* () {
            await new Promise((resolve) =>
              call.signal.addEventListener('abort', resolve, { once: true }),
            );
            throw call.signal.reason;
          })(),
        };
      },
      fast: streamOf([{ choices: [] }, { choices: [] }]),
    });
    const router = new FailoverRouter({ config: () => config, providers, sleep: noSleep });
    const client = new AbortController();
    const answer = await router.route(request({ stream: true }), client.signal);
    assert.equal(answer.servedBy.backend, 'fast');
    assert.equal(slowCall?.signal.aborted, true, "the slow backend's call is cancelled");
    assert.ok(
      slowCall?.signal.reason instanceof DataPlaneError &&
        slowCall.signal.reason.code === DataPlaneErrorCode.UpstreamTimeout,
    );
    // The answer that was served still runs under the client's signal alone.
    const fastCall = providers.calls[1];
    assert.equal(fastCall.signal.aborted, false);
    if (answer.kind === 'stream') for await (const _ of answer.events) void _;
    assert.equal(fastCall.signal.aborted, false);
    assert.equal(getEventListeners(client.signal, 'abort').length, 0, 'no listener left behind');
    client.abort();
  });

  it("waits for an image stream's first event as a JSON image's answer, not the first-byte timeout", async () => {
    // A gpt-image stream's first event is an image (the completed one without
    // partial_images): it takes as long as the JSON answer, far past a chat first byte.
    const config = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: painter, priority: 0, provider: openai, model: gpt-image-1, firstByteTimeout: 50ms, requestTimeout: 5s}
  - {name: other, priority: 1, provider: openai, model: gpt-image-1}
  failover: {on: [timeout]}
`);
    const slowImage: Script = async (call) => ({
      kind: 'stream',
      status: 200,
      usage: new Promise(() => undefined),
      servedBy: { backend: call.target.backendName, provider: 'openai', model: call.target.model },
      events: (async function* () {
        await new Promise((resolve) => setTimeout(resolve, 200));
        yield { type: 'image_generation.completed', b64_json: 'AAAA' };
      })(),
    });
    const providers = new ScriptedProviders({ painter: slowImage, other: slowImage });
    const router = new FailoverRouter({ config: () => config, providers, sleep: noSleep });
    const answer = await router.route(
      request({
        operation: 'images',
        requestedModel: 'gpt-image-1',
        stream: true,
        body: { model: 'gpt-image-1', prompt: 'a fox', stream: true },
      }),
      new AbortController().signal,
    );
    assert.equal(answer.servedBy.backend, 'painter');
    assert.equal(providers.calls.length, 1);
  });

  it('lists the virtual model names', () => {
    const router = new FailoverRouter({
      config: () => THREE_BACKENDS,
      providers: new ScriptedProviders({}),
    });
    assert.deepEqual([...router.listModels()].sort(), ['gpt-3.5-turbo', 'gpt-4']);
  });
});

describe('FailoverRouter: backends with an API key', () => {
  const KEYED = `
kind: AIGatewayRoute
metadata: {name: keyed}
spec:
  backends:
  - {name: primary, priority: 0, provider: openai, model: gpt-4, auth: {apiKeyRef: {name: primary-key}}}
  - {name: secondary, priority: 1, provider: openai, model: gpt-4, auth: {apiKeyRef: {name: secondary-key}}}
`;
  const keyedConfig = (missingSecrets: 'warn' | 'not-needed', env: Record<string, string>) => {
    const result = parseGatewayConfig(KEYED, { missingSecrets, env });
    if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
    return result.config;
  };

  it('skips a backend whose key is missing (warn) and calls the next with its key', async () => {
    const config = keyedConfig('warn', { AI_GATEWAY_SECRET_SECONDARY_KEY_APIKEY: 'sk-second' });
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => config, providers, sleep: noSleep });
    const answer = await router.route(request(), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'secondary');
    assert.deepEqual(
      providers.calls.map((c) => c.target.backendName),
      ['secondary'],
    );
    assert.equal(providers.calls[0].target.credential?.apiKey.reveal(), 'sk-second');
  });

  it('refuses a request when no backend has its key (warn)', async () => {
    const config = keyedConfig('warn', {});
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => config, providers, sleep: noSleep });
    await assert.rejects(
      router.route(request(), new AbortController().signal),
      (error: DataPlaneError) => error.code === DataPlaneErrorCode.NoBackendAvailable,
    );
    assert.equal(providers.calls.length, 0);
  });

  it('calls a backend whose key the provider-adapter holds (not-needed), sending none', async () => {
    const config = keyedConfig('not-needed', {});
    const providers = new ScriptedProviders({ primary: fail(DataPlaneErrorCode.UpstreamError) });
    const router = new FailoverRouter({ config: () => config, providers, sleep: noSleep });
    const answer = await router.route(request(), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'secondary');
    assert.deepEqual(
      providers.calls.map((c) => [c.target.backendName, c.target.credential]),
      [
        ['primary', undefined],
        ['secondary', undefined],
      ],
    );
  });
});

describe('FailoverRouter: operations a backend cannot serve', () => {
  const MIXED = configFrom(`
kind: AIGatewayRoute
metadata: {name: audio}
spec:
  backends:
  - {name: claude, priority: 0, provider: anthropic, model: claude-sonnet-4-5, modelNameOverride: stt}
  - {name: whisper, priority: 1, provider: groq, model: whisper-large-v3, modelNameOverride: stt}
  - {name: gemini-only, provider: google-gemini, model: gemini-2.5-flash}
  failover:
    on: [rateLimit, timeout, error]
`);
  const transcription = (model: string) =>
    request({ operation: 'transcriptions', requestedModel: model, body: { model } });

  it('skips a backend without audio and calls the next that has it', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    const answer = await router.route(transcription('stt'), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'whisper');
    assert.deepEqual(
      providers.calls.map((call) => call.target.backendName),
      ['whisper'],
    );
  });

  it('refuses with a 400 naming the operation when no backend has it, calling none', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    await assert.rejects(
      router.route(transcription('gemini-2.5-flash'), new AbortController().signal),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        /serves transcriptions/.test(error.message),
    );
    assert.equal(providers.calls.length, 0);
  });

  // An adapter refuses completions or embeddings it has no API for with a 400, which no
  // failover trigger covers: a chain led by such a backend answered that 400, never trying
  // the backend behind it that serves them.
  it('skips backends without completions or embeddings and calls the next that has them', async () => {
    const mixed = configFrom(`
kind: AIGatewayRoute
metadata: {name: text}
spec:
  backends:
  - {name: claude, priority: 0, provider: anthropic, model: claude-haiku-4-5, modelNameOverride: writer}
  - {name: groq, priority: 1, provider: groq, model: llama-3.3-70b, modelNameOverride: writer}
  - {name: openai, priority: 2, provider: openai, model: gpt-4o-mini, modelNameOverride: writer}
`);
    for (const operation of ['completions', 'embeddings'] as const) {
      const providers = new ScriptedProviders({});
      const router = new FailoverRouter({ config: () => mixed, providers });
      const answer = await router.route(
        request({ operation, requestedModel: 'writer', body: { model: 'writer' } }),
        new AbortController().signal,
      );
      assert.equal(answer.servedBy.backend, 'openai', operation);
      assert.deepEqual(
        providers.calls.map((call) => call.target.backendName),
        ['openai'],
      );
    }
  });

  it('skips backends without images, and vLLM, for image generation', async () => {
    const images = configFrom(`
kind: AIGatewayRoute
metadata: {name: images}
spec:
  backends:
  - {name: vllm, priority: 0, provider: vllm, baseUrl: "http://vllm:8000", model: m, modelNameOverride: painter}
  - {name: claude, priority: 1, provider: anthropic, model: claude-haiku-4-5, modelNameOverride: painter}
  - {name: together, priority: 2, provider: together, model: flux, modelNameOverride: painter}
`);
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => images, providers });
    const answer = await router.route(
      request({ operation: 'images', requestedModel: 'painter', body: { model: 'painter' } }),
      new AbortController().signal,
    );
    assert.equal(answer.servedBy.backend, 'together');
    assert.equal(providers.calls.length, 1);
  });

  describe('moderations and rerank', () => {
    const SCORING = configFrom(`
kind: AIGatewayRoute
metadata: {name: scoring}
spec:
  backends:
  - {name: azure, priority: 0, provider: azure, baseUrl: "https://res.openai.azure.com", model: m, modelNameOverride: guard}
  - {name: openai, priority: 1, provider: openai, model: omni-moderation-latest, modelNameOverride: guard}
  - {name: openai-rr, priority: 0, provider: openai, model: m, modelNameOverride: ranker}
  - {name: vllm, priority: 1, provider: vllm, baseUrl: "http://vllm:8000/v1", model: bge, modelNameOverride: ranker}
  - {name: cohere, priority: 2, provider: cohere, model: rerank-v3.5, modelNameOverride: ranker}
  - {name: azure-only, provider: azure, baseUrl: "https://res.openai.azure.com", model: azure-dep}
  failover:
    on: [rateLimit, timeout, error]
`);
    const scoring = (operation: 'moderations' | 'rerank', model: string) =>
      request({ operation, requestedModel: model, body: { model } });

    it('moderates on OpenAI, never Azure OpenAI', async () => {
      const providers = new ScriptedProviders({});
      const router = new FailoverRouter({ config: () => SCORING, providers });
      const answer = await router.route(
        scoring('moderations', 'guard'),
        new AbortController().signal,
      );
      assert.equal(answer.servedBy.backend, 'openai');
      assert.equal(providers.calls.length, 1);
    });

    it('reranks on vLLM, then Cohere, never OpenAI', async () => {
      const providers = new ScriptedProviders({
        vllm: fail(DataPlaneErrorCode.UpstreamRateLimited),
      });
      const router = new FailoverRouter({ config: () => SCORING, providers });
      const answer = await router.route(scoring('rerank', 'ranker'), new AbortController().signal);
      assert.equal(answer.servedBy.backend, 'cohere');
      assert.deepEqual(
        providers.calls.map((call) => call.target.backendName),
        ['vllm', 'cohere'],
      );
    });

    it('refuses a chain without either with a 400 naming where to route it', async () => {
      const providers = new ScriptedProviders({});
      const router = new FailoverRouter({ config: () => SCORING, providers });
      for (const [operation, where] of [
        ['moderations', /serves moderations: route it to an OpenAI or OpenAI-compatible/],
        ['rerank', /serves rerank: route it to a Cohere, vLLM/],
      ] as const) {
        await assert.rejects(
          router.route(scoring(operation, 'azure-dep'), new AbortController().signal),
          (error: unknown) =>
            error instanceof DataPlaneError &&
            error.code === DataPlaneErrorCode.InvalidRequest &&
            where.test(error.message),
        );
      }
      assert.equal(providers.calls.length, 0);
    });
  });

  it('leaves chat on every backend', async () => {
    const providers = new ScriptedProviders({});
    const router = new FailoverRouter({ config: () => MIXED, providers });
    const answer = await router.route(
      request({ requestedModel: 'stt', body: { model: 'stt', messages: [] } }),
      new AbortController().signal,
    );
    assert.equal(answer.servedBy.backend, 'claude');
  });

  describe('speech as server-sent events', () => {
    const VOICES = configFrom(`
kind: AIGatewayRoute
metadata: {name: voices}
spec:
  backends:
  - {name: azure, priority: 0, provider: azure, baseUrl: "https://res.openai.azure.com", model: tts, modelNameOverride: voice}
  - {name: openai, priority: 1, provider: openai, model: gpt-4o-mini-tts, modelNameOverride: voice}
  - {name: azure-only, provider: azure, baseUrl: "https://res.openai.azure.com", model: tts-deployment}
  failover:
    on: [rateLimit, timeout, error]
`);
    const speech = (model: string, streamFormat?: string) =>
      request({
        operation: 'speech',
        requestedModel: model,
        stream: true,
        body: { model, voice: 'alloy', input: 'hi', stream_format: streamFormat },
      });

    it('skips Azure OpenAI, whose speech API has no events, and calls the next backend', async () => {
      const providers = new ScriptedProviders({});
      const router = new FailoverRouter({ config: () => VOICES, providers });
      await router.route(speech('voice', 'sse'), new AbortController().signal);
      await router.route(speech('voice', 'audio'), new AbortController().signal);
      assert.deepEqual(
        providers.calls.map((call) => call.target.backendName),
        ['openai', 'azure'],
      );
    });

    it('refuses with a 400 naming stream_format when only Azure could speak it, calling none', async () => {
      const providers = new ScriptedProviders({});
      const router = new FailoverRouter({ config: () => VOICES, providers });
      await assert.rejects(
        router.route(speech('tts-deployment', 'sse'), new AbortController().signal),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === 'stream_format' &&
          /server-sent events/.test(error.message),
      );
      assert.equal(providers.calls.length, 0);
    });
  });

  describe('image streams', () => {
    const PAINTERS = configFrom(`
kind: AIGatewayRoute
metadata: {name: painters}
spec:
  backends:
  - {name: together, priority: 0, provider: together, model: flux, modelNameOverride: painter}
  - {name: azure, priority: 1, provider: azure, baseUrl: "https://res.openai.azure.com", model: img, modelNameOverride: painter}
  - {name: together-only, provider: together, model: flux-only}
  failover:
    on: [rateLimit, timeout, error]
`);
    const images = (model: string, stream: boolean) =>
      request({
        operation: 'images',
        requestedModel: model,
        stream,
        body: { model, prompt: 'a fox', stream },
      });

    it('skips Together, whose image API answers whole, for a stream only', async () => {
      const providers = new ScriptedProviders({});
      const router = new FailoverRouter({ config: () => PAINTERS, providers });
      await router.route(images('painter', true), new AbortController().signal);
      await router.route(images('painter', false), new AbortController().signal);
      assert.deepEqual(
        providers.calls.map((call) => call.target.backendName),
        ['azure', 'together'],
      );
    });

    it('makes variations on OpenAI and OpenAI-compatible backends only', async () => {
      const VARIERS = configFrom(`
kind: AIGatewayRoute
metadata: {name: variers}
spec:
  backends:
  - {name: azure, priority: 0, provider: azure, baseUrl: "https://res.openai.azure.com", model: dalle2, modelNameOverride: varier}
  - {name: together, priority: 1, provider: together, model: flux, modelNameOverride: varier}
  - {name: openai, priority: 2, provider: openai, model: dall-e-2, modelNameOverride: varier}
  - {name: azure-only, provider: azure, baseUrl: "https://res.openai.azure.com", model: dalle2-only}
`);
      const providers = new ScriptedProviders({});
      const router = new FailoverRouter({ config: () => VARIERS, providers });
      const vary = (model: string) =>
        request({ operation: 'image-variations', requestedModel: model, body: { model } });
      await router.route(vary('varier'), new AbortController().signal);
      assert.deepEqual(
        providers.calls.map((call) => call.target.backendName),
        ['openai'],
      );
      await assert.rejects(
        router.route(vary('dalle2-only'), new AbortController().signal),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.param === 'model' &&
          /serves image-variations: route it to an OpenAI or OpenAI-compatible backend/.test(
            error.message,
          ),
      );
    });

    it('refuses with a 400 naming stream when only Together could make it, calling none', async () => {
      const providers = new ScriptedProviders({});
      const router = new FailoverRouter({ config: () => PAINTERS, providers });
      await assert.rejects(
        router.route(images('flux-only', true), new AbortController().signal),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === 'stream' &&
          /streams images/.test(error.message),
      );
      assert.equal(providers.calls.length, 0);
    });
  });
});

describe('abortableSleep', () => {
  it('leaves no abort listener on a signal that outlives the waits (a dedup leader’s)', async () => {
    const signal = new AbortController().signal;
    for (let i = 0; i < 20; i++) await abortableSleep(1, signal);
    assert.equal(getEventListeners(signal, 'abort').length, 0);
  });

  it('rejects with the abort reason, and the timer no longer runs', async () => {
    const controller = new AbortController();
    const waiting = abortableSleep(60_000, controller.signal);
    controller.abort(new Error('client gone'));
    await assert.rejects(waiting, /client gone/);
  });
});
