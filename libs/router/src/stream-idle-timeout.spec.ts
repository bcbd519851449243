// A stream that started and then stalls is cut at its backend's streamIdleTimeout: the
// upstream call is cancelled and the client's stream ends in a timeout error, never a
// clean-looking end. Only waits on the backend count, with one timer per stream.
import { describe, it, mock } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { configFromYaml } from '@aigw/testing';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type JsonObject,
  type ProviderCall,
  type ProviderPort,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';
import type { BackendConfig } from '@aigw/config';
import { FailoverRouter } from './failover-router';

const IDLE_MS = 80;

/** `stalling` is cut after IDLE_MS of silence; `spare` would take a failover. */
const config = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: stalling, priority: 0, provider: openai, model: gpt-4, streamIdleTimeout: ${IDLE_MS}ms}
  - {name: spare, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [timeout, error]}
`);

const chunk = (content: string): JsonObject => ({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

/** A stream answer of `events`, for the backend called. */
function streamAnswer(call: ProviderCall, events: AsyncIterable<JsonObject>): StreamAnswer {
  return {
    kind: 'stream',
    status: 200,
    usage: new Promise(() => undefined),
    servedBy: { backend: call.target.backendName, provider: 'openai', model: call.target.model },
    events,
  };
}

/** Sends one chunk, then nothing: like an adapter reading a silent body, only the call's signal ends the wait. */
function oneChunkThenSilence(call: ProviderCall): AsyncIterable<JsonObject> {
  return (async function* () {
    yield chunk('Half an');
    await new Promise((resolve) => call.signal.addEventListener('abort', resolve, { once: true }));
    throw call.signal.reason;
  })();
}

class Providers implements ProviderPort {
  readonly calls: ProviderCall[] = [];
  constructor(private readonly events: (call: ProviderCall) => AsyncIterable<JsonObject>) {}
  invoke(call: ProviderCall): Promise<GatewayAnswer> {
    this.calls.push(call);
    return Promise.resolve(streamAnswer(call, this.events(call)));
  }
}

function routerOver(
  providers: ProviderPort,
  stalled: BackendConfig[] = [],
  stalledRequests: string[] = [],
): FailoverRouter {
  return new FailoverRouter({
    config: () => config,
    providers,
    sleep: async () => undefined,
    observer: {
      fallback: () => undefined,
      streamStalled: (backend, request) => {
        stalled.push(backend);
        stalledRequests.push(request.requestId);
      },
    },
  });
}

const streamRequest = () =>
  gatewayChatRequest({ model: 'gpt-4', stream: true }, { requestedModel: 'gpt-4' });

/** Reads a stream to its end: the contents seen, and the error it ended with, if any. */
async function readAll(
  answer: GatewayAnswer,
  pauseMs = 0,
): Promise<{ seen: string[]; error?: unknown }> {
  assert.equal(answer.kind, 'stream');
  const seen: string[] = [];
  try {
    for await (const event of answer.events) {
      const choices = event.choices as { delta: { content: string } }[];
      seen.push(choices[0].delta.content);
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    return { seen };
  } catch (error) {
    return { seen, error };
  }
}

describe('streamIdleTimeout', () => {
  it('cuts a stream that stalls after its first chunk: upstream call cancelled, a timeout error, no failover', async () => {
    const providers = new Providers(oneChunkThenSilence);
    const stalled: BackendConfig[] = [];
    const stalledRequests: string[] = [];
    const request = streamRequest();
    const answer = await routerOver(providers, stalled, stalledRequests).route(
      request,
      new AbortController().signal,
    );
    const { seen, error } = await readAll(answer);
    assert.deepEqual(seen, ['Half an']);
    assert.ok(error instanceof DataPlaneError, String(error));
    assert.equal(error.code, DataPlaneErrorCode.UpstreamTimeout);
    assert.match(error.message, /backend "stalling" sent no stream data for 80 ms/);
    assert.match(error.message, /streamIdleTimeout/);
    // The call was cancelled with that error, so its adapter settles the usage seen so far.
    const [call] = providers.calls;
    assert.equal(call.signal.aborted, true, 'the upstream call is cancelled');
    assert.equal(call.signal.reason, error);
    // Once a stream reached the client it cannot fail over.
    assert.equal(providers.calls.length, 1);
    assert.deepEqual(
      stalled.map((backend) => backend.name),
      ['stalling'],
    );
    // Told which request it cut, so its log line can name it.
    assert.deepEqual(stalledRequests, [request.requestId]);
  });

  it('ends the client stream even when the adapter does not notice the cancel', async () => {
    const providers = new Providers(() =>
      (async function* () {
        yield chunk('Half an');
        await new Promise(() => undefined); // never settles, whatever the signal says
      })(),
    );
    const answer = await routerOver(providers).route(streamRequest(), new AbortController().signal);
    const { seen, error } = await readAll(answer);
    assert.deepEqual(seen, ['Half an']);
    assert.ok(
      error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamTimeout,
      String(error),
    );
  });

  it('does not count a slow client: a stream read slower than the timeout is not stalled', async () => {
    // Every chunk is ready at once; the client alone takes its time between reads.
    const providers = new Providers(() =>
      (async function* () {
        for (const text of ['a', 'b', 'c']) yield chunk(text);
      })(),
    );
    const stalled: BackendConfig[] = [];
    const answer = await routerOver(providers, stalled).route(
      streamRequest(),
      new AbortController().signal,
    );
    const { seen, error } = await readAll(answer, IDLE_MS * 2);
    assert.equal(error, undefined);
    assert.deepEqual(seen, ['a', 'b', 'c']);
    assert.deepEqual(stalled, []);
    assert.equal(providers.calls[0].signal.aborted, false);
  });

  it('lets a stream run past the timeout as long as its events keep coming', async () => {
    // On fake timers, with performance.now() (the watch's clock) read from the fake Date:
    // the gaps are a quarter of the timeout in the test's milliseconds, never stretched
    // past it by a busy machine (ten real-time tries in a row were, under CI-like load).
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    mock.method(performance, 'now', () => Date.now());
    try {
      const gapMs = IDLE_MS / 4;
      const providers = new Providers(() =>
        (async function* () {
          for (let i = 0; i < 12; i++) {
            await new Promise((resolve) => setTimeout(resolve, gapMs));
            yield chunk(String(i));
          }
        })(),
      );
      // Routed (the first event awaited) and read as the fake clock goes.
      const stream: { read?: Awaited<ReturnType<typeof readAll>> } = {};
      void routerOver(providers)
        .route(streamRequest(), new AbortController().signal)
        .then(readAll)
        .then((read) => (stream.read = read));
      while (stream.read === undefined && Date.now() < 12 * gapMs + IDLE_MS) {
        mock.timers.tick(1);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(stream.read, 'the stream ended');
      assert.equal(stream.read.error, undefined);
      assert.equal(stream.read.seen.length, 12);
      assert.ok(
        Date.now() > IDLE_MS * 3,
        `the stream outlasted three idle timeouts (${Date.now()} ms)`,
      );
    } finally {
      mock.timers.reset();
      mock.restoreAll();
    }
  });

  it('arms one timer per stream, not one per chunk', async () => {
    const providers = new Providers(() =>
      (async function* () {
        for (let i = 0; i < 2_000; i++) yield chunk(String(i));
      })(),
    );
    // On fake timers: no time passes while it reads, so a pause of a busy machine (which
    // re-arms the timer once it fires) cannot add timers.
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    mock.method(performance, 'now', () => Date.now());
    try {
      const answer = await routerOver(providers).route(
        streamRequest(),
        new AbortController().signal,
      );
      const timers = mock.method(globalThis, 'setTimeout');
      const { seen, error } = await readAll(answer);
      assert.equal(error, undefined);
      assert.equal(seen.length, 2_000);
      assert.equal(timers.mock.callCount(), 1, `${timers.mock.callCount()} timers for 2000 chunks`);
    } finally {
      mock.timers.reset();
      mock.restoreAll();
    }
  });

  // An edge that drops a started stream without ending it must not leave a timer re-arming
  // for ever, holding the stream and its upstream objects.
  it('lets its timer go while the stream is not read, and reports no stall', async () => {
    const providers = new Providers(() =>
      (async function* () {
        for (let i = 0; i < 10; i++) yield chunk(String(i));
      })(),
    );
    const stalled: BackendConfig[] = [];
    const answer = await routerOver(providers, stalled).route(
      streamRequest(),
      new AbortController().signal,
    );
    assert.equal(answer.kind, 'stream');
    const events = answer.events[Symbol.asyncIterator]();
    await events.next();
    await events.next(); // a wait on the backend: the idle timer is armed
    const timers = mock.method(globalThis, 'setTimeout');
    try {
      await sleep(IDLE_MS * 6);
      assert.equal(timers.mock.callCount(), 0, 'the timer re-armed with no wait under way');
      assert.deepEqual(stalled, []);
    } finally {
      timers.mock.restore();
    }
    // Read again, it goes on to its end.
    let rest = 0;
    while (!(await events.next()).done) rest++;
    assert.equal(rest, 8);
  });

  it('takes the default (2m, cut to requestTimeout) when the backend names none', () => {
    const backends = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: plain, provider: openai, model: gpt-4}
  - {name: quick, provider: openai, model: gpt-4, requestTimeout: 30s}
`).routes[0].backends;
    assert.deepEqual(
      backends.map((backend) => backend.streamIdleTimeoutMs),
      [120_000, 30_000],
    );
  });
});
