import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml as configFrom } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { BackendHealth } from './domain/backend-health';
import { FailoverRouter } from './failover-router';
import { answers, chatRequest, ScriptedProviders, type Script } from './testing/scripted-providers';

// When a backend's cooldown ends, one call tries it; the calls that come while that trial
// is under way go to the other backends first instead of all waiting on a backend that
// may still be down (each paying its timeout).
const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, priority: 0, provider: openai, model: gpt-4}
  - {name: standby, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [error, timeout]}
`);

const chat = (requestId: string): GatewayRequest => chatRequest({ requestId });

/** A backend call that hangs until the test settles it. */
function held(): { script: Script; fail(): void; answer(): void } {
  const waiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  return {
    script: (call) =>
      new Promise<void>((resolve, reject) => waiting.push({ resolve, reject })).then(
        (): Promise<GatewayAnswer> => answers(call),
      ),
    fail: () =>
      waiting.shift()?.reject(new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'still down')),
    answer: () => waiting.shift()?.resolve(),
  };
}

function setUp(primary: Script) {
  let now = 0;
  const health = new BackendHealth(
    { failureThreshold: 1, cooldownMs: 1_000, maxRetryAfterMs: 60_000 },
    () => now,
  );
  const providers = new ScriptedProviders({ primary });
  const router = new FailoverRouter({
    config: () => CONFIG,
    providers,
    health,
    sleep: async () => undefined,
  });
  health.recordFailure('primary', undefined, 'error'); // cooled until 1 000
  now = 1_001; // the cooldown is over
  return { providers, router, health };
}

const called = (providers: ScriptedProviders) =>
  providers.calls.map((call) => `${call.request.requestId}:${call.target.backendName}`);

describe('the end of a cooldown: one trial call', () => {
  it('sends the calls that come during the trial to the standby first', async () => {
    const primary = held();
    const { providers, router } = setUp(primary.script);
    const signal = new AbortController().signal;
    const trial = router.route(chat('t'), signal);
    const second = await router.route(chat('s'), signal);
    assert.equal(second.servedBy.backend, 'standby');
    assert.deepEqual(called(providers), ['t:primary', 's:standby']);
    // The trial fails: the backend cools again and its caller fails over.
    primary.fail();
    assert.equal((await trial).servedBy.backend, 'standby');
    const third = await router.route(chat('u'), signal);
    assert.equal(third.servedBy.backend, 'standby');
    assert.deepEqual(called(providers), ['t:primary', 's:standby', 't:standby', 'u:standby']);
  });

  it('puts the backend back in rotation once its trial answers', async () => {
    const primary = held();
    const { providers, router, health } = setUp(primary.script);
    const signal = new AbortController().signal;
    const trial = router.route(chat('t'), signal);
    primary.answer();
    assert.equal((await trial).servedBy.backend, 'primary');
    const next = router.route(chat('n'), signal);
    primary.answer();
    assert.equal((await next).servedBy.backend, 'primary');
    assert.deepEqual(called(providers), ['t:primary', 'n:primary']);
    assert.equal(health.snapshot('primary').consecutiveFailures, 0);
  });

  it('lets another call try once the trial ended without a verdict (its client left)', async () => {
    const primary = held();
    const { providers, router } = setUp(primary.script);
    const client = new AbortController();
    const trial = router.route(chat('t'), client.signal);
    client.abort(new Error('the client went away'));
    primary.fail();
    await assert.rejects(trial);
    const next = router.route(chat('n'), new AbortController().signal);
    primary.answer();
    assert.equal((await next).servedBy.backend, 'primary');
    assert.deepEqual(called(providers), ['t:primary', 'n:primary']);
  });
});

describe('an operator reset during a trial', () => {
  it('puts the backend back in every order at once', async () => {
    const primary = held();
    const { providers, router, health } = setUp(primary.script);
    const signal = new AbortController().signal;
    const trial = router.route(chat('t'), signal);
    assert.equal(health.isOnTrial('primary'), true);
    health.reset('primary');
    assert.equal(health.isOnTrial('primary'), false);
    const next = router.route(chat('n'), signal);
    assert.deepEqual(called(providers), ['t:primary', 'n:primary']);
    primary.answer();
    primary.answer();
    assert.equal((await trial).servedBy.backend, 'primary');
    assert.equal((await next).servedBy.backend, 'primary');
    assert.equal(health.isOnTrial('primary'), false);
  });
});
