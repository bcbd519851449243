import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml as configFrom } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import { FailoverRouter } from './failover-router';
import {
  chatRequest,
  ScriptedProviders,
  streamAnswer,
  type Script,
} from './testing/scripted-providers';

// firstByteTimeout bounds a stream's wait for its first event from when the attempt starts:
// a backend slow to send its headers does not get a fresh firstByteTimeout for its body.
const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: slow, priority: 0, provider: openai, model: gpt-4, firstByteTimeout: 150ms}
  - {name: fast, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [timeout]}
`);

const streamRequest: GatewayRequest = chatRequest({
  stream: true,
  body: { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }], stream: true },
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Headers after `headersMs`, then the first event `eventMs` later. */
function streamAfter(headersMs: number, eventMs: number): Script {
  return async (call: ProviderCall): Promise<GatewayAnswer> => {
    await wait(headersMs);
    return streamAnswer(
      call,
      (async function* () {
        await wait(eventMs);
        yield { choices: [] };
      })(),
    );
  };
}

/** Advances the fake clock `ms`, a millisecond at a time, letting the promises it settles run. */
async function advance(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The route's answer once it has one, read as the fake clock goes. */
function routeOf(router: FailoverRouter): { answer?: GatewayAnswer } {
  const routed: { answer?: GatewayAnswer } = {};
  void router.route(streamRequest, new AbortController().signal).then((answer) => {
    routed.answer = answer;
  });
  return routed;
}

// On fake timers: what comes when is counted in milliseconds the test advances, never in a
// loaded machine's (a 40 ms + 40 ms stream missed its 150 ms in CI-like load).
describe('firstByteTimeout', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('counts the wait for the headers: headers at 100 ms and the first event 100 ms later miss 150 ms', async () => {
    const providers = new ScriptedProviders({
      slow: streamAfter(100, 100),
      fast: streamAfter(0, 0),
    });
    const router = new FailoverRouter({
      config: () => CONFIG,
      providers,
      sleep: async () => undefined,
    });
    const routed = routeOf(router);
    await advance(160);
    assert.equal(routed.answer?.servedBy.backend, 'fast');
    assert.deepEqual(
      providers.calls.map((call) => call.target.backendName),
      ['slow', 'fast'],
    );
    assert.equal(providers.calls[0].signal.aborted, true, "the late backend's call is cancelled");
  });

  it('cancels a call whose answer does not start within it at all (headers never came)', async () => {
    let hung: ProviderCall | undefined;
    const providers = new ScriptedProviders({
      // Like a backend that sends an error status and then stalls its body, or a token
      // fetch and the headers each just within their own bound: only the cancel ends it.
      slow: (call) => {
        hung = call;
        return new Promise<GatewayAnswer>((_, reject) =>
          call.signal.addEventListener('abort', () => reject(call.signal.reason as Error), {
            once: true,
          }),
        );
      },
      fast: streamAfter(0, 0),
    });
    const router = new FailoverRouter({
      config: () => CONFIG,
      providers,
      sleep: async () => undefined,
    });
    const routed = routeOf(router);
    await advance(149);
    assert.equal(hung?.signal.aborted, false, 'waited the whole first-byte timeout');
    await advance(1);
    assert.equal(hung.signal.aborted, true, "the hung backend's call is cancelled at 150 ms");
    assert.ok(
      hung.signal.reason instanceof DataPlaneError &&
        hung.signal.reason.code === DataPlaneErrorCode.UpstreamTimeout,
    );
    await advance(10);
    assert.equal(routed.answer?.servedBy.backend, 'fast', 'failed over at the first-byte timeout');
  });

  it('across a hop, tells the providers the deadline and waits the grace for their own report', async () => {
    let hung: ProviderCall | undefined;
    const providers = new ScriptedProviders({
      // An older provider-adapter: it ignores the deadline and never reports the timeout.
      slow: (call) => {
        hung = call;
        return new Promise<GatewayAnswer>((_, reject) =>
          call.signal.addEventListener('abort', () => reject(call.signal.reason as Error), {
            once: true,
          }),
        );
      },
      fast: streamAfter(0, 0),
    });
    const router = new FailoverRouter({
      config: () => CONFIG,
      providers,
      sleep: async () => undefined,
      firstEventGraceMs: 50,
    });
    const routed = routeOf(router);
    await advance(1);
    assert.equal(hung?.firstEventTimeoutMs, 150, 'the backend firstByteTimeout is sent on');
    await advance(198);
    assert.equal(hung.signal.aborted, false, 'the providers are given the grace to report it');
    await advance(1);
    assert.equal(hung.signal.aborted, true, 'given up at the timeout and the grace');
    assert.match(String(hung.signal.reason), /sent no stream data within 150 ms/);
    await advance(10);
    assert.equal(routed.answer?.servedBy.backend, 'fast');
  });

  it('keeps a stream whose headers and first event together come within it', async () => {
    const providers = new ScriptedProviders({ slow: streamAfter(70, 70) });
    const router = new FailoverRouter({
      config: () => CONFIG,
      providers,
      sleep: async () => undefined,
    });
    const routed = routeOf(router);
    await advance(140);
    assert.equal(routed.answer?.servedBy.backend, 'slow');
    await advance(100);
    assert.equal(providers.calls.length, 1);
    assert.equal(providers.calls[0].signal.aborted, false, 'the stream is kept');
  });
});
