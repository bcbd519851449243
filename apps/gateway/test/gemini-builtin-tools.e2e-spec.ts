import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, GoogleGenAI, type Part } from '@google/genai';
import { Topic } from '@aigw/contracts';
import {
  FAKE_CODE_RESULT,
  FAKE_EXECUTABLE_CODE,
  FAKE_GROUNDING_METADATA,
  FAKE_TOOL_TEXT_AFTER,
  FAKE_TOOL_TEXT_BEFORE,
  FAKE_URL_CONTEXT_METADATA,
  FakeGeminiUpstream,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { embeddedEventLog } from './budget-scenarios';

// Gemini's built-in tools (googleSearch, codeExecution, urlContext) through the Gemini
// edge with Google's own SDK: a Gemini backend runs them and its answer's code parts,
// grounding and URL metadata come back as Gemini sent them, JSON and streamed; the tools'
// prompt tokens are billed as input; failover skips the backends that cannot run them, and
// a model with none is Google's 400 naming the tool.

const TOOLS = [{ googleSearch: {} }, { codeExecution: {} }, { urlContext: {} }];
/** The answer's parts as the fake Gemini API sent them. */
const PARTS: Part[] = [
  { text: FAKE_TOOL_TEXT_BEFORE },
  FAKE_EXECUTABLE_CODE as Part,
  FAKE_CODE_RESULT as Part,
  { text: FAKE_TOOL_TEXT_AFTER },
];
/** Its usage: 30 prompt tokens, 25 of the tools', 12 of the answer. */
const USAGE = {
  promptTokenCount: 30,
  toolUsePromptTokenCount: 25,
  candidatesTokenCount: 12,
  totalTokenCount: 67,
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Gemini's built-in tools through the Gemini API", () => {
  const gemini = new FakeGeminiUpstream();
  const openai = new FakeOpenAiUpstream();
  let gateway: AppProcess;
  let dataDir: string;
  const clientFor = (user: string) =>
    new GoogleGenAI({
      apiKey: 'goog-client-key',
      httpOptions: { baseUrl: gateway.baseUrl, headers: { 'x-user-id': user } },
    });

  before(async () => {
    await Promise.all([gemini.start(), openai.start()]);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-tools-'));
    dataDir = join(dir, 'data');
    writeFileSync(
      join(dir, 'config.yaml'),
      // "searcher" tries OpenAI first: a request with built-in tools must skip it.
      `kind: AIGatewayRoute
metadata: {name: gemini-tools}
spec:
  backends:
  - name: openai
    priority: 0
    provider: openai
    baseUrl: "${openai.baseUrl}"
    model: gpt-4o-mini
    modelNameOverride: searcher
    auth: {apiKeyRef: {name: openai-key}}
  - name: gemini
    priority: 1
    provider: google-gemini
    baseUrl: "${gemini.baseUrl}"
    model: gemini-2.5-flash
    modelNameOverride: searcher
    auth: {apiKeyRef: {name: gemini-key}}
  - name: gemini-direct
    provider: google-gemini
    baseUrl: "${gemini.baseUrl}"
    model: gemini-2.5-flash
    modelNameOverride: gemini-direct
    auth: {apiKeyRef: {name: gemini-key}}
  - name: openai-only
    provider: openai
    baseUrl: "${openai.baseUrl}"
    model: gpt-4o
    modelNameOverride: gpt-only
    auth: {apiKeyRef: {name: openai-key}}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 80, period: 30d}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: dataDir,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai',
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaTestKey',
    });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([gemini.stop(), openai.stop()]);
  });
  beforeEach(() => {
    gemini.reset();
    openai.reset();
  });

  it('passes the tools to the Gemini backend and returns the code parts, metadata and usage unchanged', async () => {
    const response = await clientFor('json-user').models.generateContent({
      model: 'gemini-direct',
      contents: 'Sum the first 3 primes',
      config: { tools: TOOLS, maxOutputTokens: 5 },
    });
    const [candidate] = response.candidates ?? [];
    assert.deepEqual(candidate.content?.parts, PARTS);
    assert.deepEqual(candidate.groundingMetadata, FAKE_GROUNDING_METADATA);
    assert.deepEqual(candidate.urlContextMetadata, FAKE_URL_CONTEXT_METADATA);
    assert.equal(candidate.finishReason, 'STOP');
    assert.deepEqual(response.usageMetadata, USAGE);
    assert.equal(response.executableCode, FAKE_EXECUTABLE_CODE.executableCode.code);
    assert.equal(gemini.calls.length, 1);
    assert.deepEqual(gemini.calls[0].body.tools, TOOLS);
  });

  it('streams them as they came: the code and its result between the texts, the metadata and the usage at the end', async () => {
    const stream = await clientFor('stream-user').models.generateContentStream({
      model: 'gemini-direct',
      contents: 'Sum the first 3 primes',
      config: { tools: TOOLS, maxOutputTokens: 5 },
    });
    const parts: Part[] = [];
    const grounding: unknown[] = [];
    let last: Awaited<ReturnType<typeof stream.next>>['value'];
    for await (const event of stream) {
      last = event;
      const [candidate] = event.candidates ?? [];
      parts.push(...(candidate?.content?.parts ?? []));
      if (candidate?.groundingMetadata) grounding.push(candidate.groundingMetadata);
    }
    assert.deepEqual(parts, PARTS);
    assert.deepEqual(grounding, [FAKE_GROUNDING_METADATA]);
    assert.deepEqual(last?.usageMetadata, USAGE);
    assert.equal(last?.candidates?.[0].finishReason, 'STOP');
    assert.equal(gemini.calls[0].query.alt, 'sse');
    assert.deepEqual(gemini.calls[0].body.tools, TOOLS);
  });

  it("charges the tools' prompt tokens as input to the caller's budget", async () => {
    const user = 'budget-user';
    const client = clientFor(user);
    const ask = () =>
      client.models.generateContent({
        model: 'gemini-direct',
        contents: 'Sum the first 3 primes',
        config: { tools: [{ codeExecution: {} }], maxOutputTokens: 5 },
      });
    await ask();
    const deadline = Date.now() + 15_000;
    let recorded: readonly Readonly<Record<string, unknown>>[] = [];
    while (recorded.length === 0 && Date.now() < deadline) {
      await pause(100);
      const events = await embeddedEventLog(dataDir, Topic.UsageRecorded);
      recorded = events.filter((event) => event.userId === user);
    }
    assert.equal(recorded.length, 1);
    // 30 + 25: the tools' tokens are input, as Google bills them.
    assert.equal(recorded[0].inputTokens, 55);
    assert.equal(recorded[0].outputTokens, 12);
    await pause(300);
    // 67 of an 80-token budget spent: the next call, which holds its prompt estimate and
    // 5 tokens, is refused; had only 30 + 12 been charged, it would fit.
    const refused = await ask().then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof ApiError && refused.status === 429, String(refused));
  });

  it('skips the backends of a chain that cannot run them: the OpenAI one is never called', async () => {
    for (const stream of [false, true]) {
      gemini.reset();
      openai.reset();
      const client = clientFor(`failover-user-${stream}`);
      const ask = {
        model: 'searcher',
        contents: 'Search',
        config: { tools: TOOLS, maxOutputTokens: 5 },
      };
      let text = '';
      if (stream) {
        for await (const event of await client.models.generateContentStream(ask))
          text += event.text ?? '';
      } else text = (await client.models.generateContent(ask)).text ?? '';
      assert.equal(text, FAKE_TOOL_TEXT_BEFORE + FAKE_TOOL_TEXT_AFTER);
      assert.equal(openai.calls.length, 0, 'the first backend, OpenAI, cannot run them');
      assert.equal(gemini.calls.length, 1);
    }
  });

  it("refuses with Google's 400 naming the tool when no backend of the model runs it, calling none", async () => {
    const response = await fetch(`${gateway.baseUrl}/v1beta/models/gpt-only:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'refused-user' },
      body: JSON.stringify({
        contents: [{ parts: [{ text: 'Search the web' }] }],
        tools: [{ google_search: {} }],
        generationConfig: { maxOutputTokens: 5 },
      }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    assert.equal(body.error.code, 400);
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
    assert.match(
      String(body.error.message),
      /the googleSearch tool is run by Gemini and Vertex Gemini backends only/,
    );
    assert.equal(openai.calls.length, 0);
    assert.equal(gemini.calls.length, 0);
  });
});
