import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiError,
  GoogleGenAI,
  HarmBlockThreshold,
  HarmCategory,
  type Content,
  type FunctionDeclaration,
  type GenerateContentResponse,
  type Part,
} from '@google/genai';
import { metricSum } from '@aigw/testing';
import {
  ANTHROPIC_FAKE_THINKING,
  FakeAnthropicUpstream,
  FakeGeminiUpstream,
  FakeOpenAiToolUpstream,
  FakeOpenAiUpstream,
  RawSseUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { startSplitOnAnthropicBackend, type Deployment } from './anthropic-backend';

// Google's own SDK (@google/genai) pointed at the gateway, as Gemini CLI is with
// GOOGLE_GEMINI_BASE_URL, served by an OpenAI-compatible and an Anthropic backend.

const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-e2e-'));
const CLIENT_KEY = 'goog-client-key-never-forwarded';

const WEATHER: FunctionDeclaration = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parametersJsonSchema: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string' } },
    required: ['city'],
  },
};

function clientFor(gateway: AppProcess, headers: Record<string, string> = {}): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: CLIENT_KEY,
    httpOptions: { baseUrl: gateway.baseUrl, headers },
  });
}

/** Whether the client's key appears anywhere in what a backend was sent. */
function leaksClientKey(call: { headers: Record<string, unknown>; path: string }): boolean {
  return JSON.stringify(call.headers).includes(CLIENT_KEY) || call.path.includes(CLIENT_KEY);
}

/** An error body without its per-request id, to compare two answers. */
function withoutRequestId(answer: { status: number; body: unknown }): unknown {
  const { request_id: _id, ...rest } = answer.body as Record<string, unknown>;
  return { status: answer.status, body: rest };
}

/**
 * A stream of two candidates read whole: each candidate's text and finish reasons by its
 * index, every event's usage, and the last event.
 */
async function twoCandidates(stream: AsyncGenerator<GenerateContentResponse>) {
  const texts = ['', ''];
  const finishes: unknown[][] = [[], []];
  const usages: unknown[] = [];
  let last: GenerateContentResponse | undefined;
  for await (const response of stream) {
    last = response;
    for (const candidate of response.candidates ?? []) {
      const index = candidate.index ?? 0;
      for (const part of candidate.content?.parts ?? []) texts[index] += part.text ?? '';
      if (candidate.finishReason) finishes[index].push(candidate.finishReason);
    }
    if (response.usageMetadata) usages.push(response.usageMetadata);
  }
  return { texts, finishes, usages, last };
}

async function postRaw(
  gateway: AppProcess,
  path: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${gateway.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': CLIENT_KEY },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as never,
  };
}

describe('Gemini API on the all-in-one gateway, OpenAI and Anthropic backends', () => {
  const tools = new FakeOpenAiToolUpstream();
  const claude = new FakeAnthropicUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await Promise.all([tools.start(), claude.start()]);
    const config = join(dir, 'upstreams.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: gemini-edge}
spec:
  backends:
  - name: tools
    provider: vllm
    baseUrl: ${tools.baseUrl}
    model: upstream-tool-model
    modelNameOverride: gemini-tools
    auth:
      apiKeyRef: {name: tools-key}
  - name: claude
    provider: anthropic
    baseUrl: ${claude.baseUrl}
    model: claude-sonnet-4-5
    modelNameOverride: gemini-claude
    auth:
      apiKeyRef: {name: anthropic-key}
  failover:
    on: [rateLimit, timeout, error]
    retryDelay: 0s
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_TOOLS_KEY_APIKEY: 'sk-tools-secret',
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
      AI_GATEWAY_DATA_DIR: join(dir, 'upstreams'),
      // The settings a backend leaves unapplied are logged at debug.
      AI_GATEWAY_LOG_LEVEL: 'debug',
    });
    client = clientFor(gateway);
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([tools.stop(), claude.stop()]);
  });

  it('answers generateContent through the SDK from an OpenAI-compatible backend', async () => {
    tools.reset();
    const response = await client.models.generateContent({
      model: 'gemini-tools',
      contents: 'Say hello',
      config: { systemInstruction: 'You are a test.', temperature: 0.3, maxOutputTokens: 100 },
    });
    assert.match(response.text ?? '', /The tool said: Say hello/);
    assert.equal(response.modelVersion, 'gemini-tools');
    assert.equal(response.candidates?.[0]?.finishReason, 'STOP');
    const usage = response.usageMetadata;
    assert.ok(usage?.promptTokenCount && usage.candidatesTokenCount, JSON.stringify(usage));
    assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);

    const upstream = tools.calls[0];
    assert.equal(upstream?.body.model, 'upstream-tool-model');
    assert.deepEqual(upstream?.body.messages, [
      { role: 'system', content: 'You are a test.' },
      { role: 'user', content: 'Say hello' },
    ]);
    assert.equal(upstream?.body.temperature, 0.3);
    assert.equal(upstream?.body.max_tokens, 100);
    assert.equal(upstream?.headers.authorization, 'Bearer sk-tools-secret');
    assert.equal(upstream?.headers['x-goog-api-key'], undefined);
    assert.ok(!leaksClientKey(upstream), "the client's key stays at the gateway");
  });

  it('streams generateContentStream from an Anthropic backend, usage on the last chunk', async () => {
    claude.reset();
    const stream = await client.models.generateContentStream({
      model: 'gemini-claude',
      contents: [{ role: 'user', parts: [{ text: 'Stream please' }] }],
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.text ?? '';
    }
    assert.equal(text, 'Hello from Claude.');
    assert.ok(chunks.length > 2, `${chunks.length} chunks`);
    const last = chunks.at(-1)!;
    assert.equal(last.candidates?.[0]?.finishReason, 'STOP');
    assert.equal(last.modelVersion, 'gemini-claude');
    // The fake's 20 uncached + 5 written + 100 read prompt tokens, 9 output tokens.
    assert.deepEqual(last.usageMetadata, {
      promptTokenCount: 125,
      candidatesTokenCount: 9,
      totalTokenCount: 134,
      cachedContentTokenCount: 100,
    });
    const upstream = claude.calls[0];
    assert.equal(upstream?.headers['x-api-key'], 'sk-ant-test');
    assert.equal(upstream?.headers['x-goog-api-key'], undefined);
    assert.ok(!leaksClientKey(upstream), "the client's key stays at the gateway");
  });

  it('completes a function-call round trip, the call whole in the stream', async () => {
    tools.reset();
    const question: Content = { role: 'user', parts: [{ text: 'Weather in Paris?' }] };
    const first = await client.models.generateContent({
      model: 'gemini-tools',
      contents: [question],
      config: { tools: [{ functionDeclarations: [WEATHER] }] },
    });
    const calls = first.functionCalls ?? [];
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.name, 'get_weather');
    assert.deepEqual(calls[0]?.args, { city: 'Paris', unit: 'celsius' });
    assert.deepEqual(tools.calls[0]?.body.tools, [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: WEATHER.parametersJsonSchema,
          description: 'Current weather for a city',
        },
      },
    ]);

    const second = await client.models.generateContent({
      model: 'gemini-tools',
      contents: [
        question,
        first.candidates![0].content!,
        {
          role: 'user',
          parts: [
            { functionResponse: { id: calls[0]?.id, name: 'get_weather', response: { temp: 21 } } },
          ],
        },
      ],
      config: { tools: [{ functionDeclarations: [WEATHER] }] },
    });
    assert.match(second.text ?? '', /The tool said: \{"temp":21\}/);
    const sent = tools.calls[1]?.body.messages as Record<string, unknown>[];
    const assistant = sent.at(-2)!;
    const toolMessage = sent.at(-1)!;
    const callId = (assistant.tool_calls as { id: string }[])[0]?.id;
    assert.equal(toolMessage.role, 'tool');
    assert.equal(toolMessage.tool_call_id, callId);

    const stream = await client.models.generateContentStream({
      model: 'gemini-tools',
      contents: [question],
      config: { tools: [{ functionDeclarations: [WEATHER] }] },
    });
    const streamed = [];
    for await (const chunk of stream) streamed.push(...(chunk.functionCalls ?? []));
    assert.deepEqual(
      streamed.map((call) => [call.name, call.args]),
      [['get_weather', { city: 'Paris', unit: 'celsius' }]],
    );
  });

  it("keeps Claude's signed thinking across a function-call round trip, plain and streaming", async () => {
    const config = {
      tools: [{ functionDeclarations: [WEATHER] }],
      thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
    };
    const question: Content = { role: 'user', parts: [{ text: 'Weather in Paris?' }] };
    const answerTo = (parts: Part[]): Content[] => {
      const call = parts.find((part) => part.functionCall)?.functionCall;
      return [
        question,
        { role: 'model', parts },
        {
          role: 'user',
          parts: [{ functionResponse: { id: call?.id, name: call?.name, response: { t: 21 } } }],
        },
      ];
    };
    for (const streaming of [false, true]) {
      claude.reset();
      let parts: Part[];
      if (streaming) {
        parts = [];
        const stream = await client.models.generateContentStream({
          model: 'gemini-claude',
          contents: [question],
          config,
        });
        for await (const chunk of stream)
          parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []));
      } else {
        const first = await client.models.generateContent({
          model: 'gemini-claude',
          contents: [question],
          config,
        });
        parts = first.candidates?.[0]?.content?.parts ?? [];
      }
      const thought = parts
        .filter((part) => part.thought)
        .map((part) => part.text)
        .join('');
      assert.equal(thought, ANTHROPIC_FAKE_THINKING.thinking);
      assert.ok(parts.some((part) => part.functionCall?.name === 'get_weather'));
      // The fake refuses (400) a tool-use continuation without the signed thinking block.
      await client.models.generateContent({
        model: 'gemini-claude',
        contents: answerTo(parts),
        config,
      });
      const sent = claude.calls[1]?.body.messages as { role: string; content: unknown[] }[];
      assert.deepEqual(sent[1]?.content[0], { type: 'thinking', ...ANTHROPIC_FAKE_THINKING });
    }
  });

  it("lists and gets the virtual models in Gemini's shape", async () => {
    const names: string[] = [];
    for await (const model of await client.models.list()) names.push(model.name ?? '');
    assert.deepEqual(names.sort(), ['models/gemini-claude', 'models/gemini-tools']);
    // Under v1beta too, and OpenAI's shape still for OpenAI's clients.
    const betaAnswer = await fetch(`${gateway.baseUrl}/v1beta/models`);
    assert.ok(betaAnswer.headers.get('x-request-id'), 'the models list has no request id');
    const beta = (await betaAnswer.json()) as { models: { name: string }[] };
    assert.equal(beta.models.length, 2);
    const oneAnswer = await fetch(`${gateway.baseUrl}/v1beta/models/gemini-tools`);
    assert.ok(oneAnswer.headers.get('x-request-id'), 'a model has no request id');
    const openAi = (await (await fetch(`${gateway.baseUrl}/v1/models`)).json()) as {
      object: string;
    };
    assert.equal(openAi.object, 'list');
    const one = await client.models.get({ model: 'gemini-tools' });
    assert.equal(one.name, 'models/gemini-tools');
    assert.ok(one.supportedActions?.includes('generateContent'), JSON.stringify(one));
    await assert.rejects(
      client.models.get({ model: 'no-such-model' }),
      (error: unknown) => error instanceof ApiError && error.status === 404,
    );
  });

  it('counts tokens with countTokens', async () => {
    const counted = await client.models.countTokens({
      model: 'gemini-tools',
      contents: 'How many tokens is this sentence?',
    });
    assert.ok((counted.totalTokens ?? 0) > 5, JSON.stringify(counted));
  });

  it("refuses an unknown model with a 404 in Google's error shape", async () => {
    await assert.rejects(
      client.models.generateContent({ model: 'no-such-model', contents: 'Hi' }),
      (error: unknown) => error instanceof ApiError && error.status === 404,
    );
    const raw = await postRaw(gateway, '/v1beta/models/no-such-model:generateContent', {
      contents: [{ parts: [{ text: 'Hi' }] }],
    });
    assert.equal(raw.status, 404);
    const error = raw.body.error as Record<string, unknown>;
    assert.equal(error.code, 404);
    assert.equal(error.status, 'NOT_FOUND');
    assert.match(String(error.message), /The model "no-such-model" does not exist/);
  });

  it("answers an unknown /v1beta path or method in Google's shape, /v1 unchanged", async () => {
    const ask = async (method: string, path: string) => {
      const bodyless = method === 'GET' || method === 'DELETE';
      const response = await fetch(`${gateway.baseUrl}${path}`, {
        method,
        headers: {
          'x-goog-api-key': CLIENT_KEY,
          ...(bodyless ? {} : { 'content-type': 'application/json' }),
        },
        body: bodyless ? undefined : '{}',
      });
      return { status: response.status, body: (await response.json()) as Record<string, never> };
    };
    const unknown: [string, string, RegExp][] = [
      ['POST', '/v1beta/models/gemini-tools:unknownMethod', /No Gemini API method/],
      ['POST', '/v1beta/nothing', /POST \/v1beta\/nothing/],
      ['GET', '/v1beta/nothing/deeper?key=x', /GET \/v1beta\/nothing/],
      ['GET', '/v1beta', /GET \/v1beta/],
      ['POST', '/v1beta/models', /POST \/v1beta\/models/],
      ['DELETE', '/v1beta/models/gemini-tools', /DELETE/],
      // A method served with POST only, asked with another: Google's 404, not a 405.
      ['GET', '/v1beta/models/gemini-tools:generateContent', /GET is not allowed.*use POST/],
      ['PUT', '/v1beta/models/gemini-tools:streamGenerateContent', /PUT is not allowed.*use POST/],
    ];
    for (const [method, path, message] of unknown) {
      const answer = await ask(method, path);
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.deepEqual(Object.keys(answer.body), ['error'], `${method} ${path}`);
      const error = answer.body.error as Record<string, unknown>;
      assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'status']);
      assert.equal(error.code, 404);
      assert.equal(error.status, 'NOT_FOUND');
      assert.match(String(error.message), message, `${method} ${path}`);
    }
    // The OpenAI API's paths keep OpenAI's shape and its 405.
    const openAiUnknown = await ask('GET', '/v1/nothing');
    assert.equal(openAiUnknown.status, 404);
    assert.equal((openAiUnknown.body.error as Record<string, unknown>).code, 'unknown_url');
    const openAiMethod = await ask('GET', '/v1/chat/completions');
    assert.equal(openAiMethod.status, 405);
    assert.equal((openAiMethod.body.error as Record<string, unknown>).code, 'method_not_allowed');
  });

  it('refuses to count for a model it does not serve, as generateContent refuses it', async () => {
    const body = { contents: [{ parts: [{ text: 'Hi' }] }] };
    for (const model of ['no-such-model', '..%2F..%2Fadmin']) {
      const generated = await postRaw(gateway, `/v1beta/models/${model}:generateContent`, body);
      const counted = await postRaw(gateway, `/v1beta/models/${model}:countTokens`, body);
      assert.equal(generated.status, 404);
      assert.equal(counted.status, generated.status);
      assert.deepEqual(counted.body, generated.body);
    }
  });

  it("answers bad input and an unknown alt in Google's shape", async () => {
    const bad = await postRaw(
      gateway,
      '/v1beta/models/gemini-tools:streamGenerateContent?alt=sse',
      {
        contents: [{ parts: [{ text: 'Hi' }] }],
        generationConfig: { candidateCount: 0 },
      },
    );
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.body), ['error']);
    assert.equal((bad.body.error as Record<string, unknown>).status, 'INVALID_ARGUMENT');
    assert.match(
      String((bad.body.error as Record<string, unknown>).message),
      /candidate_count.*whole number/,
    );
    // Claude answers one choice: more candidates, streamed or not, are its 400, saying so.
    for (const method of ['generateContent', 'streamGenerateContent?alt=sse']) {
      const more = await postRaw(gateway, `/v1beta/models/gemini-claude:${method}`, {
        contents: [{ parts: [{ text: 'Hi' }] }],
        generationConfig: { candidateCount: 2 },
      });
      assert.equal(more.status, 400, method);
      assert.match(
        String((more.body.error as Record<string, unknown>).message),
        /one choice \(n=1\)/,
        method,
      );
    }
    const badAlt = await postRaw(
      gateway,
      '/v1beta/models/gemini-tools:streamGenerateContent?alt=xml',
      { contents: [{ parts: [{ text: 'Hi' }] }] },
    );
    assert.equal(badAlt.status, 400);
    assert.match(String((badAlt.body.error as Record<string, unknown>).message), /alt=sse/);
    const notJson = await fetch(`${gateway.baseUrl}/v1beta/models/gemini-tools:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(notJson.status, 400);
    const body = (await notJson.json()) as { error: { status: string } };
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
  });

  it("keeps Gemini's own settings from an OpenAI backend, gives Claude topK, and asks OpenAI for candidateCount as n", async () => {
    tools.reset();
    claude.reset();
    const config = {
      topK: 40,
      safetySettings: [
        {
          category: HarmCategory.HARM_CATEGORY_HARASSMENT,
          threshold: HarmBlockThreshold.BLOCK_NONE,
        },
      ],
    };
    const plain = await client.models.generateContent({
      model: 'gemini-tools',
      contents: 'Say hello',
      config: { ...config, candidateCount: 2 },
    });
    assert.match(plain.text ?? '', /The tool said: Say hello/);
    const sent = tools.calls[0]?.body;
    assert.equal(sent?.n, 2);
    for (const field of ['provider_extras', 'top_k', 'safety_settings', 'safetySettings']) {
      assert.equal(sent?.[field], undefined, `${field} is no OpenAI field`);
    }
    const fromClaude = await client.models.generateContent({
      model: 'gemini-claude',
      contents: 'Say hello',
      config,
    });
    assert.ok(fromClaude.text);
    assert.equal(claude.calls[0]?.body.top_k, 40);
    assert.equal(claude.calls[0]?.body.provider_extras, undefined);
    // Claude answers one choice: more candidates are the client's 400, in Google's shape.
    const many = await postRaw(gateway, '/v1beta/models/gemini-claude:generateContent', {
      contents: [{ parts: [{ text: 'Hi' }] }],
      generationConfig: { candidateCount: 2 },
    });
    assert.equal(many.status, 400);
    assert.equal((many.body.error as Record<string, unknown>).status, 'INVALID_ARGUMENT');
    assert.equal(claude.calls.length, 1);
    // Names only, never the values.
    const log = gateway.output();
    assert.match(
      log,
      /Gemini settings not applied by backend \\?"tools\\?" \(vllm\): topK, safetySettings/,
    );
    assert.match(
      log,
      /Gemini settings not applied by backend \\?"claude\\?" \(anthropic\): safetySettings"/,
    );
    assert.doesNotMatch(log, /HARM_CATEGORY_HARASSMENT/);
  });

  it('logs the settings a streamed answer left out, as its adapter reported them', async () => {
    tools.reset();
    const stream = await client.models.generateContentStream({
      model: 'gemini-tools',
      contents: 'Say hello',
      config: { topK: 7, seed: 11 },
    });
    for await (const chunk of stream) void chunk;
    assert.equal(tools.calls[0]?.body.seed, 11);
    // topK alone: the OpenAI-format backend took the seed.
    assert.match(
      gateway.output(),
      /Gemini settings not applied by backend \\?"tools\\?" \(vllm\): topK"/,
    );
  });

  it('streams a JSON array without alt=sse, as Gemini does', async () => {
    const response = await fetch(
      `${gateway.baseUrl}/v1beta/models/gemini-claude:streamGenerateContent`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': CLIENT_KEY },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'Array please' }] }] }),
      },
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    const events = (await response.json()) as {
      candidates: { content?: { parts: { text: string }[] }; finishReason?: string }[];
      usageMetadata?: { totalTokenCount: number };
    }[];
    const text = events
      .flatMap((event) => event.candidates[0]?.content?.parts ?? [])
      .map((part) => part.text)
      .join('');
    assert.equal(text, 'Hello from Claude.');
    assert.equal(events.at(-1)?.candidates[0]?.finishReason, 'STOP');
    assert.equal(events.at(-1)?.usageMetadata?.totalTokenCount, 134);
  });

  it('takes the key as ?key= too, never passing it on', async () => {
    claude.reset();
    const response = await fetch(
      `${gateway.baseUrl}/v1/models/gemini-claude:generateContent?key=${CLIENT_KEY}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'Query key' }] }] }),
      },
    );
    assert.equal(response.status, 200);
    const upstream = claude.calls[0];
    assert.ok(!leaksClientKey(upstream), "the client's key stays at the gateway");
    assert.deepEqual(upstream.query, {});
  });

  it('ends a stream that broke mid-way with an error the SDK throws', async () => {
    claude.reset();
    // After the first word: an error before it is refused before the stream starts.
    claude.next({ kind: 'stream-error', afterChunks: 4 });
    const stream = await client.models.generateContentStream({
      model: 'gemini-claude',
      contents: 'Break please',
    });
    await assert.rejects(async () => {
      for await (const chunk of stream) void chunk;
    }, ApiError);
  });

  it('is counted under its own routes in the request metrics', async () => {
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const requests = (text: string, route: string) =>
      metricSum(text, 'ai_gateway_requests_total', { route });
    const before = await scrape();
    await client.models.generateContent({ model: 'gemini-tools', contents: 'Count me' });
    const stream = await client.models.generateContentStream({
      model: 'gemini-tools',
      contents: 'Count me too',
    });
    for await (const chunk of stream) void chunk;
    const after = await scrape();
    assert.equal(
      requests(after, 'gemini.generateContent') - requests(before, 'gemini.generateContent'),
      1,
    );
    assert.equal(
      requests(after, 'gemini.streamGenerateContent') -
        requests(before, 'gemini.streamGenerateContent'),
      1,
    );
    assert.equal(requests(after, 'chat.completions'), requests(before, 'chat.completions'));
  });
});

describe("Gemini countTokens and a tier's models", () => {
  let gateway: AppProcess;

  before(async () => {
    const config = join(dir, 'tiers.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: gemini-tiers}
spec:
  backends:
  - {name: local, provider: local, model: gemini-local}
  - {name: premium, provider: local, model: gemini-premium}
  userIdentification: {header: x-user-id}
  userTiers:
  - name: free
    default: true
    selector: {header: x-user-plan, value: free}
    tokenBudget: {daily: 100000}
    allowedModels: [gemini-local]
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'tiers'),
    });
  });
  after(() => gateway.stop());

  it("refuses to count for a model the caller's tier may not use, as generating refuses it", async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-user-id': 'free-1',
          'x-user-plan': 'free',
        },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const gemini = { contents: [{ parts: [{ text: 'Hi' }] }] };
    const generated = await post('/v1beta/models/gemini-premium:generateContent', gemini);
    const counted = await post('/v1beta/models/gemini-premium:countTokens', gemini);
    assert.equal(generated.status, 403, JSON.stringify(generated.body));
    assert.deepEqual(counted, generated);
    // Anthropic's count_tokens the same way, in its own shape.
    const messages = {
      model: 'gemini-premium',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Hi' }],
    };
    const created = await post('/v1/messages', messages);
    const tallied = await post('/v1/messages/count_tokens', messages);
    assert.equal(created.status, 403, JSON.stringify(created.body));
    assert.deepEqual(withoutRequestId(tallied), withoutRequestId(created));
    // And the Responses API's input_tokens, in OpenAI's.
    const responses = { model: 'gemini-premium', input: 'Hi' };
    const responded = await post('/v1/responses', responses);
    const inputTokens = await post('/v1/responses/input_tokens', responses);
    assert.equal(responded.status, 403, JSON.stringify(responded.body));
    assert.deepEqual(withoutRequestId(inputTokens), withoutRequestId(responded));
    // The model the tier allows is still counted.
    const allowed = await post('/v1beta/models/gemini-local:countTokens', gemini);
    assert.equal(allowed.status, 200);
  });
});

describe('Gemini API and budgets', () => {
  let gateway: AppProcess;

  before(async () => {
    const config = join(dir, 'budget.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: gemini-budget}
spec:
  backends:
  - {name: local, provider: local, model: gemini-local}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 150, period: 30d}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'budget'),
    });
  });
  after(() => gateway.stop());

  it("refuses a caller past its budget with Google's 429 RESOURCE_EXHAUSTED and Retry-After", async () => {
    const user = 'gemini-budget-user';
    const prompt = 'A prompt long enough to spend a small token budget quickly, again and again.';
    let refused: Response | undefined;
    for (let i = 0; i < 20 && refused === undefined; i++) {
      const response = await fetch(
        `${gateway.baseUrl}/v1beta/models/gemini-local:generateContent`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': user },
          body: JSON.stringify({
            contents: [{ parts: [{ text: prompt }] }],
            generationConfig: { maxOutputTokens: 20 },
          }),
        },
      );
      if (response.status === 200) await response.arrayBuffer();
      else refused = response;
    }
    assert.equal(refused?.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After is set');
    const body = (await refused.json()) as { error: { code: number; status: string } };
    assert.equal(body.error.code, 429);
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    // The SDK throws it as the API error it is (more calls may fit once earlier holds settle).
    const client = clientFor(gateway, { 'x-user-id': user });
    let thrown: unknown;
    for (let i = 0; i < 20 && thrown === undefined; i++) {
      await client.models
        .generateContent({
          model: 'gemini-local',
          contents: prompt,
          config: { maxOutputTokens: 20 },
        })
        .catch((error: unknown) => (thrown = error));
    }
    assert.ok(thrown instanceof ApiError && thrown.status === 429, String(thrown));
  });
});

describe('Gemini embeddings (embedContent, batchEmbedContents) on an OpenAI embeddings backend', () => {
  const openai = new FakeOpenAiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  /** An OpenAI embeddings list, its vectors listed last first (the gateway orders them). */
  const listOf = (...vectors: number[][]) => ({
    kind: 'status' as const,
    status: 200,
    body: {
      object: 'list',
      model: 'text-embedding-3-small-upstream-name',
      data: vectors
        .map((embedding, index) => ({ object: 'embedding', index, embedding }))
        .reverse(),
      usage: { prompt_tokens: 1000, total_tokens: 1000 },
    },
  });

  before(async () => {
    await openai.start();
    const config = join(dir, 'embeddings.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: gemini-embeddings}
spec:
  backends:
  - name: embed
    provider: openai
    baseUrl: "${openai.baseUrl}"
    model: text-embedding-3-small
    modelNameOverride: gemini-embed
    auth: {apiKeyRef: {name: openai-key}}
  userIdentification: {header: x-user-id}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai-embed',
      AI_GATEWAY_DATA_DIR: join(dir, 'embeddings'),
    });
    client = clientFor(gateway, { 'x-user-id': 'embedder' });
  });
  after(async () => {
    await gateway.stop();
    await openai.stop();
  });

  it('embeds one and several contents through the SDK, billed to the caller', async () => {
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const before = await scrape();
    openai.reset();
    openai.next(listOf([0.5, -0.5, 0.25]), listOf([1, 0], [0, 1], [0.5, 0.5]));

    const one = await client.models.embedContent({
      model: 'gemini-embed',
      contents: 'Embed me',
      config: { outputDimensionality: 3, taskType: 'RETRIEVAL_QUERY' },
    });
    assert.deepEqual(
      one.embeddings?.map((embedding) => embedding.values),
      [[0.5, -0.5, 0.25]],
    );
    const several = await client.models.embedContent({
      model: 'gemini-embed',
      contents: ['first', 'second', 'third'],
    });
    assert.deepEqual(
      several.embeddings?.map((embedding) => embedding.values),
      [
        [1, 0],
        [0, 1],
        [0.5, 0.5],
      ],
    );
    assert.equal(several.usageMetadata?.promptTokenCount, 1000);
    // The backend's own model name stays at the gateway.
    assert.ok(!JSON.stringify(several).includes('upstream-name'), JSON.stringify(several));

    assert.equal(openai.calls.length, 2);
    const [first, second] = openai.calls;
    assert.match(first.path, /\/embeddings$/);
    assert.equal(first.body.model, 'text-embedding-3-small');
    assert.deepEqual(first.body.input, ['Embed me']);
    assert.equal(first.body.dimensions, 3);
    // taskType is Gemini's: an OpenAI backend is not sent it (OpenAI refuses unknown fields).
    assert.equal(first.body.provider_extras, undefined);
    assert.equal(first.body.task_type, undefined);
    assert.deepEqual(second.body.input, ['first', 'second', 'third']);
    assert.equal(first.headers.authorization, 'Bearer sk-openai-embed');
    assert.ok(!leaksClientKey({ ...first, path: first.path }), "the client's key stays");

    const after = await scrape();
    const grew = (name: string, labels: Record<string, string>) =>
      metricSum(after, name, labels) - metricSum(before, name, labels);
    const caller = { user: 'embedder', model: 'gemini-embed' };
    assert.equal(grew('ai_gateway_tokens_total', { ...caller, type: 'input' }), 2000);
    assert.ok(grew('ai_gateway_cost_dollars', caller) > 0, 'the embeddings are priced');
    assert.equal(
      grew('ai_gateway_requests_total', { route: 'gemini.batchEmbedContents' }),
      2,
      'the SDK sends every embedContent as batchEmbedContents',
    );
  });

  it("serves embedContent on the wire, and refuses what it cannot embed in Google's shape", async () => {
    openai.reset();
    openai.next(listOf([0.1, 0.9]));
    const single = await postRaw(gateway, '/v1beta/models/gemini-embed:embedContent', {
      model: 'models/gemini-embed',
      content: { parts: [{ text: 'Wire' }] },
    });
    assert.equal(single.status, 200);
    assert.deepEqual(single.body.embedding, { values: [0.1, 0.9] });
    // A backend that sends base64 (little-endian float32s) unasked: Gemini's clients get numbers.
    const base64 = Buffer.from(new Float32Array([0.5, -1]).buffer).toString('base64');
    openai.next({ kind: 'status', status: 200, body: { data: [{ index: 0, embedding: base64 }] } });
    const decoded = await postRaw(gateway, '/v1beta/models/gemini-embed:embedContent', {
      content: { parts: [{ text: 'Base64' }] },
    });
    assert.equal(decoded.status, 200, JSON.stringify(decoded.body));
    assert.deepEqual(decoded.body.embedding, { values: [0.5, -1] });

    const image = await postRaw(gateway, '/v1beta/models/gemini-embed:embedContent', {
      content: { parts: [{ inlineData: { mimeType: 'image/png', data: 'AAAA' } }] },
    });
    assert.equal(image.status, 400);
    const error = image.body.error as Record<string, unknown>;
    assert.equal(error.status, 'INVALID_ARGUMENT');
    assert.match(String(error.message), /only text parts.*inlineData/);

    const otherModel = await postRaw(gateway, '/v1beta/models/gemini-embed:batchEmbedContents', {
      requests: [{ model: 'models/another', content: { parts: [{ text: 'x' }] } }],
    });
    assert.equal(otherModel.status, 400);
    assert.match(String((otherModel.body.error as Record<string, unknown>).message), /another/);
    // What Google refuses is refused here too, not spent on a backend call.
    const empty = await postRaw(gateway, '/v1beta/models/gemini-embed:embedContent', {
      content: { parts: [{ text: '' }] },
    });
    assert.equal(empty.status, 400);
    assert.match(String((empty.body.error as Record<string, unknown>).message), /empty/);
    const item = { model: 'models/gemini-embed', content: { parts: [{ text: 'x' }] } };
    const tooMany = await postRaw(gateway, '/v1beta/models/gemini-embed:batchEmbedContents', {
      requests: Array(101).fill(item),
    });
    assert.equal(tooMany.status, 400);
    assert.match(String((tooMany.body.error as Record<string, unknown>).message), /at most 100/);
    assert.equal(openai.calls.length, 2, 'refused requests reach no backend');
  });

  it('asks for no base64, reads base64 sent unasked as float32s, and refuses another width', async () => {
    const base64Of = (bytes: Buffer) => ({
      kind: 'status' as const,
      status: 200,
      body: { data: [{ index: 0, embedding: bytes.toString('base64') }] },
    });
    const float32s = Buffer.alloc(12);
    [0.25, -2, 8].forEach((value, i) => float32s.writeFloatLE(value, i * 4));
    // The same vector as float16s (vLLM's embed_dtype): 8 bytes for 4 dimensions.
    const float16s = Buffer.from([0x00, 0x34, 0x00, 0xc0, 0x00, 0x48, 0x00, 0x3c]);
    openai.reset();
    openai.next(base64Of(float32s), base64Of(float16s));
    const embed = (outputDimensionality: number) =>
      postRaw(gateway, '/v1beta/models/gemini-embed:embedContent', {
        content: { parts: [{ text: 'Base64' }] },
        outputDimensionality,
      });

    const read = await embed(3);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.deepEqual(read.body.embedding, { values: [0.25, -2, 8] });
    const narrow = await embed(4);
    assert.equal(narrow.status, 502);
    const error = narrow.body.error as Record<string, unknown>;
    assert.equal(error.status, 'INTERNAL');
    assert.match(String(error.message), /8 bytes: 2 float32s.*outputDimensionality make 4/);
    // Numbers are what the backend is asked for: its default, no encoding_format sent.
    assert.equal(openai.calls.length, 2);
    for (const call of openai.calls) assert.equal(call.body.encoding_format, undefined);
  });
});

describe("Gemini API on a Gemini backend: Google's own settings reach it as they came", () => {
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await gemini.start();
    const config = join(dir, 'gemini-backend.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: gemini-native}
spec:
  backends:
  - name: gemini
    provider: google-gemini
    baseUrl: ${gemini.baseUrl}
    model: gemini-2.5-flash
    modelNameOverride: gemini-native
    auth: {apiKeyRef: {name: gemini-key}}
  - name: gemini-embed
    provider: google-gemini
    baseUrl: ${gemini.baseUrl}
    model: gemini-embedding-001
    modelNameOverride: gemini-native-embed
    auth: {apiKeyRef: {name: gemini-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaBackendKey',
      AI_GATEWAY_DATA_DIR: join(dir, 'gemini-backend'),
    });
    client = clientFor(gateway);
  });
  after(async () => {
    await gateway.stop();
    await gemini.stop();
  });

  it('sends topK and safetySettings, plain and streamed', async () => {
    gemini.reset();
    const safetySettings = [
      {
        category: HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT,
        threshold: HarmBlockThreshold.BLOCK_ONLY_HIGH,
      },
    ];
    const config = { topK: 32, topP: 0.9, safetySettings };
    const plain = await client.models.generateContent({
      model: 'gemini-native',
      contents: 'Hi',
      config,
    });
    assert.equal(plain.text, 'Hello from Gemini.');
    const stream = await client.models.generateContentStream({
      model: 'gemini-native',
      contents: 'Hi',
      config,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    assert.equal(text, 'Hello from Gemini.');
    assert.equal(gemini.calls.length, 2);
    for (const call of gemini.calls) {
      assert.deepEqual(call.body.generationConfig, { topP: 0.9, topK: 32 });
      assert.deepEqual(call.body.safetySettings, safetySettings);
      assert.equal(call.headers['x-goog-api-key'], 'AIzaBackendKey');
    }
  });

  it("reports a stream's thinking tokens in its usageMetadata as a JSON answer does", async () => {
    gemini.reset();
    // The fake's 30 prompt (10 cached), 5 candidate and 2 thought tokens.
    const usage = {
      promptTokenCount: 30,
      candidatesTokenCount: 5,
      totalTokenCount: 37,
      cachedContentTokenCount: 10,
      thoughtsTokenCount: 2,
    };
    const plain = await client.models.generateContent({ model: 'gemini-native', contents: 'Hi' });
    assert.deepEqual(plain.usageMetadata, usage);
    const stream = await client.models.generateContentStream({
      model: 'gemini-native',
      contents: 'Hi',
    });
    let last: GenerateContentResponse | undefined;
    for await (const chunk of stream) last = chunk;
    assert.deepEqual(last?.usageMetadata, usage);
  });

  it('asks for candidateCount candidates and answers each under its index, in order', async () => {
    gemini.reset();
    // The fake lists candidate 1 first and candidate 0 without an index, as protobuf's
    // JSON leaves a zero out: each comes back under its own index, in index order.
    const response = await client.models.generateContent({
      model: 'gemini-native',
      contents: 'Two answers',
      config: { candidateCount: 2 },
    });
    assert.deepEqual(
      response.candidates?.map((c) => [c.index, c.content?.parts?.[0]?.text, c.finishReason]),
      [
        [0, 'Candidate 0 from Gemini.', 'STOP'],
        [1, 'Candidate 1 from Gemini.', 'MAX_TOKENS'],
      ],
    );
    assert.equal(
      (gemini.calls[0]?.body.generationConfig as Record<string, unknown>).candidateCount,
      2,
    );
  });

  it('streams candidateCount candidates, each under its index with its own finishReason', async () => {
    gemini.reset();
    const stream = await client.models.generateContentStream({
      model: 'gemini-native',
      contents: 'Two answers',
      config: { candidateCount: 2 },
    });
    const { texts, finishes, usages } = await twoCandidates(stream);
    assert.deepEqual(texts, ['Candidate 0 from Gemini.', 'Candidate 1 from Gemini.']);
    assert.deepEqual(finishes, [['STOP'], ['MAX_TOKENS']]);
    assert.equal(usages.length, 1, 'the usage once, at the end');
    assert.equal(gemini.calls.length, 1);
    assert.match(gemini.calls[0].path, /:streamGenerateContent$/);
    assert.equal(
      (gemini.calls[0].body.generationConfig as Record<string, unknown>).candidateCount,
      2,
    );
  });

  it("sends an embedding's taskType and each document's title on its request", async () => {
    gemini.reset();
    const batch = await postRaw(gateway, '/v1beta/models/gemini-native-embed:batchEmbedContents', {
      requests: [
        {
          model: 'models/gemini-native-embed',
          content: { parts: [{ text: 'Doc one' }] },
          taskType: 'RETRIEVAL_DOCUMENT',
          title: 'One',
        },
        {
          model: 'models/gemini-native-embed',
          content: { parts: [{ text: 'Doc two' }] },
          taskType: 'RETRIEVAL_DOCUMENT',
        },
      ],
    });
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    assert.equal((batch.body.embeddings as unknown[]).length, 2);
    const one = await client.models.embedContent({
      model: 'gemini-native-embed',
      contents: 'A query',
      config: { taskType: 'RETRIEVAL_QUERY' },
    });
    assert.equal(one.embeddings?.length, 1);
    const [batched, single] = gemini.calls.map(
      (call) => call.body.requests as Record<string, unknown>[],
    );
    const model = 'models/gemini-embedding-001';
    assert.deepEqual(batched, [
      {
        model,
        content: { parts: [{ text: 'Doc one' }] },
        taskType: 'RETRIEVAL_DOCUMENT',
        title: 'One',
      },
      { model, content: { parts: [{ text: 'Doc two' }] }, taskType: 'RETRIEVAL_DOCUMENT' },
    ]);
    assert.deepEqual(single, [
      { model, content: { parts: [{ text: 'A query' }] }, taskType: 'RETRIEVAL_QUERY' },
    ]);
  });
});

describe('Gemini API streaming candidateCount from an OpenAI-compatible backend (n choices)', () => {
  const raw = new RawSseUpstream();
  let gateway: AppProcess;

  before(async () => {
    await raw.start();
    const config = join(dir, 'raw-choices.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: gemini-choices}
spec:
  backends:
  - name: choices
    provider: vllm
    baseUrl: ${raw.baseUrl}/v1
    model: upstream-choices
    modelNameOverride: gemini-choices
    auth: {apiKeyRef: {name: choices-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_CHOICES_KEY_APIKEY: 'sk-choices',
      AI_GATEWAY_DATA_DIR: join(dir, 'raw-choices'),
    });
  });
  after(async () => {
    await gateway.stop();
    await raw.stop();
  });

  it("answers the backend's interleaved choices as the candidates of their index", async () => {
    const chunk = (index: number, delta: object, finish: string | null = null) => ({
      id: 'chatcmpl-n',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'upstream-choices',
      choices: [{ index, delta, finish_reason: finish }],
    });
    raw.next([
      chunk(0, { role: 'assistant', content: '' }),
      chunk(1, { role: 'assistant', content: '' }),
      chunk(0, { content: 'Red' }),
      chunk(1, { content: 'Blue' }),
      chunk(1, {}, 'length'),
      chunk(0, { content: '.' }, 'stop'),
      {
        id: 'chatcmpl-n',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'upstream-choices',
        choices: [],
        usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
      },
      '[DONE]',
    ]);
    const stream = await clientFor(gateway).models.generateContentStream({
      model: 'gemini-choices',
      contents: 'Name a colour',
      config: { candidateCount: 2 },
    });
    const { texts, finishes, last } = await twoCandidates(stream);
    assert.deepEqual(texts, ['Red.', 'Blue']);
    assert.deepEqual(finishes, [['STOP'], ['MAX_TOKENS']]);
    assert.equal(last?.usageMetadata?.promptTokenCount, 4);
    assert.equal(last?.usageMetadata?.candidatesTokenCount, 3);
  });
});

describe('Gemini API on the split deployment (ingress, router, provider-adapter)', () => {
  const claude = new FakeAnthropicUpstream();
  let deployment: Deployment;
  let client: GoogleGenAI;

  before(async () => {
    await claude.start();
    deployment = await startSplitOnAnthropicBackend(claude, 'gemini-split');
    client = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: deployment.baseUrl } });
  });
  after(async () => {
    await deployment.stop();
    await claude.stop();
  });

  it('answers and streams across the hops, the client key kept at the ingress', async () => {
    claude.reset();
    const answer = await client.models.generateContent({ model: 'gemini-split', contents: 'Hi' });
    assert.equal(answer.text, 'Hello from Claude.');
    assert.equal(answer.modelVersion, 'gemini-split');
    const stream = await client.models.generateContentStream({
      model: 'gemini-split',
      contents: 'Stream',
    });
    let text = '';
    let last;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      last = chunk;
    }
    assert.equal(text, 'Hello from Claude.');
    assert.equal(last?.usageMetadata?.totalTokenCount, 134);
    assert.equal(claude.calls.length, 2);
    for (const call of claude.calls) {
      assert.equal(call.headers['x-api-key'], 'sk-ant-test');
      assert.ok(!leaksClientKey(call), "the client's key stays at the ingress");
    }
  });
});
