// An OpenAI-format or Cohere backend that answers 200 and then, before its first chunk, an
// error object (`data: {"error": {...}}`): nothing reached the client yet, so the error
// means what its code or type says. A rate limit fails over where the route says so, and
// with no backend left the client gets a 429 (a server error a 5xx), not a 502.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeOpenAiUpstream, RawSseUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { assertErrorShape, looksFinished } from './fuzz/answer-checks';

// OpenAI's own shape: the type names the limit, the code says it is a rate limit.
const RATE_LIMITED = {
  error: {
    message: 'Rate limit reached',
    type: 'requests',
    param: null,
    code: 'rate_limit_exceeded',
  },
};
const SERVER_ERROR = {
  error: { message: 'The server had an error', type: 'server_error', param: null, code: null },
};

describe('an OpenAI-format or Cohere stream whose first event is an error object', () => {
  const raw = new RawSseUpstream({ basePath: '/v1' });
  const rawCohere = new RawSseUpstream({ nameEventsByType: true });
  const spare = new FakeOpenAiUpstream();
  let gateway: AppProcess;

  before(async () => {
    await Promise.all([raw.start(), rawCohere.start(), spare.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: openai-first-event-error}
spec:
  backends:
  - {name: limited, priority: 0, provider: openai-compatible, baseUrl: "${raw.baseUrl}", model: gpt-4o, modelNameOverride: pair}
  - {name: spare, priority: 1, provider: openai-compatible, baseUrl: "${spare.baseUrl}", model: gpt-4o, modelNameOverride: pair}
  - {name: alone, provider: openai-compatible, baseUrl: "${raw.baseUrl}", model: gpt-4o, modelNameOverride: alone}
  - {name: cohere-alone, provider: cohere, baseUrl: "${rawCohere.baseUrl}", model: command-a-03-2025, modelNameOverride: cohere-alone, auth: {apiKeyRef: {name: cohere-key}}}
  failover: {on: [rateLimit]}
`,
      { AI_GATEWAY_SECRET_COHERE_KEY_APIKEY: 'co-first-event-key' },
    );
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([raw.stop(), rawCohere.stop(), spare.stop()]);
  });

  const chat = async (model: string) => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: response.status, text: await response.text() };
  };

  it('fails over on a rate limit as on a 429, the client seeing only the spare answer', async () => {
    raw.next([RATE_LIMITED, '[DONE]']);
    const answer = await chat('pair');
    assert.equal(answer.status, 200, answer.text);
    assert.ok(looksFinished('openai', '/v1/chat/completions', answer.text), answer.text);
    assert.equal(spare.calls.length, 1, 'the spare backend answered');
  });

  it('answers a 429 for a rate limit and a 5xx for a server error when no backend is left', async () => {
    raw.next([RATE_LIMITED, '[DONE]']);
    const limited = await chat('alone');
    assert.equal(limited.status, 429, limited.text);
    assertErrorShape('openai', 429, limited.text, '/v1/chat/completions');

    raw.next([SERVER_ERROR, '[DONE]']);
    const failed = await chat('alone');
    assert.ok(failed.status >= 500 && failed.status <= 599, `${failed.status} ${failed.text}`);
    assertErrorShape('openai', failed.status, failed.text, '/v1/chat/completions');
  });

  it("answers a Cohere backend's error before message-start as a 429", async () => {
    rawCohere.next([{ type: 'error', error: { type: 'rate_limit_error' } }]);
    const answer = await chat('cohere-alone');
    assert.equal(answer.status, 429, answer.text);
    assertErrorShape('openai', 429, answer.text, '/v1/chat/completions');
  });
});
