// payloadLogging (an extension to the spec) on the all-in-one gateway: a route that logs
// keeps the prompt as redacted and the answer (JSON whole, a stream assembled) in the
// embedded analytics store, read back by request id; a route without it logs nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const ANALYTICS_TOKEN = 'e2e-analytics-token-payloads';
const ANALYTICS = { headers: { authorization: `Bearer ${ANALYTICS_TOKEN}` } };

const EMAIL = 'jane.doe@example.com';
const CLIENT_KEY = 'sk-client-key-do-not-log-0123456789';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Payload {
  requestId: string;
  user: string;
  modelRequested: string;
  backend: string | null;
  stream: boolean;
  status: number;
  errorCode: string | null;
  request: { body: string; truncated: boolean; bytes: number };
  response: { body: string; truncated: boolean; bytes: number };
}

describe('payload logging on the all-in-one gateway', () => {
  const upstream = new FakeOpenAiUpstream('payloads');
  const dir = mkdtempSync(join(tmpdir(), 'aigw-payloads-e2e-'));
  let gateway: AppProcess;
  let openai: OpenAI;

  before(async () => {
    await upstream.start();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: logged}
spec:
  backends:
  - {name: chat, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-chat, modelNameOverride: logged-chat}
  security:
    promptValidation:
      redact: {detectors: [email]}
    responseValidation:
      redact: {detectors: [email]}
  payloadLogging: {enabled: true, maxBytes: 1024}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: quiet}
spec:
  backends:
  - {name: quiet, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-quiet, modelNameOverride: quiet-chat}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      // Logged payloads are served only with it set.
      AI_GATEWAY_ANALYTICS_TOKEN: ANALYTICS_TOKEN,
    });
    openai = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: CLIENT_KEY,
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': 'alice' },
    });
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  const payloadOf = async (requestId: string): Promise<Payload> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await fetch(
        `${gateway.baseUrl}/v1/analytics/requests/${requestId}/payload`,
        ANALYTICS,
      );
      if (response.status === 200) return (await response.json()) as Payload;
      assert.equal(response.status, 404, 'none yet, or the payload');
      if (Date.now() > deadline) assert.fail(`no payload for ${requestId}`);
      await pause(100);
    }
  };

  it('a JSON answer: the prompt as redacted, the answer whole, never the key', async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: 'logged-chat',
        messages: [{ role: 'user', content: `Write to ${EMAIL} please` }],
      })
      .withResponse();
    const requestId = response.headers.get('x-request-id')!;
    const logged = await payloadOf(requestId);
    assert.equal(logged.user, 'alice');
    assert.equal(logged.modelRequested, 'logged-chat');
    assert.equal(logged.backend, 'chat');
    assert.equal(logged.status, 200);
    assert.equal(logged.stream, false);
    const asked = JSON.parse(logged.request.body) as { messages: { content: string }[] };
    assert.equal(asked.messages[0].content, 'Write to [REDACTED:email] please');
    assert.equal(logged.request.truncated, false);
    const answered = JSON.parse(logged.response.body) as typeof data;
    assert.equal(answered.choices[0].message.content, data.choices[0].message.content);
    const whole = JSON.stringify(logged);
    for (const secret of [EMAIL, CLIENT_KEY, 'authorization', 'x-user-id']) {
      assert.ok(!whole.includes(secret), `${secret} logged`);
    }
  });

  it('an answer is logged as the client got it, after responseValidation masked it', async () => {
    upstream.answerWith(['Ask', ' bob@example.org', ' about', ' it.']);
    try {
      const { data, response } = await openai.chat.completions
        .create({ model: 'logged-chat', messages: [{ role: 'user', content: 'who?' }] })
        .withResponse();
      assert.match(data.choices[0].message.content ?? '', /\[REDACTED:email\]/);
      const logged = await payloadOf(response.headers.get('x-request-id')!);
      assert.match(logged.response.body, /Ask \[REDACTED:email\] about it\./);
      assert.ok(!logged.response.body.includes('bob@example.org'));
    } finally {
      upstream.answerWith(['Hello', ' from', ' the', ' fake', ' upstream', '.']);
    }
  });

  it('a stream: the answer assembled with its finish reason and usage', async () => {
    const { data: stream, response } = await openai.chat.completions
      .create({
        model: 'logged-chat',
        messages: [{ role: 'user', content: 'tell me' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    const logged = await payloadOf(response.headers.get('x-request-id')!);
    assert.equal(logged.stream, true);
    assert.equal(logged.status, 200);
    assert.equal(logged.response.truncated, false);
    const assembled = JSON.parse(logged.response.body) as {
      choices: { content: string; finish_reason: string }[];
      usage?: { completion_tokens: number };
    };
    assert.equal(assembled.choices[0].content, text);
    assert.equal(assembled.choices[0].finish_reason, 'stop');
    assert.ok(assembled.usage && assembled.usage.completion_tokens > 0);
  });

  it('a long stream is cut at maxBytes and flagged, its whole size kept', async () => {
    upstream.answerWith(Array.from({ length: 400 }, (_, i) => ` w${i}`));
    try {
      const { data: stream, response } = await openai.chat.completions
        .create({
          model: 'logged-chat',
          messages: [{ role: 'user', content: 'long' }],
          stream: true,
        })
        .withResponse();
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      assert.ok(text.length > 1024);
      const logged = await payloadOf(response.headers.get('x-request-id')!);
      assert.equal(logged.response.truncated, true);
      assert.ok(Buffer.byteLength(logged.response.body) <= 1024);
      assert.ok(logged.response.bytes > 1024);
      assert.match(logged.response.body, /^\{.*"content":" w0 w1 w2/);
    } finally {
      upstream.answerWith(['Hello', ' from', ' the', ' fake', ' upstream', '.']);
    }
  });

  it('a failed call: the prompt and the error status, no answer', async () => {
    upstream.next({ kind: 'status', status: 500, body: { error: { message: 'boom' } } });
    const failed = await openai.chat.completions
      .create({ model: 'logged-chat', messages: [{ role: 'user', content: 'fail me' }] })
      .catch((error: unknown) => error as InstanceType<typeof OpenAI.APIError>);
    assert.ok(failed instanceof OpenAI.APIError);
    const requestId = failed.headers?.get('x-request-id') ?? failed.requestID;
    assert.ok(requestId);
    const logged = await payloadOf(requestId);
    assert.equal(logged.status, failed.status);
    assert.ok(logged.errorCode);
    assert.equal(logged.response.body, '');
    assert.match(logged.request.body, /fail me/);
  });

  it('off by default: a route without payloadLogging logs nothing', async () => {
    const { response } = await openai.chat.completions
      .create({ model: 'quiet-chat', messages: [{ role: 'user', content: 'not logged' }] })
      .withResponse();
    const requestId = response.headers.get('x-request-id')!;
    // A logged request sent after it is stored: the quiet one had its chance.
    const { response: later } = await openai.chat.completions
      .create({ model: 'logged-chat', messages: [{ role: 'user', content: 'marker' }] })
      .withResponse();
    await payloadOf(later.headers.get('x-request-id')!);
    const none = await fetch(
      `${gateway.baseUrl}/v1/analytics/requests/${requestId}/payload`,
      ANALYTICS,
    );
    assert.equal(none.status, 404);
    const listed = (await (
      await fetch(`${gateway.baseUrl}/v1/analytics/payloads?user=alice&limit=100`, ANALYTICS)
    ).json()) as { rows: { requestId: string; modelRequested: string }[] };
    assert.ok(listed.rows.length >= 4);
    assert.ok(listed.rows.every((row) => row.modelRequested === 'logged-chat'));
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.ok(metricSum(metrics, 'ai_gateway_payloads_logged_total', { route: 'logged' }) >= 4);
    assert.equal(metricSum(metrics, 'ai_gateway_payloads_logged_total', { route: 'quiet' }), 0);
  });
});
