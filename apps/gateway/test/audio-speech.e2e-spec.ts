// Text to speech through the all-in-one gateway with the official openai client: the
// backend's audio arrives byte for byte with its content type, under the served model's
// name, billed per character (tts-1) or by tokens (gpt-4o-mini-tts) in the stored usage
// rows; a dollar budget refuses once spent, a failing backend fails over before the first
// byte, a stream cut after it is a failed download, and bad bodies are 400s. With
// stream_format "sse" the backend's events arrive as server-sent events, billed at the
// usage of their done event; tts-1's refusal of them is passed on, and a model only Azure
// OpenAI serves (its speech API has no events) is a 400 before any call.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import { metricSum, until } from '@aigw/testing';
import {
  FAKE_SPEECH_USAGE,
  FakeAnthropicUpstream,
  FakeOpenAiUpstream,
  fakeSpeechAudio,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const PER_1K_CHARACTERS = 0.015;
const MINI = { inputPer1k: 0.0006, outputPer1k: 0.012 };
/** 20 characters: $0.0003 at tts-1's price. */
const TEXT = 'Speak these twenty!!';

describe('all-in-one gateway: /v1/audio/speech', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  const anthropic = new FakeAnthropicUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-speech-'));
  let gateway: AppProcess;
  let client: OpenAI;
  let user: string;

  before(async () => {
    await Promise.all([primary.start(), secondary.start(), anthropic.start()]);
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: speech}
spec:
  backends:
  - {name: claude-first, priority: 0, provider: anthropic, baseUrl: "${anthropic.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-haiku-4-5, modelNameOverride: voice}
  - {name: primary, priority: 1, provider: openai, baseUrl: "${primary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: tts-1, modelNameOverride: voice}
  - {name: secondary, priority: 2, provider: vllm, baseUrl: "${secondary.baseUrl}", model: kokoro, modelNameOverride: voice}
  - {name: mini, provider: vllm, baseUrl: "${primary.baseUrl}", model: gpt-4o-mini-tts}
  - {name: narrator, provider: openai, baseUrl: "${primary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: gpt-4o-mini-tts, modelNameOverride: narrator}
  - {name: azure-voice, provider: azure, baseUrl: "${primary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: azure-tts}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
  costControl:
    maxDailyCostPerUser: 0.001
    modelPricing:
      tts-1: {inputPer1k: 0, outputPer1k: 0, per1kCharacters: ${PER_1K_CHARACTERS}}
      kokoro: {inputPer1k: 0, outputPer1k: 0, per1kCharacters: ${PER_1K_CHARACTERS}}
      gpt-4o-mini-tts: {inputPer1k: ${MINI.inputPer1k}, outputPer1k: ${MINI.outputPer1k}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai-test',
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([primary.stop(), secondary.stop(), anthropic.stop()]);
  });

  beforeEach(() => {
    primary.reset();
    secondary.reset();
    anthropic.reset();
    // A caller of its own per test: the route's $0.001 a day would not cover them all.
    user = `speaker-${randomUUID()}`;
    client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user },
    });
  });

  it('relays the audio byte for byte under the served name', async () => {
    const response = await client.audio.speech.create({
      model: 'voice',
      voice: 'alloy',
      input: TEXT,
      speed: 1.25,
    });
    assert.equal(response.headers.get('content-type'), 'audio/mpeg');
    const audio = Buffer.from(await response.arrayBuffer());
    assert.deepEqual(audio, Buffer.concat(fakeSpeechAudio(TEXT)));
    assert.equal(anthropic.calls.length, 0, 'a backend without audio is no candidate');
    const [call] = primary.calls;
    assert.equal(call.path, '/v1/audio/speech');
    assert.equal(call.headers.authorization, 'Bearer sk-openai-test');
    assert.deepEqual(call.body, { model: 'tts-1', voice: 'alloy', input: TEXT, speed: 1.25 });
  });

  it('answers the format asked for with its content type', async () => {
    const response = await client.audio.speech.create({
      model: 'voice',
      voice: 'alloy',
      input: TEXT,
      response_format: 'wav',
    });
    assert.equal(response.headers.get('content-type'), 'audio/wav');
    assert.equal((await response.arrayBuffer()).byteLength, 120_000);
  });

  it('fails over before the first byte, and cuts the download when a stream breaks after it', async () => {
    primary.next({ kind: 'status', status: 503 });
    const failedOver = await client.audio.speech.create({
      model: 'voice',
      voice: 'x',
      input: TEXT,
    });
    assert.deepEqual(
      Buffer.from(await failedOver.arrayBuffer()),
      Buffer.concat(fakeSpeechAudio(TEXT)),
    );
    assert.equal(secondary.calls[0].body.model, 'kokoro');

    primary.next({ kind: 'break-stream', afterChunks: 1 });
    const broken = await client.audio.speech.create({ model: 'voice', voice: 'x', input: TEXT });
    await assert.rejects(broken.arrayBuffer());
  });

  it('streams stream_format "sse" as the backend’s events, billed at the done event’s usage', async () => {
    const response = await client.audio.speech.create({
      model: 'narrator',
      voice: 'coral',
      input: TEXT,
      stream_format: 'sse',
    });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const text = await response.text();
    assert.ok(!text.includes('[DONE]'), 'the done event ends the stream, as OpenAI’s does');
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => JSON.parse(block.slice('data: '.length)) as Record<string, unknown>);
    const done = events.pop();
    // Relayed as they came, named by the model asked for, as every relayed stream event is.
    assert.deepEqual(done, {
      type: 'speech.audio.done',
      usage: FAKE_SPEECH_USAGE,
      model: 'narrator',
    });
    assert.ok(events.every((event) => event.type === 'speech.audio.delta'));
    assert.deepEqual(
      Buffer.concat(events.map((event) => Buffer.from(event.audio as string, 'base64'))),
      Buffer.concat(fakeSpeechAudio(TEXT)),
    );
    const [call] = primary.calls;
    assert.equal(call.headers.authorization, 'Bearer sk-openai-test');
    assert.deepEqual(call.body, {
      model: 'gpt-4o-mini-tts',
      voice: 'coral',
      input: TEXT,
      stream_format: 'sse',
    });

    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const rows = () =>
        db
          .prepare(
            `SELECT input_tokens AS input, output_tokens AS output, cost_dollars AS cost
             FROM usage_events WHERE user_id = ?`,
          )
          .all(user) as { input: number; output: number; cost: number }[];
      await until('the usage row is stored', () => rows().length >= 1);
      const [row] = rows();
      assert.equal(row.input, FAKE_SPEECH_USAGE.input_tokens);
      assert.equal(row.output, FAKE_SPEECH_USAGE.output_tokens);
      const dollars = (row.input / 1000) * MINI.inputPer1k + (row.output / 1000) * MINI.outputPer1k;
      assert.ok(Math.abs(row.cost - dollars) < 1e-12, String(row.cost));
    } finally {
      db.close();
    }
  });

  it('passes on tts-1’s refusal of stream_format "sse", and refuses it where only Azure serves the model', async () => {
    await assert.rejects(
      client.audio.speech.create({ model: 'voice', voice: 'a', input: TEXT, stream_format: 'sse' }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.param === 'stream_format' &&
        // The backend's words, its model named as the client named it (tts-1 is 'voice').
        /not supported for voice/.test(error.message) &&
        !error.message.includes('tts-1'),
    );
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls.length, 0, 'a refused request is not sent elsewhere');

    await assert.rejects(
      client.audio.speech.create({
        model: 'azure-tts',
        voice: 'a',
        input: TEXT,
        stream_format: 'sse',
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.param === 'stream_format' &&
        /server-sent events/.test(error.message),
    );
    assert.equal(primary.calls.length, 1, 'no call for the Azure-only model');
  });

  it('refuses bad bodies with OpenAI-style 400s', async () => {
    const post = (body: unknown) =>
      fetch(`${gateway.baseUrl}/v1/audio/speech`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const [body, param] of [
      [{ model: 'voice', voice: 'alloy' }, 'input'],
      [{ model: 'voice', voice: 'alloy', input: 'x'.repeat(4097) }, 'input'],
      [{ model: 'voice', input: 'hi' }, 'voice'],
      [{ model: 'voice', voice: 'alloy', input: 'hi', response_format: 'ogg' }, 'response_format'],
      [{ model: 'voice', voice: 'alloy', input: 'hi', speed: 9 }, 'speed'],
      [{ model: 'voice', voice: 'alloy', input: 'hi', stream_format: 'json' }, 'stream_format'],
    ] as const) {
      const response = await post(body);
      assert.equal(response.status, 400, param);
      const error = ((await response.json()) as { error: { param: string; type: string } }).error;
      assert.equal(error.param, param);
      assert.equal(error.type, 'invalid_request_error');
    }
    assert.equal(primary.calls.length + secondary.calls.length + anthropic.calls.length, 0);
  });

  it('refuses a caller whose dollar budget the characters spent', async () => {
    // $0.0003 a call against a $0.001 day: the fourth cannot fit.
    let refusedAt = -1;
    for (let i = 0; i < 8 && refusedAt < 0; i++) {
      try {
        const response = await client.audio.speech.create({
          model: 'voice',
          voice: 'a',
          input: TEXT,
        });
        await response.arrayBuffer();
      } catch (error) {
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        assert.match(error.message, /maxDailyCostPerUser/);
        refusedAt = i;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(refusedAt, 3);
  });

  it('bills characters and tokens in the stored usage, counted under route="audio.speech"', async () => {
    const mini = await client.audio.speech.create({
      model: 'gpt-4o-mini-tts',
      voice: 'coral',
      input: TEXT,
      instructions: 'Cheerful.',
    });
    await mini.arrayBuffer();
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.ok(
      metricSum(text, 'ai_gateway_requests_total', { route: 'audio.speech', status: '200' }) >= 7,
    );
    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const rows = () =>
        db
          .prepare(
            `SELECT model_served AS model, input_tokens AS input, output_tokens AS output,
               cost_dollars AS cost FROM usage_events WHERE user_id = ?`,
          )
          .all(user) as { model: string; input: number; output: number; cost: number }[];
      await until('the usage row is stored', () => rows().length >= 1);
      const [row] = rows();
      assert.equal(row.model, 'gpt-4o-mini-tts');
      // The text's tokens in, 1.4 audio tokens a character out (estimated: OpenAI reports none).
      assert.equal(row.output, Math.ceil(20 * 1.4));
      assert.ok(row.input > 0);
      const dollars = (row.input / 1000) * MINI.inputPer1k + (row.output / 1000) * MINI.outputPer1k;
      assert.ok(Math.abs(row.cost - dollars) < 1e-12, String(row.cost));
      const tts = db
        .prepare(
          `SELECT cost_dollars AS cost FROM usage_events WHERE model_served = 'tts-1' LIMIT 1`,
        )
        .get() as { cost: number };
      assert.ok(Math.abs(tts.cost - (20 / 1000) * PER_1K_CHARACTERS) < 1e-12, String(tts.cost));
    } finally {
      db.close();
    }
  });
});
