// A stream Anthropic (or Claude on Vertex AI, which streams the same events) opens with
// message_start and then fails with an error event (overloaded_error under load) has sent
// the client nothing it could use: the gateway fails over to the next backend, the client
// sees one answer, on /v1/chat/completions and on /v1/messages, and the refused call is
// billed nothing. Once text went out, the client gets an explicit error instead.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { until } from '@aigw/testing';
import {
  fakeServiceAccount,
  FakeAnthropicUpstream,
  FakeGoogleOAuth,
  FakeVertexClaudeUpstream,
} from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

/** What one answer of the fake reports as its prompt: 20 read fresh, 100 cached, 5 written. */
const PROMPT_TOKENS = 125;

describe('all-in-one gateway: a Claude stream failing right after message_start', () => {
  const oauth = new FakeGoogleOAuth();
  const first = new FakeAnthropicUpstream();
  const second = new FakeAnthropicUpstream();
  const vertex = new FakeVertexClaudeUpstream(oauth);
  let gateway: AppProcess;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    await Promise.all([oauth.start(), first.start(), second.start(), vertex.start()]);
    const account = fakeServiceAccount(oauth.tokenUri);
    oauth.trust(account);
    const key = '{apiKeyRef: {name: anthropic-key}}';
    const sa = '{apiKeyRef: {name: gcp-sa, key: json}}';
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: claude-stream-failover}
spec:
  backends:
  - {name: anthropic-east, priority: 0, provider: anthropic, baseUrl: "${first.baseUrl}", auth: ${key}, model: claude-sonnet-4-5, modelNameOverride: claude}
  - {name: anthropic-west, priority: 1, provider: anthropic, baseUrl: "${second.baseUrl}", auth: ${key}, model: claude-sonnet-4-5, modelNameOverride: claude}
  - {name: vertex-claude, priority: 0, provider: vertex, project: proj-1, location: us-east5, baseUrl: "${vertex.baseUrl}", auth: ${sa}, model: "claude-sonnet-4-5@20250929", modelNameOverride: claude-vertex}
  - {name: anthropic-standby, priority: 1, provider: anthropic, baseUrl: "${second.baseUrl}", auth: ${key}, model: claude-sonnet-4-5, modelNameOverride: claude-vertex}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
`,
      {
        AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
        AI_GATEWAY_SECRET_GCP_SA_JSON: account.json,
      },
    );
    openai = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([oauth.stop(), first.stop(), second.stop(), vertex.stop()]);
  });
  beforeEach(async () => {
    first.reset();
    second.reset();
    vertex.reset();
    // Each case fails a backend on purpose: none may start in the cooldown the last left.
    for (const backend of ['anthropic-east', 'vertex-claude']) {
      const reset = await fetch(
        `http://127.0.0.1:${gateway.adminPort}/admin/backends/claude-stream-failover/${backend}/reset`,
        { method: 'POST' },
      );
      assert.equal(reset.status, 200, backend);
    }
  });

  /** The input tokens counted for `model` so far, over every user. */
  const inputTokens = async (model: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const counted = new RegExp(
      `^ai_gateway_tokens_total\\{[^}]*model="${model}",type="input"\\} (\\d+)`,
      'gm',
    );
    return [...text.matchAll(counted)].reduce((sum, match) => sum + Number(match[1]), 0);
  };

  /** An OpenAI client's streamed chat: its text and how many role chunks it saw. */
  const streamedChat = async (model: string) => {
    let text = '';
    let roles = 0;
    const stream = await openai.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      if (delta?.role) roles += 1;
      text += delta?.content ?? '';
    }
    return { text, roles };
  };

  for (const type of ['overloaded_error', 'rate_limit_error', 'api_error']) {
    it(`fails over on ${type} after message_start, the OpenAI client seeing one answer`, async () => {
      first.streamErrorType = type;
      first.next({ kind: 'stream-error', afterChunks: 1 }); // message_start, then the error
      assert.deepEqual(await streamedChat('claude'), { text: 'Hello from Claude.', roles: 1 });
      assert.equal(first.calls.length, 1);
      assert.equal(second.calls.length, 1);
    });
  }

  it('bills the refused attempt nothing: the prompt is counted once', async () => {
    first.next({ kind: 'stream-error', afterChunks: 1 });
    const before = await inputTokens('claude');
    await streamedChat('claude');
    assert.equal(first.calls.length, 1);
    // message_start reported the prompt, but Anthropic bills no overloaded call: only the
    // answer's prompt counts.
    await until(
      'the answer is counted',
      async () => (await inputTokens('claude')) - before >= PROMPT_TOKENS,
    );
    assert.equal((await inputTokens('claude')) - before, PROMPT_TOKENS);
  });

  it('fails over for a Messages client, whose message_start waits for the answer', async () => {
    first.next({ kind: 'stream-error', afterChunks: 1 });
    const events: string[] = [];
    let text = '';
    const stream = await anthropic.messages.create({
      model: 'claude',
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    for await (const event of stream) {
      events.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        text += event.delta.text;
      }
    }
    assert.equal(text, 'Hello from Claude.');
    assert.equal(events.filter((type) => type === 'message_start').length, 1);
    assert.equal(events.at(-1), 'message_stop');
    assert.equal(first.calls.length, 1);
    assert.equal(second.calls.length, 1);
  });

  it('fails over from Claude on Vertex AI the same way', async () => {
    vertex.next({ kind: 'stream-error', afterChunks: 1 });
    assert.deepEqual(await streamedChat('claude-vertex'), {
      text: 'Hello from Claude.',
      roles: 1,
    });
    assert.equal(vertex.calls.length, 1);
    assert.equal(second.calls.length, 1);
  });

  it('ends the stream with an error once text went out, calling no other backend', async () => {
    // message_start, the text block's start, a ping, "Hello", then overloaded_error.
    first.next({ kind: 'stream-error', afterChunks: 4 });
    let text = '';
    const failure = await (async () => {
      const stream = await openai.chat.completions.create({
        model: 'claude',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.equal(text, 'Hello');
    assert.equal(first.calls.length, 1);
    assert.ok(
      failure instanceof OpenAI.APIError,
      `expected an error event, got ${String(failure)}`,
    );
    assert.equal(second.calls.length, 0);
  });
});
