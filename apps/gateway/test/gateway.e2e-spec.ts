import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import { estimatePromptTokensUpperBound } from '@aigw/contracts/data-plane';
import { metricSum } from '@aigw/testing';
import { assertRefusalPassedOn, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { runAppToExit, startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-e2e-'));

function writeConfig(name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

interface OpenAiErrorFields {
  message: string;
  type: string;
  code: string;
}

/** OpenAI's error body: message, type and code each present and non-empty. */
function assertOpenAiError(error: OpenAiErrorFields): void {
  for (const field of ['message', 'type', 'code'] as const) {
    assert.equal(typeof error[field], 'string', `error.${field} in ${JSON.stringify(error)}`);
    assert.ok(error[field].length > 0, `error.${field} is empty`);
  }
}

/** A start-up failure's cause: exactly one line on stderr. */
function assertOneLine(stderr: string): void {
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
}

describe('all-in-one gateway on the quickstart config (no keys, no network)', () => {
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    gateway = await startApp('gateway', { AI_GATEWAY_DATA_DIR: join(dir, 'data-quickstart') });
    client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'client-key-never-forwarded',
      maxRetries: 0,
    });
  });
  after(() => gateway.stop());

  it('answers a chat completion through the openai client', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    assert.equal(completion.model, 'gpt-4o-mini');
    assert.match(completion.choices[0]?.message.content ?? '', /Say hello/);
    assert.ok((completion.usage?.total_tokens ?? 0) > 0);
  });

  it('streams a chat completion through the openai client', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usageSeen = false;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.model, 'gpt-4o-mini');
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageSeen = true;
    }
    assert.ok(chunks > 3, 'the answer arrives in several chunks');
    assert.match(text, /Stream please/);
    assert.ok(usageSeen, 'the usage chunk reaches a client that asked for it');
  });

  it('serves embeddings and lists the virtual models', async () => {
    const embedding = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
    });
    assert.equal(embedding.data.length, 2);
    assert.ok(embedding.data[0].embedding.length > 0);
    // The SDK asked for base64 on the wire (its default) and decoded it: the same vectors
    // as asked for in numbers, to float32 precision.
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      encoding_format: 'float',
    });
    assert.deepEqual(embedding.data[1].embedding, floats.data[1].embedding.map(Math.fround));
    const wire = await fetch(`${gateway.baseUrl}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'text-embedding-3-small',
        input: 'a',
        encoding_format: 'base64',
      }),
    });
    const [first] = ((await wire.json()) as { data: { embedding: unknown }[] }).data;
    assert.equal(typeof first.embedding, 'string', 'base64 on the wire when asked for');
    const listed = await client.models.list().withResponse();
    const ids = listed.data.data.map((m) => m.id);
    assert.ok(ids.includes('gpt-4o-mini') && ids.includes('text-embedding-3-small'));
    assert.ok(listed.request_id, 'models.list has no request id');
    const one = await client.models.retrieve('gpt-4o-mini');
    assert.deepEqual({ id: one.id, object: one.object }, { id: 'gpt-4o-mini', object: 'model' });
    assert.ok(one._request_id, 'models.retrieve has no request id');
    await assert.rejects(
      client.models.retrieve('vendor/not-served'),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError && (error.code as string) === 'model_not_found',
    );
  });

  it('answers malformed JSON, a missing model and an oversized body with OpenAI-style errors and keeps serving', async () => {
    const post = (body: string) =>
      fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const malformed = await post('{"model": "gpt-4o-mini", "messages": [');
    assert.equal(malformed.status, 400);
    const malformedBody = (await malformed.json()) as { error: OpenAiErrorFields };
    assertOpenAiError(malformedBody.error);
    assert.equal(malformedBody.error.type, 'invalid_request_error');

    const noModel = await post(JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }));
    assert.equal(noModel.status, 400);
    const noModelBody = (await noModel.json()) as { error: OpenAiErrorFields & { param: string } };
    assertOpenAiError(noModelBody.error);
    assert.match(noModelBody.error.message, /model/);
    assert.equal(noModelBody.error.type, 'invalid_request_error');
    assert.equal(noModelBody.error.param, 'model');

    const huge = await post(
      JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x'.repeat(33 * 1024 * 1024) }],
      }),
    );
    assert.equal(huge.status, 413);
    const hugeBody = (await huge.json()) as { error: OpenAiErrorFields };
    assertOpenAiError(hugeBody.error);
    assert.equal(hugeBody.error.type, 'invalid_request_error');
    assert.equal(hugeBody.error.code, 'request_too_large');

    // Nesting past the limit is refused before anything walks the body (it once overflowed
    // the stack in the token estimate and answered 500).
    const levels = 100_000;
    const deep = await post(
      `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${'['.repeat(levels)}${']'.repeat(levels)}}]}`,
    );
    assert.equal(deep.status, 400);
    const deepBody = (await deep.json()) as { error: OpenAiErrorFields };
    assertOpenAiError(deepBody.error);
    assert.equal(deepBody.error.type, 'invalid_request_error');
    assert.match(deepBody.error.message, /deeper than 64 levels/);
    const deepSchema = await fetch(`${gateway.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${'{"type":"object","properties":{"a":'.repeat(5000)}{}${'}}'.repeat(5000)}}]}`,
    });
    assert.equal(deepSchema.status, 400);
    assert.deepEqual(
      ((await deepSchema.json()) as { type: string; error: { type: string } }).error.type,
      'invalid_request_error',
    );

    const unknownPath = await fetch(`${gateway.baseUrl}/v1/nope`);
    assert.equal(unknownPath.status, 404);
    assert.ok(((await unknownPath.json()) as { error?: unknown }).error);

    const still = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'still there?' }],
    });
    assert.ok(still.choices[0]?.message.content);
  });

  it('takes a request carrying a photo as base64, several megabytes of JSON', async () => {
    // About 9 MB: a phone photo inside the JSON (past the 4 MiB this once refused).
    const photo = Buffer.alloc(7 * 1024 * 1024, 7).toString('base64');
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this photo?' },
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${photo}` } },
          ],
        },
      ],
    });
    assert.ok(completion.choices[0]?.message.content);
  });

  it('serves the API without the /v1 prefix too (an SDK base URL set either way)', async () => {
    const unprefixed = new OpenAI({
      baseURL: gateway.baseUrl,
      apiKey: 'client-key-never-forwarded',
      maxRetries: 0,
    });
    const completion = await unprefixed.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    assert.match(completion.choices[0]?.message.content ?? '', /Say hello/);
    const ids: string[] = [];
    for await (const model of unprefixed.models.list()) ids.push(model.id);
    assert.ok(ids.includes('gpt-4o-mini'), ids.join(','));
    assert.equal((await unprefixed.models.retrieve('gpt-4o-mini')).id, 'gpt-4o-mini');
  });

  it('answers a served path asked with the wrong method with a 405 naming the right one', async () => {
    const wrong = async (method: string, path: string) => {
      const response = await fetch(`${gateway.baseUrl}${path}`, { method });
      const body = (await response.json()) as { error: OpenAiErrorFields };
      return { status: response.status, allow: response.headers.get('allow'), body };
    };
    for (const path of ['/v1/chat/completions', '/embeddings']) {
      const { status, allow, body } = await wrong('GET', path);
      assert.equal(status, 405, path);
      assert.equal(allow, 'POST');
      assertOpenAiError(body.error);
      assert.equal(body.error.code, 'method_not_allowed');
      assert.match(body.error.message, /use POST/);
    }
    const models = await wrong('POST', '/v1/models');
    assert.equal(models.status, 405);
    assert.equal(models.allow, 'GET, HEAD');
    // Every other served path too: stored responses, files, batches.
    const cases: [method: string, path: string, allow: string][] = [
      ['PUT', '/v1/responses/resp_1', 'GET, DELETE'],
      ['PUT', '/v1/responses/resp_1/input_items', 'GET'],
      ['PUT', '/v1/files', 'GET, POST'],
      ['PUT', '/v1/files/file-1', 'GET, DELETE'],
      ['PUT', '/files/file-1/content', 'GET'],
      ['PUT', '/v1/batches', 'GET, POST'],
      ['PUT', '/v1/batches/batch_1', 'GET'],
      ['DELETE', '/v1/batches/batch_1', 'GET'],
      ['GET', '/v1/batches/batch_1/cancel', 'POST'],
    ];
    for (const [method, path, allowed] of cases) {
      const { status, allow, body } = await wrong(method, path);
      assert.equal(status, 405, `${method} ${path}`);
      assert.equal(allow, allowed, `${method} ${path}`);
      assertOpenAiError(body.error);
      assert.equal(body.error.code, 'method_not_allowed');
    }
    // A path we do not serve stays a 404, whatever the method.
    assert.equal((await wrong('DELETE', '/v1/nope')).status, 404);
    // The analytics API mounted on this port: every route is a GET (and its HEAD).
    for (const path of [
      '/v1/analytics/usage',
      '/v1/analytics/top-spenders',
      '/v1/analytics/rates',
      '/v1/analytics/latency',
      '/v1/analytics/fallbacks',
      '/v1/analytics/budgets',
      '/v1/analytics/requests/req-1/payload',
      '/v1/analytics/payloads',
      '/v1/analytics/budget-adjustments',
    ]) {
      const { status, allow, body } = await wrong('POST', path);
      assert.equal(status, 405, `POST ${path}`);
      assert.equal(allow, 'GET, HEAD', path);
      assertOpenAiError(body.error);
      assert.equal(body.error.code, 'method_not_allowed');
    }
    // Served only under /v1, and only its own paths.
    assert.equal((await wrong('POST', '/analytics/usage')).status, 404);
    assert.equal((await wrong('POST', '/v1/analytics/nope')).status, 404);
  });

  it("answers a URL the router cannot take (a malformed %-escape, an over-long id) with a 400 in its API's format, not echoing the URL", async () => {
    // A client's key pasted into the URL must not come back in the answer.
    const keyLike = 'sk-live-0123456789abcdef';
    const cases: [string, string, 'openai' | 'anthropic' | 'gemini'][] = [
      ['POST', `/v1/chat/completions%ZZ${keyLike}`, 'openai'],
      ['POST', `/chat/completions%${keyLike}`, 'openai'],
      ['POST', `/v1/messages%ZZ${keyLike}`, 'anthropic'],
      ['POST', `/v1/messages/count_tokens%E0%A4${keyLike}`, 'anthropic'],
      ['POST', `/v1beta/models/%ZZ${keyLike}:generateContent`, 'gemini'],
      ['POST', `/v1/models/%ZZ${keyLike}:streamGenerateContent?alt=sse`, 'gemini'],
      ['GET', `/v1beta/models%ZZ${keyLike}`, 'gemini'],
      // Past the router's 100-character parameter (Fastify's answer was a 414).
      ['GET', `/v1/files/${keyLike}${'x'.repeat(200)}`, 'openai'],
    ];
    for (const [method, path, format] of cases) {
      const response = await fetch(`${gateway.baseUrl}${path}`, {
        method,
        headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
        body: method === 'POST' ? '{}' : undefined,
      });
      const text = await response.text();
      const shown = `${method} ${path}: ${response.status} ${text}`;
      assert.equal(response.status, 400, shown);
      assert.ok(!text.includes(keyLike) && !text.includes('FST_ERR'), shown);
      const body = JSON.parse(text) as {
        type?: string;
        error: { message: string; type?: string; param?: null; code?: unknown; status?: string };
      };
      assert.match(body.error.message, /URL/, shown);
      if (format === 'openai') {
        assert.equal(body.error.type, 'invalid_request_error', shown);
        assert.equal(body.error.param, null, shown);
      } else if (format === 'anthropic') {
        assert.equal(body.type, 'error', shown);
        assert.equal(body.error.type, 'invalid_request_error', shown);
      } else {
        assert.equal(body.error.code, 400, shown);
        assert.equal(body.error.status, 'INVALID_ARGUMENT', shown);
      }
    }
  });

  it('blocks a prompt matching a block pattern without echoing it', async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'my ssn: 123-45-6789' }],
      }),
    });
    assert.equal(response.status, 400);
    const text = await response.text();
    assert.match(text, /blockPatterns\[0\]/);
    assert.doesNotMatch(text, /123-45-6789/);

    // Text the client sends as an earlier tool call's arguments reaches the model too.
    const inToolCall = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'user', content: 'file my form' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'file_form', arguments: '{"id": "ssn: 123-45-6789"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'filed' },
        ],
      }),
    });
    assert.equal(inToolCall.status, 400);
    assert.match(await inToolCall.text(), /blockPatterns\[0\]/);
  });

  it('serves health and Prometheus endpoints on the admin port', async () => {
    const health = await fetch(`http://127.0.0.1:${gateway.adminPort}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`http://127.0.0.1:${gateway.adminPort}/readyz`);
    assert.equal(ready.status, 200);
    for (const path of ['/metrics', '/stats/prometheus']) {
      const metrics = await fetch(`http://127.0.0.1:${gateway.adminPort}${path}`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    }
  });
});

describe('all-in-one gateway: usage events, metrics and restarts', () => {
  const dataDir = join(dir, 'data-usage');

  function usageEventsFor(user: string): number {
    const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
    try {
      const rows = db
        .prepare("SELECT value FROM events WHERE topic = 'gateway.usage.recorded.v1'")
        .all() as { value: string }[];
      return rows.filter((row) => (JSON.parse(row.value) as { userId: string }).userId === user)
        .length;
    } finally {
      db.close();
    }
  }

  // The quickstart's local model, with a per-user token budget whose balance must survive.
  const BUDGET = 100_000;
  const budgetConfig = () =>
    writeConfig(
      'budget-restart.yaml',
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: budget-restart}
spec:
  backends:
  - {name: local-gpt-4o-mini, provider: local, model: gpt-4o-mini}
  userIdentification:
    header: x-user-id
  tokenBudget:
    perUser: {limit: ${BUDGET}, period: 30d}
`,
    );
  const MAX_TOKENS = 50;
  const chatBody = (content: string) => ({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user' as const, content }],
    max_tokens: MAX_TOKENS,
  });
  /** What admission holds for a request: its prompt's upper-bound estimate plus max_tokens. */
  const holdOf = (content: string) =>
    estimatePromptTokensUpperBound(chatBody(content)) + MAX_TOKENS;
  const remainingHeader = (response: Response) => {
    const value = response.headers.get('x-ratelimit-remaining-tokens');
    assert.ok(value !== null, 'the answer carries x-ratelimit-remaining-tokens');
    return Number(value);
  };

  /** Waits until everything carol was billed is settled in her balance; returns the balance. */
  async function settledBalance(gateway: AppProcess, requests: number): Promise<number> {
    const deadline = Date.now() + 30_000;
    let text = '';
    while (Date.now() < deadline) {
      text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
      const completed = metricSum(text, 'ai_gateway_request_duration_seconds_count', {
        model: 'gpt-4o-mini',
      });
      const billed =
        metricSum(text, 'ai_gateway_tokens_total', { user: 'carol', type: 'input' }) +
        metricSum(text, 'ai_gateway_tokens_total', { user: 'carol', type: 'output' });
      const gauge = text
        .split('\n')
        .find(
          (line) =>
            line.startsWith('ai_gateway_budget_remaining{') &&
            line.includes('budget_key="carol"') &&
            line.includes('limit="tokenBudget.perUser"'),
        );
      const balance = gauge === undefined ? undefined : Number(gauge.split(' ').at(-1));
      if (completed === requests && billed > 0 && balance === BUDGET - billed) return balance;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`carol's usage did not settle in her budget within 30 s; metrics:\n${text}`);
  }

  it('records one usage event per request, exports token metrics, and keeps them and the budget balance across a restart', async () => {
    const config = budgetConfig();
    let gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: dataDir,
    });
    let remainingBefore: number;
    let billed: number;
    try {
      const client = new OpenAI({
        baseURL: `${gateway.baseUrl}/v1`,
        apiKey: 'k',
        maxRetries: 0,
        defaultHeaders: { 'x-user-id': 'carol' },
      });
      const first = await client.chat.completions.create(chatBody('one')).withResponse();
      remainingBefore = remainingHeader(first.response);
      // Carol's first request: nothing spent yet, only its own hold.
      assert.equal(remainingBefore, BUDGET - holdOf('one'));
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'two' }],
        stream: true,
      });
      for await (const _chunk of stream) {
        // drain
      }
      const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
      assert.match(
        metrics,
        /ai_gateway_tokens_total\{user="carol",model="gpt-4o-mini",type="input"\} \d+/,
      );
      assert.match(
        metrics,
        /ai_gateway_tokens_total\{user="carol",model="gpt-4o-mini",type="output"\} \d+/,
      );
      assert.match(
        metrics,
        /ai_gateway_request_duration_seconds_count\{provider="local",model="gpt-4o-mini"\} 2/,
      );
      billed = BUDGET - (await settledBalance(gateway, 2));
    } finally {
      await gateway.stop();
    }
    assert.equal(
      usageEventsFor('carol'),
      2,
      'both requests were written before the process stopped',
    );

    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: dataDir,
    });
    try {
      const client = new OpenAI({
        baseURL: `${gateway.baseUrl}/v1`,
        apiKey: 'k',
        maxRetries: 0,
        defaultHeaders: { 'x-user-id': 'carol' },
      });
      const third = await client.chat.completions.create(chatBody('three')).withResponse();
      // The restarted gateway starts from what was left before it, less what the two
      // requests were billed: the first one's hold is gone, the third one's is taken.
      assert.equal(
        remainingHeader(third.response),
        remainingBefore + holdOf('one') - billed - holdOf('three'),
      );
    } finally {
      await gateway.stop();
    }
    assert.equal(usageEventsFor('carol'), 3, 'the restart kept the earlier usage');
  });
});

describe('all-in-one gateway in front of OpenAI-compatible upstreams', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([primary.start(), secondary.start()]);
    const config = writeConfig(
      'upstreams.yaml',
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: upstreams}
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
  security:
    stripHeaders: [x-internal-auth]
  failover:
    on: [rateLimit, timeout, error]
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_PRIMARY_KEY_APIKEY: 'sk-primary-secret',
      AI_GATEWAY_DATA_DIR: join(dir, 'data-upstreams'),
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([primary.stop(), secondary.stop()]);
  });

  it('injects the configured key, strips headers and shows the virtual model name', async () => {
    primary.reset();
    const completion = await client.chat.completions.create(
      { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-internal-auth': 'internal', 'x-trace-id': 'trace-1' } },
    );
    assert.equal(completion.model, 'gpt-4');
    const call = primary.calls[0];
    assert.equal(call.body.model, 'primary-model');
    assert.equal(call.headers.authorization, 'Bearer sk-primary-secret');
    assert.equal(call.headers['x-internal-auth'], undefined);
    assert.equal(call.headers['x-trace-id'], 'trace-1');
  });

  it('fails over to the next backend on a 5xx, invisibly to the client', async () => {
    primary.reset();
    secondary.reset();
    primary.next({ kind: 'status', status: 503 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.model, 'gpt-4');
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls.length, 1);
    assert.equal(secondary.calls[0].body.model, 'secondary-model');
  });

  it('fails a stream over before its first byte', async () => {
    primary.reset();
    secondary.reset();
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
    assert.equal(secondary.calls.length, 1);
  });

  it('ends a stream that breaks after its first byte with an explicit error', async () => {
    primary.reset();
    primary.next({ kind: 'break-stream', afterChunks: 2 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    await assert.rejects(async () => {
      for await (const _chunk of stream) {
        // consume until the error event
      }
    });
  });

  it("passes on a provider's refusal with its own code and param, without failing over", async () => {
    primary.reset();
    secondary.reset();
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

  it('answers an unknown model with a 404 in OpenAI format', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'no-such-model',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (error: unknown) => error instanceof OpenAI.NotFoundError,
    );
  });
});

describe('gateway start-up failures', () => {
  it('exits non-zero with one line for malformed YAML', async () => {
    const config = writeConfig('broken.yaml', 'kind: AIGatewayRoute\nspec: [unclosed\n');
    const result = await runAppToExit('gateway', {
      AI_GATEWAY_CONFIG: config,
      PORT: '0',
      ADMIN_PORT: '0',
    });
    assert.notEqual(result.code, 0);
    assertOneLine(result.stderr);
    assert.match(result.stderr, /broken\.yaml/);
  });

  it('exits non-zero with one line for an unknown kind', async () => {
    const config = writeConfig('kind.yaml', 'apiVersion: v1\nkind: Banana\nmetadata: {name: x}\n');
    const result = await runAppToExit('gateway', {
      AI_GATEWAY_CONFIG: config,
      PORT: '0',
      ADMIN_PORT: '0',
    });
    assert.notEqual(result.code, 0);
    assertOneLine(result.stderr);
    assert.match(result.stderr, /Banana/);
  });

  it('exits non-zero for a missing secret without printing any secret', async () => {
    const config = writeConfig(
      'secret.yaml',
      'kind: AIGatewayRoute\nmetadata: {name: s}\nspec:\n  backends:\n  - name: openai\n    model: gpt-4\n    auth: {apiKeyRef: {name: missing-key}}\n',
    );
    const result = await runAppToExit('gateway', {
      AI_GATEWAY_CONFIG: config,
      PORT: '0',
      ADMIN_PORT: '0',
    });
    assert.notEqual(result.code, 0);
    assertOneLine(result.stderr);
    assert.match(result.stderr, /missing-key/);
  });

  it('exits non-zero with one line for a heap growth that is not 0 to 300', async () => {
    const result = await runAppToExit('gateway', {
      AI_GATEWAY_HEAP_GROWING_PERCENT: '500',
      PORT: '0',
      ADMIN_PORT: '0',
    });
    assert.notEqual(result.code, 0);
    assertOneLine(result.stderr);
    assert.match(
      result.stderr,
      /^ai-gateway: AI_GATEWAY_HEAP_GROWING_PERCENT must be a whole number from 0 to 300, got "500"$/m,
    );
  });

  it('exits non-zero with one line when the port is in use', async () => {
    const first = await startApp('gateway', { AI_GATEWAY_DATA_DIR: join(dir, 'data-port') });
    try {
      const result = await runAppToExit('gateway', {
        PORT: String(first.port),
        ADMIN_PORT: '0',
        AI_GATEWAY_DATA_DIR: join(dir, 'data-port2'),
      });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /already in use/);
      assertOneLine(result.stderr);
    } finally {
      await first.stop();
    }
  });
});
