// Speech to text through the all-in-one gateway with the official openai client: the
// multipart form reaches an OpenAI-compatible backend intact under the served model's
// name, answers come back in every response format, per-minute (whisper-1) and token
// (gpt-4o-transcribe) usage are billed in the cost header and the stored usage rows, a
// dollar budget refuses once spent, a failing backend fails over with the same file, and
// backends whose API has no audio (Anthropic) are skipped or refused with a 400.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI, { toFile } from 'openai';
import { metricSum, until } from '@aigw/testing';
import { FakeAnthropicUpstream, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const COST_HEADER = 'x-ai-gateway-cost-usd';
const PER_MINUTE = 0.006;
const TOKEN_PRICE = { inputPer1k: 0.0025, audioInputPer1k: 0.006, outputPer1k: 0.01 };
const MAX_BODY_BYTES = 512 * 1024;

/** `seconds` of 16 kHz mono 16-bit PCM (a 440 Hz tone) as a WAV file. */
function wav(seconds: number): Buffer {
  const rate = 16_000;
  const samples = Math.round(rate * seconds);
  const file = Buffer.alloc(44 + samples * 2);
  file.write('RIFF', 0, 'latin1');
  file.writeUInt32LE(36 + samples * 2, 4);
  file.write('WAVEfmt ', 8, 'latin1');
  file.writeUInt32LE(16, 16);
  file.writeUInt16LE(1, 20); // PCM
  file.writeUInt16LE(1, 22); // mono
  file.writeUInt32LE(rate, 24);
  file.writeUInt32LE(rate * 2, 28); // byte rate
  file.writeUInt16LE(2, 32);
  file.writeUInt16LE(16, 34);
  file.write('data', 36, 'latin1');
  file.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    file.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  }
  return file;
}

const CLIP = wav(1);
/** The header as the gateway writes it: to a tenth of a micro-dollar. */
const asHeader = (dollars: number) => Number(dollars.toFixed(7));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const clip = () => toFile(CLIP, 'clip.wav', { type: 'audio/wav' });

describe('all-in-one gateway: /v1/audio/transcriptions and /v1/audio/translations', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  const anthropic = new FakeAnthropicUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-audio-'));
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([primary.start(), secondary.start(), anthropic.start()]);
    const claude = `provider: anthropic, baseUrl: "${anthropic.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}`;
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: speech}
spec:
  backends:
  - {name: claude-first, priority: 0, ${claude}, model: claude-sonnet-4-5, modelNameOverride: speech-to-text}
  - {name: primary, priority: 1, provider: openai, baseUrl: "${primary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: whisper-1, modelNameOverride: speech-to-text}
  - {name: secondary, priority: 2, provider: vllm, baseUrl: "${secondary.baseUrl}", model: whisper-large-v3, modelNameOverride: speech-to-text}
  - {name: tokens, provider: vllm, baseUrl: "${primary.baseUrl}", model: gpt-4o-transcribe}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
  costControl:
    maxDailyCostPerUser: 0.001
    modelPricing:
      whisper-1: {inputPer1k: 0, outputPer1k: 0, perMinute: ${PER_MINUTE}}
      whisper-large-v3: {inputPer1k: 0, outputPer1k: 0, perMinute: ${PER_MINUTE}}
      gpt-4o-transcribe: {inputPer1k: ${TOKEN_PRICE.inputPer1k}, audioInputPer1k: ${TOKEN_PRICE.audioInputPer1k}, outputPer1k: ${TOKEN_PRICE.outputPer1k}}
---
kind: AIGatewayRoute
metadata: {name: chat-only}
spec:
  backends:
  - {name: claude-only, ${claude}, model: claude-haiku-4-5}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai-test',
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([primary.stop(), secondary.stop(), anthropic.stop()]);
  });

  beforeEach(() => {
    for (const fake of [primary, secondary]) fake.reset();
    anthropic.reset();
    // A caller of its own per test: the route's $0.001 a day would not cover them all.
    client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': `listener-${randomUUID()}` },
    });
  });

  it('sends the form on under the served name and bills the reported minutes', async () => {
    const { data, response } = await client.audio.transcriptions
      .create({
        file: await clip(),
        model: 'speech-to-text',
        prompt: 'A tone.',
        language: 'en',
        temperature: 0.2,
      })
      .withResponse();
    assert.equal(data.text, 'Hello from the fake upstream.');
    assert.equal(anthropic.calls.length, 0, 'a backend without audio is no candidate');
    assert.equal(primary.calls.length, 1);
    const sent = primary.calls[0];
    assert.equal(sent.path, '/v1/audio/transcriptions');
    assert.equal(sent.headers.authorization, 'Bearer sk-openai-test');
    assert.equal(sent.body.model, 'whisper-1');
    assert.equal(sent.body.prompt, 'A tone.');
    assert.equal(sent.body.language, 'en');
    assert.equal(sent.body.temperature, '0.2');
    assert.deepEqual(sent.body.file, {
      filename: 'clip.wav',
      type: 'audio/wav',
      size: CLIP.length,
      sha256: sha256(CLIP),
    });
    // The fake reports {type: 'duration', seconds: 3}.
    assert.equal(Number(response.headers.get(COST_HEADER)), asHeader((3 / 60) * PER_MINUTE));
  });

  it('answers verbose_json with the granularities asked for', async () => {
    const data = await client.audio.transcriptions.create({
      file: await clip(),
      model: 'speech-to-text',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });
    assert.equal(data.duration, 3);
    assert.ok(data.words && data.words.length > 0);
    assert.deepEqual(primary.calls[0].body['timestamp_granularities[]'], ['word', 'segment']);
  });

  it('answers text, srt and vtt as the text the backend sent', async () => {
    const text = await client.audio.transcriptions.create({
      file: await clip(),
      model: 'speech-to-text',
      response_format: 'text',
    });
    assert.equal(text, 'Hello from the fake upstream.\n');
    const { data: vtt, response } = await client.audio.transcriptions
      .create({ file: await clip(), model: 'speech-to-text', response_format: 'vtt' })
      .withResponse();
    assert.match(vtt, /^WEBVTT\n/);
    assert.match(response.headers.get('content-type') ?? '', /^text\/vtt/);
    // No usage in a text answer: the WAV's own length (1 s) is billed.
    assert.equal(Number(response.headers.get(COST_HEADER)), asHeader((1 / 60) * PER_MINUTE));
  });

  it('translates through /v1/audio/translations', async () => {
    const data = await client.audio.translations.create({
      file: await clip(),
      model: 'speech-to-text',
    });
    assert.equal(data.text, 'Hello from the fake upstream.');
    assert.equal(primary.calls[0].path, '/v1/audio/translations');
  });

  it('bills a token-priced model by the tokens it reports, audio at its own rate', async () => {
    const { data, response } = await client.audio.transcriptions
      .create({ file: await clip(), model: 'gpt-4o-transcribe' })
      .withResponse();
    assert.deepEqual(data.usage, {
      type: 'tokens',
      input_tokens: 40,
      output_tokens: 6,
      total_tokens: 46,
      input_token_details: { text_tokens: 0, audio_tokens: 40 },
    });
    const dollars =
      (40 / 1000) * TOKEN_PRICE.audioInputPer1k + (6 / 1000) * TOKEN_PRICE.outputPer1k;
    assert.equal(Number(response.headers.get(COST_HEADER)), asHeader(dollars));
  });

  it("bills a token-priced model's text answer for the audio it heard, estimated", async () => {
    // response_format text carries no usage: the 1 s WAV is 10 audio tokens in at the audio
    // rate, and the transcript's 6 tokens out.
    const { data, response } = await client.audio.transcriptions
      .create({ file: await clip(), model: 'gpt-4o-transcribe', response_format: 'text' })
      .withResponse();
    assert.equal(data, 'Hello from the fake upstream.\n');
    const dollars =
      (10 / 1000) * TOKEN_PRICE.audioInputPer1k + (6 / 1000) * TOKEN_PRICE.outputPer1k;
    assert.equal(Number(response.headers.get(COST_HEADER)), asHeader(dollars));
  });

  it("streams gpt-4o-transcribe's events, and whisper-1's whole transcript as one", async () => {
    const stream = await client.audio.transcriptions.create({
      file: await clip(),
      model: 'gpt-4o-transcribe',
      stream: true,
    });
    const events: { type: string; delta?: string; usage?: unknown }[] = [];
    for await (const event of stream) events.push(event);
    assert.equal(
      events
        .filter((event) => event.type === 'transcript.text.delta')
        .map((event) => event.delta)
        .join(''),
      'Hello from the fake upstream.',
    );
    assert.equal(events.at(-1)?.type, 'transcript.text.done');
    assert.equal((events.at(-1)?.usage as { input_tokens: number }).input_tokens, 40);
    assert.equal(primary.calls[0].body.stream, 'true');

    const whole = await client.audio.transcriptions.create({
      file: await clip(),
      model: 'speech-to-text',
      stream: true,
    });
    const all: { type: string; text?: string }[] = [];
    for await (const event of whole) all.push(event);
    assert.deepEqual(
      all.map((event) => [event.type, event.text]),
      [['transcript.text.done', 'Hello from the fake upstream.']],
    );
  });

  it('fails over to the next backend with the same file', async () => {
    primary.next({ kind: 'status', status: 503 });
    const data = await client.audio.transcriptions.create({
      file: await clip(),
      model: 'speech-to-text',
    });
    assert.equal(data.text, 'Hello from the fake upstream.');
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls.length, 1);
    assert.equal(secondary.calls[0].body.model, 'whisper-large-v3');
    assert.equal((secondary.calls[0].body.file as { sha256: string }).sha256, sha256(CLIP));
  });

  it('refuses a model whose backends have no audio endpoint with a 400', async () => {
    await assert.rejects(
      client.audio.transcriptions.create({ file: await clip(), model: 'claude-haiku-4-5' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /serves transcriptions/);
        return true;
      },
    );
    assert.equal(anthropic.calls.length, 0);
  });

  it('refuses bad forms with OpenAI-style 400s and too large a body with a 413', async () => {
    const post = (path: string, form: FormData) =>
      fetch(`${gateway.baseUrl}/v1/audio/${path}`, { method: 'POST', body: form });
    const noFile = new FormData();
    noFile.append('model', 'speech-to-text');
    let response = await post('transcriptions', noFile);
    assert.equal(response.status, 400);
    let body = (await response.json()) as { error: { param: string; type: string } };
    assert.equal(body.error.param, 'file');
    assert.equal(body.error.type, 'invalid_request_error');

    const badFormat = new FormData();
    badFormat.append('model', 'speech-to-text');
    badFormat.append('response_format', 'mp3');
    badFormat.append('file', new Blob([CLIP], { type: 'audio/wav' }), 'clip.wav');
    response = await post('transcriptions', badFormat);
    assert.equal(response.status, 400);
    body = (await response.json()) as { error: { param: string; type: string } };
    assert.equal(body.error.param, 'response_format');

    const streamed = new FormData();
    streamed.append('model', 'speech-to-text');
    streamed.append('stream', 'yes');
    streamed.append('file', new Blob([CLIP], { type: 'audio/wav' }), 'clip.wav');
    response = await post('transcriptions', streamed);
    assert.equal(response.status, 400);

    const json = await fetch(`${gateway.baseUrl}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'speech-to-text', file: 'clip.wav' }),
    });
    assert.equal(json.status, 400);
    assert.match(await json.text(), /multipart\/form-data/);

    // A form is no chat request.
    const chat = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      body: noFile,
    });
    assert.equal(chat.status, 400);

    const large = new FormData();
    large.append('model', 'speech-to-text');
    large.append('file', new Blob([wav(20)], { type: 'audio/wav' }), 'long.wav');
    response = await post('translations', large);
    assert.equal(response.status, 413);
    assert.equal(
      ((await response.json()) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
    assert.equal(primary.calls.length + secondary.calls.length, 0);
  });

  it('refuses a caller whose dollar budget the minutes spent', async () => {
    const thrifty = client;
    // $0.0003 a call (3 reported seconds) against a $0.001 day: the fourth cannot fit.
    let refusedAt = -1;
    for (let i = 0; i < 8 && refusedAt < 0; i++) {
      try {
        await thrifty.audio.transcriptions.create({ file: await clip(), model: 'speech-to-text' });
      } catch (error) {
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        assert.match(error.message, /maxDailyCostPerUser/);
        refusedAt = i;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(refusedAt, 3);
  });

  it('counts the calls under their route and stores their usage and cost', async () => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.ok(
      metricSum(text, 'ai_gateway_requests_total', {
        route: 'audio.transcriptions',
        status: '200',
      }) >= 8,
    );
    assert.equal(
      metricSum(text, 'ai_gateway_requests_total', { route: 'audio.translations', status: '200' }),
      1,
    );
    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const rows = () =>
        db
          .prepare(
            `SELECT input_tokens AS input, output_tokens AS output, cost_dollars AS cost
               FROM usage_events WHERE model_served = 'gpt-4o-transcribe'`,
          )
          .all() as { input: number; output: number; cost: number }[];
      await until('the usage row is stored', () => rows().length >= 1);
      const [row] = rows();
      assert.equal(row.input, 40);
      assert.equal(row.output, 6);
      const dollars =
        (40 / 1000) * TOKEN_PRICE.audioInputPer1k + (6 / 1000) * TOKEN_PRICE.outputPer1k;
      assert.ok(Math.abs(row.cost - dollars) < 1e-12, String(row.cost));
      const minutes = db
        .prepare(
          `SELECT SUM(cost_dollars) AS cost FROM usage_events WHERE model_served = 'whisper-1'`,
        )
        .get() as { cost: number };
      assert.ok(minutes.cost > 0);
    } finally {
      db.close();
    }
  });
});
