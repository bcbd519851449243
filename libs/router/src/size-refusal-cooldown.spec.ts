import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml as configFrom } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  upstreamAnsweredText,
} from '@aigw/contracts/data-plane';
import { BackendHealth } from './domain/backend-health';
import { FailoverRouter } from './failover-router';
import { answers, chatRequest, ScriptedProviders, type Script } from './testing/scripted-providers';

// Groq answers a request larger than its plan's tokens per minute with 413 and the code
// rate_limit_exceeded (a rate limit, upstream-failure.ts): another backend may take it, but
// it says nothing of the backend's load, so one client's oversized requests must not cool
// the backend down for everyone else.
const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: groq, priority: 0, provider: groq, model: gpt-4}
  - {name: standby, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [rateLimit]}
`);

const refusal = (upstreamStatus: number) =>
  new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'Request too large for model', {
    upstreamStatus,
    retryAfterMs: 7_000,
  });

// OpenAI's words for the same case, a 429 with the code a backend at its limit sends too.
const openAiRefusal = (text: string) => () =>
  new DataPlaneError(
    DataPlaneErrorCode.UpstreamRateLimited,
    upstreamAnsweredText('groq', 429, text),
    { upstreamStatus: 429, upstreamCode: 'rate_limit_exceeded', retryAfterMs: 7_000 },
  );

async function afterRefusals(
  upstreamStatus: number,
  refused: () => DataPlaneError = () => refusal(upstreamStatus),
): Promise<BackendHealth> {
  const health = new BackendHealth();
  const groq: Script = (call) =>
    call.request.requestId.startsWith('big') ? Promise.reject(refused()) : answers(call);
  const router = new FailoverRouter({
    config: () => CONFIG,
    providers: new ScriptedProviders({ groq }),
    health,
    sleep: async () => undefined,
  });
  const signal = new AbortController().signal;
  for (const id of ['big-1', 'big-2', 'big-3']) {
    const answer = await router.route(chatRequest({ requestId: id }), signal);
    assert.equal(answer.servedBy.backend, 'standby', 'the oversized request fails over');
  }
  return health;
}

describe('a backend refusing a request for its size alone', () => {
  it('fails the request over without counting it against the backend (413)', async () => {
    const health = await afterRefusals(413);
    assert.equal(health.snapshot('groq').state, 'available');
  });

  it("fails OpenAI's 429 for a request too large for the plan over, without cooling", async () => {
    const tooLarge = openAiRefusal(
      'Request too large for gpt-4 in organization [REDACTED] on tokens per min (TPM): Limit 30000, Requested 50000. The input or output tokens must be reduced in order to run successfully.',
    );
    const health = await afterRefusals(429, tooLarge);
    assert.equal(health.snapshot('groq').state, 'available');
  });

  it('with no backend left, answers the client 429 and leaves the backend open', async () => {
    const health = new BackendHealth();
    const router = new FailoverRouter({
      config: () =>
        configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: groq, provider: openai, model: gpt-4}
  failover: {on: [rateLimit]}
`),
      providers: new ScriptedProviders({
        groq: () =>
          Promise.reject(openAiRefusal('Request too large for gpt-4 on tokens per min')()),
      }),
      health,
      sleep: async () => undefined,
    });
    const refused = await router
      .route(chatRequest({ requestId: 'big' }), new AbortController().signal)
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(refused instanceof DataPlaneError);
    assert.equal(refused.httpStatus, 429);
    assert.equal(health.snapshot('groq').state, 'available');
  });

  it("unlike OpenAI's 429 for a backend at its limit, which cools it down", async () => {
    const atLimit = openAiRefusal(
      'Rate limit reached for gpt-4 in organization [REDACTED] on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms.',
    );
    const health = await afterRefusals(429, atLimit);
    assert.equal(health.snapshot('groq').state, 'cooling');
  });

  it('unlike a rate limit of the backend itself (429), which cools it down', async () => {
    const health = await afterRefusals(429);
    assert.equal(health.snapshot('groq').state, 'cooling');
  });
});
