import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { assertRefusalPassedOn, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import {
  runAppToExit,
  startApp,
  startSplitDataPlane,
  type AppProcess,
} from '@aigw/testing/processes';

const BODY_LIMIT = 64 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'aigw-split-'));

function config(primary: FakeOpenAiUpstream, secondary: FakeOpenAiUpstream): string {
  const path = join(dir, 'split.yaml');
  writeFileSync(
    path,
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: split}
spec:
  backends:
  - name: primary
    priority: 0
    provider: vllm
    baseUrl: ${primary.baseUrl}
    model: primary-model
    modelNameOverride: gpt-4
    auth:
      apiKeyRef: {name: primary-key}
  - name: secondary
    priority: 1
    provider: vllm
    baseUrl: ${secondary.baseUrl}
    model: secondary-model
    modelNameOverride: gpt-4
  - name: embedder
    priority: 0
    provider: vllm
    baseUrl: ${secondary.baseUrl}
    model: text-embedding-3-small
  security:
    stripHeaders: [x-internal-auth]
  failover:
    on: [rateLimit, timeout, error]
    retryDelay: 0s
`,
  );
  return path;
}

describe('split deployment: ingress, router and provider-adapter as three processes', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  let adapter: AppProcess;
  let router: AppProcess;
  let ingress: AppProcess;
  /** Every process up so far, so teardown stops them even when a later start fails. */
  const dataPlane: AppProcess[] = [];
  let client: OpenAI;

  before(async () => {
    await Promise.all([primary.start(), secondary.start()]);
    // A small body limit, the same for all three, as a deployment would set it.
    const shared = {
      AI_GATEWAY_CONFIG: config(primary, secondary),
      AI_GATEWAY_MAX_BODY_BYTES: String(BODY_LIMIT),
    };
    // Only the provider-adapter, which injects it, sees the key; router and ingress run without.
    ({ adapter, router, ingress } = await startSplitDataPlane(shared, dir, dataPlane, {
      AI_GATEWAY_SECRET_PRIMARY_KEY_APIKEY: 'sk-primary-secret',
    }));
    client = new OpenAI({
      baseURL: `${ingress.baseUrl}/v1`,
      apiKey: 'client-key-never-forwarded',
      maxRetries: 0,
    });
  });

  after(async () => {
    await Promise.all(dataPlane.map((app) => app.stop()));
    await Promise.all([primary.stop(), secondary.stop()]);
  });

  function resetUpstreams(): void {
    primary.reset();
    secondary.reset();
  }

  it('warns at start that, without Kafka, events never leave each service', () => {
    for (const service of [adapter, router, ingress]) {
      assert.match(service.output(), /"level":"warn".*no KAFKA_BROKERS: events stay in this/);
    }
  });

  it('starts the router without the provider key, saying nothing about it', () => {
    assert.doesNotMatch(router.output(), /secret|unauthenticated/i);
  });

  it('answers a chat completion with the virtual model name and the configured key', async () => {
    resetUpstreams();
    const completion = await client.chat.completions.create(
      { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-internal-auth': 'internal', 'x-trace-id': 'trace-1' } },
    );
    assert.equal(completion.model, 'gpt-4');
    assert.equal(completion.choices[0]?.message.content, 'Hello from the fake upstream.');
    assert.equal(completion.usage?.total_tokens, 18);
    const call = primary.calls[0];
    assert.equal(call.body.model, 'primary-model');
    // The client's Authorization never reaches a provider; the configured key does.
    assert.equal(call.headers.authorization, 'Bearer sk-primary-secret');
    assert.equal(call.headers['x-internal-auth'], undefined);
    assert.equal(call.headers['x-trace-id'], 'trace-1');
  });

  it('streams with the virtual model name in every chunk and the usage chunk on request', async () => {
    resetUpstreams();
    const stream = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.model, 'gpt-4');
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    assert.ok(chunks > 3);
    assert.equal(text, 'Hello from the fake upstream.');
    assert.equal(usage, 18);
    assert.equal(primary.calls[0]?.body.model, 'primary-model');
  });

  it('keeps Responses API state in the ingress: previous_response_id reaches the backend as the earlier turns', async () => {
    resetUpstreams();
    const first = await client.responses.create({ model: 'gpt-4', input: 'My name is Ann.' });
    const second = await client.responses.create({
      model: 'gpt-4',
      input: 'What is my name?',
      previous_response_id: first.id,
    });
    assert.equal(second.previous_response_id, first.id);
    assert.deepEqual(primary.calls[1]?.body.messages, [
      { role: 'user', content: 'My name is Ann.' },
      { role: 'assistant', content: 'Hello from the fake upstream.' },
      { role: 'user', content: 'What is my name?' },
    ]);
    assert.equal((await client.responses.retrieve(second.id)).id, second.id);
    await client.responses.delete(first.id);
    await assert.rejects(client.responses.retrieve(first.id), OpenAI.NotFoundError);
  });

  it('keeps conversations in the ingress: a streamed turn is appended and sent again', async () => {
    resetUpstreams();
    const conversation = await client.conversations.create({
      items: [{ role: 'user', content: 'My name is Ann.' }],
    });
    const stream = await client.responses.create({
      model: 'gpt-4',
      input: 'Hello?',
      conversation: conversation.id,
      stream: true,
    });
    for await (const event of stream) void event;
    await client.responses.create({
      model: 'gpt-4',
      input: 'What is my name?',
      conversation: { id: conversation.id },
    });
    assert.deepEqual(primary.calls[1]?.body.messages, [
      { role: 'user', content: 'My name is Ann.' },
      { role: 'user', content: 'Hello?' },
      { role: 'assistant', content: 'Hello from the fake upstream.' },
      { role: 'user', content: 'What is my name?' },
    ]);
    const items = await client.conversations.items.list(conversation.id, { order: 'asc' });
    assert.equal(items.data.length, 5);
    await client.conversations.delete(conversation.id);
    await assert.rejects(client.conversations.retrieve(conversation.id), OpenAI.NotFoundError);
  });

  it('serves embeddings and lists the virtual models', async () => {
    resetUpstreams();
    const embedding = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
    });
    assert.equal(embedding.data.length, 2);
    assert.deepEqual(embedding.data[0]?.embedding, [0.1, 0.2, 0.3].map(Math.fround));
    assert.equal(secondary.calls[0]?.headers.authorization, undefined);
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id).sort(), ['gpt-4', 'text-embedding-3-small']);
    assert.equal((await client.models.retrieve('gpt-4')).id, 'gpt-4');
  });

  it('fails over to the next backend on a 503, invisibly to the client', async () => {
    resetUpstreams();
    primary.next({ kind: 'status', status: 503 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.model, 'gpt-4');
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls.length, 1);
    assert.equal(secondary.calls[0]?.body.model, 'secondary-model');
  });

  it("passes on a provider's refusal with its own code and param, without failing over", async () => {
    resetUpstreams();
    await assertRefusalPassedOn(
      () =>
        client.chat.completions.create({
          model: 'gpt-4',
          messages: [{ role: 'user', content: 'a very long conversation' }],
        }),
      primary,
      secondary,
    );
  });

  it('fails a stream over on a 429 before its first byte', async () => {
    resetUpstreams();
    primary.next({ kind: 'status', status: 429 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) {
      assert.equal(chunk.model, 'gpt-4');
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(text, 'Hello from the fake upstream.');
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls.length, 1);
  });

  it('ends a stream that breaks after its first byte with an explicit error', async () => {
    // Either backend may come first (the primary may be cooling down): both break.
    resetUpstreams();
    primary.always({ kind: 'break-stream', afterChunks: 2 });
    secondary.always({ kind: 'break-stream', afterChunks: 2 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let received = '';
    await assert.rejects(async () => {
      for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
    });
    assert.ok(received.length > 0, 'the first chunks reached the client before the error');
    assert.equal(
      primary.calls.length + secondary.calls.length,
      1,
      'no failover after the first byte',
    );
    resetUpstreams();
  });

  it('carries a body just under the edge limit over both hops, and refuses one over it', async () => {
    resetUpstreams();
    const post = (size: number) => {
      const empty = JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: '' }] });
      const body = JSON.stringify({
        model: 'gpt-4',
        messages: [{ role: 'user', content: 'a'.repeat(size - empty.length) }],
      });
      assert.equal(body.length, size);
      return fetch(`${ingress.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    };
    // The wire messages around it are larger than the body: the hops must still take them.
    const under = await post(BODY_LIMIT - 10);
    assert.equal(under.status, 200, await under.clone().text());
    const over = await post(BODY_LIMIT + 10);
    assert.equal(over.status, 413);
  });

  it('answers malformed JSON with a 400 and an unknown model with a 404, OpenAI-style', async () => {
    const malformed = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "gpt-4", "messages": [',
    });
    assert.equal(malformed.status, 400);
    const body = (await malformed.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'invalid_request_error');

    await assert.rejects(
      client.chat.completions.create({
        model: 'no-such-model',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError && (error.code as string) === 'model_not_found',
    );
  });

  it('reports each service ready on its admin port', async () => {
    for (const service of [adapter, router, ingress]) {
      const ready = await fetch(`http://127.0.0.1:${service.adminPort}/readyz`);
      assert.equal(ready.status, 200, await ready.text());
    }
  });

  it('answers a clean OpenAI-style 502 when the provider-adapter is gone, without hanging', async () => {
    await adapter.stop();
    const startedAt = Date.now();
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.ok([502, 503].includes(response.status), `status ${response.status}`);
    const body = (await response.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'upstream_error');
    assert.match(body.error.message, /provider-adapter/);
    assert.ok(Date.now() - startedAt < 5_000);

    const streamed = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.ok([502, 503].includes(streamed.status), `status ${streamed.status}`);

    // Shared by every router replica: reported, not gating, so the routers stay in
    // rotation and answer these 502/503s themselves instead of all leaving at once.
    const ready = await fetch(`http://127.0.0.1:${router.adminPort}/readyz`);
    const readiness = (await ready.json()) as {
      checks: Record<string, string>;
      notGating: string[];
      failing: string[];
    };
    assert.equal(ready.status, 200, JSON.stringify(readiness));
    assert.equal(readiness.checks.providerAdapter, 'unreachable', 'the router reports the adapter');
    assert.deepEqual(readiness.notGating, ['providerAdapter']);
    assert.deepEqual(readiness.failing, ['providerAdapter']);
  });
});

describe('split deployment: a key missing from the provider-adapter too', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  const started: AppProcess[] = [];

  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    await Promise.all([primary.stop(), secondary.stop()]);
  });

  it('fails over past the keyless backend without calling it unauthenticated', async () => {
    await Promise.all([primary.start(), secondary.start()]);
    const shared = { AI_GATEWAY_CONFIG: config(primary, secondary) };
    const keyless = join(dir, 'keyless');
    const adapter = await startApp('provider-adapter', {
      ...shared,
      AI_GATEWAY_MISSING_SECRETS: 'warn',
      AI_GATEWAY_DATA_DIR: join(keyless, 'adapter'),
    });
    started.push(adapter);
    const router = await startApp('router', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(keyless, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    started.push(router);
    const ingress = await startApp('ingress', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(keyless, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    started.push(ingress);
    const client = new OpenAI({ baseURL: `${ingress.baseUrl}/v1`, apiKey: 'c', maxRetries: 0 });

    const completion = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.model, 'gpt-4');
    assert.equal(primary.calls.length, 0, 'no unauthenticated call to the keyless backend');
    assert.equal(secondary.calls[0]?.body.model, 'secondary-model');

    // The refusal asked the router to leave that backend for a while: the next requests go
    // straight to the one with a key, with no second hop to the adapter and no failover.
    for (let i = 0; i < 2; i++) {
      await client.chat.completions.create({
        model: 'gpt-4',
        messages: [{ role: 'user', content: 'again' }],
      });
    }
    assert.equal(primary.calls.length, 0);
    assert.equal(secondary.calls.length, 3);
    const metrics = await (await fetch(`http://127.0.0.1:${router.adminPort}/metrics`)).text();
    assert.equal(counterTotal(metrics, 'ai_gateway_fallback_total'), 1, 'one failover, not three');
    assert.match(
      metrics,
      /ai_gateway_backend_cooldowns_total\{backend="primary",reason="retry_after"\} 1/,
    );
  });
});

/** The sum of a counter's samples over all its label sets in a Prometheus text page. */
function counterTotal(page: string, name: string): number {
  let total = 0;
  for (const line of page.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

describe('split deployment start-up failures', () => {
  it('exits with one line when a service is not told where its next hop is', async () => {
    for (const [app, setting] of [
      ['ingress', 'ROUTER_URL'],
      ['router', 'PROVIDER_ADAPTER_URL'],
    ] as const) {
      const result = await runAppToExit(app, { PORT: '0', ADMIN_PORT: '0' });
      assert.notEqual(result.code, 0);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(setting));
    }
  });

  it('each service refuses a heap growth that is not 0 to 300, in one line', async () => {
    const env = {
      PORT: '0',
      ADMIN_PORT: '0',
      ROUTER_URL: 'http://127.0.0.1:9',
      PROVIDER_ADAPTER_URL: 'http://127.0.0.1:9',
      AI_GATEWAY_HEAP_GROWING_PERCENT: 'lots',
    };
    for (const app of ['ingress', 'router', 'provider-adapter'] as const) {
      const result = await runAppToExit(app, env);
      assert.notEqual(result.code, 0, app);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /AI_GATEWAY_HEAP_GROWING_PERCENT must be a whole number/, app);
    }
  });
});
