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

// A call that started before a backend was cooled down says nothing of how it is now: its
// late success must not end the cooldown (a Retry-After the backend sent since, say).
const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, priority: 0, provider: openai, model: gpt-4}
  - {name: standby, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [rateLimit, error]}
`);

const chat = (requestId: string): GatewayRequest => chatRequest({ requestId });

describe('a success from a call older than the cooldown', () => {
  it('leaves a Retry-After cooldown in force', async () => {
    let now = 1_000;
    const health = new BackendHealth(undefined, () => now);
    let finishLongCall!: () => void;
    let calls = 0;
    // The first call is a long generation; the second is refused with Retry-After: 60.
    const primary: Script = (call) => {
      calls += 1;
      if (calls === 1) {
        return new Promise<void>((resolve) => (finishLongCall = resolve)).then(
          (): Promise<GatewayAnswer> => answers(call),
        );
      }
      return Promise.reject(
        new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down', {
          retryAfterMs: 60_000,
        }),
      );
    };
    const providers = new ScriptedProviders({ primary });
    const router = new FailoverRouter({
      config: () => CONFIG,
      providers,
      health,
      sleep: async () => undefined,
    });
    const signal = new AbortController().signal;
    const long = router.route(chat('long'), signal);
    now = 2_000;
    assert.equal((await router.route(chat('limited'), signal)).servedBy.backend, 'standby');
    assert.equal(health.snapshot('primary').state, 'cooling');
    // The long call, sent before the 429, answers 30 s later.
    now = 32_000;
    finishLongCall();
    assert.equal((await long).servedBy.backend, 'primary');
    assert.equal(health.snapshot('primary').state, 'cooling', 'the Retry-After still stands');
    const next = await router.route(chat('next'), signal);
    assert.equal(next.servedBy.backend, 'standby');
    // Past the Retry-After the backend is back.
    now = 62_001;
    assert.equal(health.snapshot('primary').state, 'available');
  });

  it('still ends a cooldown when a call made during it (a last resort) succeeds', () => {
    let now = 0;
    const health = new BackendHealth(undefined, () => now);
    health.recordFailure('a', 60_000, 'rateLimit');
    now = 10_000;
    health.recordSuccess('a', 5_000);
    assert.equal(health.snapshot('a').state, 'available');
  });
});
