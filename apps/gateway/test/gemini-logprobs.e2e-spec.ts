import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { FakeAnthropicUpstream, FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { ScriptedChatUpstream, type ChatAnswer } from './scripted-chat-upstream';

// Google's SDK asking for log probabilities (responseLogprobs, logprobs) through the
// gateway: an OpenAI-compatible backend returns them, and they come back as Gemini's
// logprobsResult; a backend that cannot return them refuses the ask in Google's shape
// rather than answer without them, as the gateway does for OpenAI clients.

const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-logprobs-'));

/** "Yes" then "!", each with its top alternatives, as OpenAI reports them. */
const TOKENS = [
  {
    token: 'Yes',
    logprob: -0.25,
    bytes: [89, 101, 115],
    top_logprobs: [
      { token: 'Yes', logprob: -0.25, bytes: [89, 101, 115] },
      { token: 'No', logprob: -1.5, bytes: [78, 111] },
    ],
  },
  {
    token: '!',
    logprob: -0.75,
    bytes: [33],
    top_logprobs: [
      { token: '!', logprob: -0.75, bytes: [33] },
      { token: '.', logprob: -2, bytes: [46] },
    ],
  },
];
const USAGE = { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 };

/** Answers "Yes!" with its log probabilities, as an OpenAI-compatible server does. */
const withLogprobs: ChatAnswer = (body, response) => {
  if (body.stream !== true) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        id: 'chatcmpl-lp',
        object: 'chat.completion',
        model: 'upstream',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Yes!' },
            logprobs: { content: TOKENS, refusal: null },
            finish_reason: 'stop',
          },
        ],
        usage: USAGE,
      }),
    );
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  const event = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
  const base = { id: 'chatcmpl-lp', object: 'chat.completion.chunk', model: 'upstream' };
  TOKENS.forEach((entry, at) =>
    event({
      ...base,
      choices: [
        {
          index: 0,
          delta: at === 0 ? { role: 'assistant', content: entry.token } : { content: entry.token },
          logprobs: { content: [entry], refusal: null },
          finish_reason: at === TOKENS.length - 1 ? 'stop' : null,
        },
      ],
    }),
  );
  event({ ...base, choices: [], usage: USAGE });
  response.end('data: [DONE]\n\n');
};

const CHOSEN = [
  { token: 'Yes', logProbability: -0.25 },
  { token: '!', logProbability: -0.75 },
];
const TOP = [
  {
    candidates: [
      { token: 'Yes', logProbability: -0.25 },
      { token: 'No', logProbability: -1.5 },
    ],
  },
  {
    candidates: [
      { token: '!', logProbability: -0.75 },
      { token: '.', logProbability: -2 },
    ],
  },
];

describe('Gemini API log probabilities', () => {
  const openai = new ScriptedChatUpstream(withLogprobs);
  const claude = new FakeAnthropicUpstream();
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;
  const config = { responseLogprobs: true, logprobs: 2 };

  before(async () => {
    await Promise.all([openai.start(), claude.start(), gemini.start()]);
    const file = join(dir, 'routes.yaml');
    writeFileSync(
      file,
      `kind: AIGatewayRoute
metadata: {name: gemini-logprobs}
spec:
  backends:
  - name: openai-compatible
    provider: vllm
    baseUrl: ${openai.baseUrl}
    model: upstream
    modelNameOverride: scored
  - name: claude
    provider: anthropic
    baseUrl: ${claude.baseUrl}
    model: claude-sonnet-4-5
    modelNameOverride: claude
    auth: {apiKeyRef: {name: anthropic-key}}
  - name: gemini
    provider: google-gemini
    baseUrl: ${gemini.baseUrl}
    model: gemini-2.5-flash
    modelNameOverride: gemini-flash
    auth: {apiKeyRef: {name: gemini-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: file,
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-backend',
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaBackendKey',
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    client = new GoogleGenAI({ apiKey: 'client-key', httpOptions: { baseUrl: gateway.baseUrl } });
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([openai.stop(), claude.stop(), gemini.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers the backend's log probabilities as logprobsResult, plain and streamed", async () => {
    const plain = await client.models.generateContent({ model: 'scored', contents: 'Hi', config });
    assert.equal(plain.text, 'Yes!');
    const [candidate] = plain.candidates ?? [];
    assert.deepEqual(candidate.logprobsResult, { topCandidates: TOP, chosenCandidates: CHOSEN });
    assert.equal(candidate.avgLogprobs, -0.5);

    const chosen: unknown[] = [];
    const top: unknown[] = [];
    let last: GenerateContentResponse | undefined;
    const stream = await client.models.generateContentStream({
      model: 'scored',
      contents: 'Hi',
      config,
    });
    for await (const chunk of stream) {
      last = chunk;
      const result = chunk.candidates?.[0].logprobsResult;
      chosen.push(...(result?.chosenCandidates ?? []));
      top.push(...(result?.topCandidates ?? []));
    }
    assert.deepEqual(chosen, CHOSEN);
    assert.deepEqual(top, TOP);
    assert.equal(last?.candidates?.[0].avgLogprobs, -0.5);
    for (const body of openai.bodies) {
      assert.equal(body.logprobs, true);
      assert.equal(body.top_logprobs, 2);
    }
  });

  it("refuses them on a backend that cannot return them, in Google's shape", async () => {
    const before = claude.calls.length;
    await assert.rejects(
      client.models.generateContent({ model: 'claude', contents: 'Hi', config }),
      (error: unknown) =>
        error instanceof ApiError &&
        error.status === 400 &&
        /"status":"INVALID_ARGUMENT"/.test(error.message) &&
        /logprobs/.test(error.message),
    );
    assert.equal(claude.calls.length, before);
  });

  it('asks a Gemini backend for them and answers what it returned', async () => {
    gemini.reset();
    const result = { topCandidates: TOP, chosenCandidates: CHOSEN };
    gemini.next({
      kind: 'json',
      body: {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Yes!' }] },
            finishReason: 'STOP',
            logprobsResult: result,
            avgLogprobs: -0.5,
          },
        ],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
      },
    });
    const answer = await client.models.generateContent({
      model: 'gemini-flash',
      contents: 'Hi',
      config,
    });
    assert.deepEqual(gemini.calls[0].body.generationConfig, {
      responseLogprobs: true,
      logprobs: 2,
    });
    const [candidate] = answer.candidates ?? [];
    assert.deepEqual(candidate.logprobsResult, result);
    assert.equal(candidate.avgLogprobs, -0.5);
  });
});
