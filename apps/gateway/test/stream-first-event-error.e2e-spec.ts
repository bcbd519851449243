// An Anthropic backend that answers 200 and then, before message_start, an error event
// (Anthropic does so at times), or a Gemini one whose first event is an error object:
// nothing reached the client yet, so the error means what
// its HTTP status would. A rate limit fails over where the route says so, and with no
// backend left the client gets a 429 in its API's shape, not a 502.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAnthropicUpstream, RawSseUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { assertErrorShape, looksFinished } from './fuzz/answer-checks';

const RATE_LIMITED = { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } };

describe('an Anthropic stream whose first event is an error', () => {
  const raw = new RawSseUpstream({ nameEventsByType: true });
  const rawGemini = new RawSseUpstream({ basePath: '/v1beta' });
  const claude = new FakeAnthropicUpstream();
  let gateway: AppProcess;

  before(async () => {
    await Promise.all([raw.start(), claude.start(), rawGemini.start()]);
    const auth = 'auth: {apiKeyRef: {name: claude-key}}';
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: first-event-error}
spec:
  backends:
  - {name: limited, priority: 0, provider: anthropic, baseUrl: "${raw.baseUrl}", model: claude-sonnet-4-5, modelNameOverride: claude-pair, ${auth}}
  - {name: spare, priority: 1, provider: anthropic, baseUrl: "${claude.baseUrl}", model: claude-sonnet-4-5, modelNameOverride: claude-pair, ${auth}}
  - {name: alone, provider: anthropic, baseUrl: "${raw.baseUrl}", model: claude-sonnet-4-5, modelNameOverride: claude-alone, ${auth}}
  - {name: gemini-alone, provider: google-gemini, baseUrl: "${rawGemini.baseUrl}", model: gemini-2.5-flash, modelNameOverride: gemini-alone, auth: {apiKeyRef: {name: gemini-key}}}
  failover: {on: [rateLimit]}
`,
      {
        AI_GATEWAY_SECRET_CLAUDE_KEY_APIKEY: 'sk-ant-first-event',
        AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaFirstEventKey123',
      },
    );
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([raw.stop(), claude.stop(), rawGemini.stop()]);
  });

  const post = async (path: string, body: object) => {
    const response = await fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  const messages = (model: string) =>
    post('/v1/messages', {
      model,
      stream: true,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    });

  it('fails over on it as on a 429, the client seeing only the spare answer', async () => {
    raw.next([RATE_LIMITED]);
    const answer = await messages('claude-pair');
    assert.equal(answer.status, 200, answer.text);
    assert.ok(looksFinished('anthropic', '/v1/messages', answer.text), answer.text.slice(0, 800));
    assert.equal(claude.calls.length, 1, 'the spare backend answered');
  });

  it('answers a 429 in the API its client speaks when no backend is left', async () => {
    raw.next([RATE_LIMITED]);
    const anthropic = await messages('claude-alone');
    assert.equal(anthropic.status, 429, anthropic.text);
    assertErrorShape('anthropic', 429, anthropic.text, '/v1/messages');
    assert.match(anthropic.text, /rate_limit_error/);

    raw.next([RATE_LIMITED]);
    const openai = await post('/v1/chat/completions', {
      model: 'claude-alone',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(openai.status, 429, openai.text);
    assertErrorShape('openai', 429, openai.text, '/v1/chat/completions');
  });

  it("answers a Gemini backend's error object before its answer with that status, on /v1beta", async () => {
    rawGemini.next([{ error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' } }]);
    const path = '/v1beta/models/gemini-alone:streamGenerateContent?alt=sse';
    const google = await post(path, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    assert.equal(google.status, 429, google.text);
    assertErrorShape('gemini', 429, google.text, path);
  });
});
