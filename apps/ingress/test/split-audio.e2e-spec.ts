// Speech to text in the split deployment (ingress, router and provider-adapter as three
// processes) with the official openai client: the uploaded file crosses both internal
// hops intact (as base64 in the wire message, so a file near the body limit still fits),
// a failing backend fails over with the same file, a text answer keeps its media type,
// and the ingress bills the reported minutes. Speech audio and an image edit's files cross
// the same hops, and so do speech events (stream_format "sse"), gpt-image streams and a
// variation's image.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI, { toFile } from 'openai';
import { Topic } from '@aigw/contracts';
import {
  FAKE_IMAGE_B64,
  FAKE_INPUT_IMAGE_TOKENS,
  FAKE_OUTPUT_TEXT_TOKENS,
  FAKE_PARTIAL_IMAGE_TOKENS,
  FAKE_SPEECH_USAGE,
  FakeOpenAiUpstream,
  fakeSpeechAudio,
} from '@aigw/testing/fake-provider';
import { eventually } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const BODY_LIMIT = 4 * 1024 * 1024;
const PER_MINUTE = 0.006;

/** `seconds` of 16 kHz mono 16-bit PCM silence as a WAV file (32,000 bytes a second). */
function wav(seconds: number): Buffer {
  const bytes = 32_000 * seconds;
  const file = Buffer.alloc(44 + bytes);
  file.write('RIFFxxxxWAVEfmt ', 0, 'latin1');
  file.writeUInt32LE(36 + bytes, 4);
  file.writeUInt32LE(16, 16);
  file.writeUInt16LE(1, 20);
  file.writeUInt16LE(1, 22);
  file.writeUInt32LE(16_000, 24);
  file.writeUInt32LE(32_000, 28);
  file.writeUInt16LE(2, 32);
  file.writeUInt16LE(16, 34);
  file.write('data', 36, 'latin1');
  file.writeUInt32LE(bytes, 40);
  for (let at = 44; at < file.length; at += 997) file[at] = at % 251; // not all zeros
  return file;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('split deployment: audio transcriptions across the internal wire', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-audio-'));
  let services: AppProcess[] = [];
  let ingress: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([primary.start(), secondary.start()]);
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-audio}
spec:
  backends:
  - {name: primary, priority: 0, provider: vllm, baseUrl: "${primary.baseUrl}", model: whisper-1, modelNameOverride: stt, auth: {apiKeyRef: {name: primary-key}}}
  - {name: secondary, priority: 1, provider: vllm, baseUrl: "${secondary.baseUrl}", model: whisper-large-v3, modelNameOverride: stt}
  - {name: speaker, priority: 0, provider: vllm, baseUrl: "${primary.baseUrl}", model: tts-1, modelNameOverride: voice}
  - {name: narrator, priority: 0, provider: openai-compatible, baseUrl: "${primary.baseUrl}", model: gpt-4o-mini-tts, modelNameOverride: narrator}
  - {name: painter, priority: 0, provider: openai-compatible, baseUrl: "${primary.baseUrl}", model: dall-e-2, modelNameOverride: painter}
  - {name: editor, priority: 0, provider: openai-compatible, baseUrl: "${primary.baseUrl}", model: gpt-image-1}
  - {name: maker, priority: 0, provider: openai-compatible, baseUrl: "${primary.baseUrl}", model: gpt-image-1.5}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
  costControl:
    modelPricing:
      whisper-1: {inputPer1k: 0, outputPer1k: 0, perMinute: ${PER_MINUTE}}
      gpt-image-1: {inputPer1k: 0.005, imageInputPer1k: 0.01, outputPer1k: 0.04}
      gpt-image-1.5: {inputPer1k: 0.005, outputPer1k: 0.01, imageOutputPer1k: 0.032}
`,
    );
    const shared = { AI_GATEWAY_CONFIG: path, AI_GATEWAY_MAX_BODY_BYTES: String(BODY_LIMIT) };
    const adapter = await startApp('provider-adapter', {
      ...shared,
      AI_GATEWAY_SECRET_PRIMARY_KEY_APIKEY: 'sk-primary-secret',
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    const router = await startApp('router', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    ingress = await startApp('ingress', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    services = [ingress, router, adapter];
    client = new OpenAI({ baseURL: `${ingress.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  /** The provider-adapter's first usage event `matches` takes, once it is logged. */
  function adapterUsage(
    matches: (event: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>> {
    return eventually('the provider-adapter logs the usage event', () => {
      // Without Kafka the adapter logs its events to SQLite in its data directory.
      const db = new DatabaseSync(join(dir, 'adapter', 'provider-adapter-events.db'), {
        readOnly: true,
      });
      try {
        const rows = db
          .prepare('SELECT value FROM events WHERE topic = ?')
          .all(Topic.UsageRecorded) as { value: string }[];
        return rows.map((row) => JSON.parse(row.value) as Record<string, unknown>).find(matches);
      } finally {
        db.close();
      }
    });
  }

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await Promise.all([primary.stop(), secondary.stop()]);
  });

  beforeEach(() => {
    primary.reset();
    secondary.reset();
  });

  it('carries a file near the body limit to the backend intact, under the served name', async () => {
    // 129 s of WAV: about 4.13 MB, under the 4 MiB limit; as base64 it is 5.5 MB.
    const audio = wav(129);
    const { data, response } = await client.audio.transcriptions
      .create({ file: await toFile(audio, 'long.wav', { type: 'audio/wav' }), model: 'stt' })
      .withResponse();
    assert.equal(data.text, 'Hello from the fake upstream.');
    const sent = primary.calls[0];
    assert.equal(sent.body.model, 'whisper-1');
    assert.equal(sent.headers.authorization, 'Bearer sk-primary-secret');
    assert.deepEqual(sent.body.file, {
      filename: 'long.wav',
      type: 'audio/wav',
      size: audio.length,
      sha256: sha256(audio),
    });
    // The fake reports 3 seconds of audio.
    assert.equal(response.headers.get('x-ai-gateway-cost-usd'), '0.0003');
  });

  it('fails over with the same file and keeps a text answer text', async () => {
    primary.next({ kind: 'status', status: 503 });
    const audio = wav(1);
    const { data, response } = await client.audio.transcriptions
      .create({
        file: await toFile(audio, 'clip.wav', { type: 'audio/wav' }),
        model: 'stt',
        response_format: 'srt',
      })
      .withResponse();
    assert.match(data, /^1\n00:00:00,000 --> 00:00:03,000\nHello from the fake upstream\.\n/);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls.length, 1);
    assert.equal(secondary.calls[0].body.model, 'whisper-large-v3');
    assert.equal((secondary.calls[0].body.file as { sha256: string }).sha256, sha256(audio));
    assert.equal(secondary.calls[0].body.response_format, 'srt');
  });

  it('streams speech audio across both hops byte for byte, with its content type', async () => {
    const response = await client.audio.speech.create({
      model: 'voice',
      voice: 'alloy',
      input: 'Across the wire.',
      response_format: 'opus',
    });
    assert.equal(response.headers.get('content-type'), 'audio/opus');
    assert.deepEqual(
      Buffer.from(await response.arrayBuffer()),
      Buffer.concat(fakeSpeechAudio('Across the wire.')),
    );
    assert.equal(primary.calls[0].body.model, 'tts-1');
  });

  it('streams speech events (stream_format "sse") across both hops, the done event last', async () => {
    const response = await client.audio.speech.create({
      model: 'narrator',
      voice: 'alloy',
      input: 'Across the wire.',
      stream_format: 'sse',
    });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = (await response.text())
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => JSON.parse(block.slice('data: '.length)) as Record<string, unknown>);
    const done = events.pop();
    assert.equal(done?.type, 'speech.audio.done');
    assert.deepEqual(done?.usage, FAKE_SPEECH_USAGE);
    assert.deepEqual(
      Buffer.concat(events.map((event) => Buffer.from(event.audio as string, 'base64'))),
      Buffer.concat(fakeSpeechAudio('Across the wire.')),
    );
  });

  it("carries an image edit's files across both hops", async () => {
    const png = Buffer.from(FAKE_IMAGE_B64, 'base64');
    const data = await client.images.edit({
      model: 'painter',
      image: [
        await toFile(png, 'a.png', { type: 'image/png' }),
        await toFile(Buffer.concat([png, png]), 'b.png', { type: 'image/png' }),
      ],
      prompt: 'merge them',
    });
    assert.equal(data.data?.length, 1);
    const sent = primary.calls[0].body['image[]'] as { filename: string; size: number }[];
    assert.deepEqual(
      sent.map((file) => [file.filename, file.size]),
      [
        ['a.png', png.length],
        ['b.png', 2 * png.length],
      ],
    );
    assert.equal(primary.calls[0].body.model, 'dall-e-2');
  });

  it("prices an edit's input images at imageInputPer1k at the ingress, across the wire", async () => {
    const png = Buffer.from(FAKE_IMAGE_B64, 'base64');
    const { data, response } = await client.images
      .edit({
        model: 'gpt-image-1',
        image: await toFile(png, 'a.png', { type: 'image/png' }),
        prompt: 'a hat',
      })
      .withResponse();
    // The ingress prices the usage the wire brought: 20 text, 194 image, 1056 output tokens.
    const dollars = 0.02 * 0.005 + (FAKE_INPUT_IMAGE_TOKENS / 1000) * 0.01 + 1.056 * 0.04;
    const rounded = Number(dollars.toFixed(7));
    assert.equal(Number(response.headers.get('x-ai-gateway-cost-usd')), rounded);
    assert.equal((data.usage as unknown as { cost: number }).cost, rounded);
  });

  it("prices a generation's output images at imageOutputPer1k at the ingress, across the wire", async () => {
    const { data, response } = await client.images
      .generate({ model: 'gpt-image-1.5', prompt: 'a hat' })
      .withResponse();
    // The ingress prices the usage the wire brought: 20 in, 24 text and 1056 image tokens out.
    const dollars = 0.02 * 0.005 + (FAKE_OUTPUT_TEXT_TOKENS / 1000) * 0.01 + 1.056 * 0.032;
    const rounded = Number(dollars.toFixed(7));
    assert.equal(Number(response.headers.get('x-ai-gateway-cost-usd')), rounded);
    assert.equal((data.usage as unknown as { cost: number }).cost, rounded);
  });

  it("carries a variation's image across both hops, metered as image-variations", async () => {
    const png = Buffer.from(FAKE_IMAGE_B64, 'base64');
    const data = await client.images.createVariation({
      model: 'painter',
      image: await toFile(png, 'otter.png', { type: 'image/png' }),
      n: 2,
      size: '256x256',
    });
    assert.equal(data.data?.length, 2);
    const [call] = primary.calls;
    assert.equal(call.path, '/v1/images/variations');
    assert.equal(call.body.model, 'dall-e-2');
    assert.equal(call.body.n, '2');
    assert.deepEqual(call.body.image, {
      filename: 'otter.png',
      type: 'image/png',
      size: png.length,
      sha256: sha256(png),
    });
    const usage = await adapterUsage((event) => event.operation === 'image-variations');
    assert.equal(usage?.modelServed, 'dall-e-2');
  });

  it('streams gpt-image events across both hops, metered at the completed usage', async () => {
    const stream = await client.images.generate({
      model: 'gpt-image-1',
      prompt: 'a split fox',
      stream: true,
      partial_images: 2,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(
      events.map((event) => event.type),
      [
        'image_generation.partial_image',
        'image_generation.partial_image',
        'image_generation.completed',
      ],
    );
    assert.equal(events[2].b64_json, FAKE_IMAGE_B64);
    assert.equal(primary.calls[0].body.stream, true);
    const output = 1056 + 2 * FAKE_PARTIAL_IMAGE_TOKENS;
    const usage = await adapterUsage((event) => event.outputTokens === output);
    assert.equal(usage?.operation, 'images');
    assert.equal(usage?.usageSource, 'reported');
    assert.equal(usage?.imageOutputTokens, output);
  });

  it('ends an image stream cut after its first event with an error event across both hops', async () => {
    primary.next({ kind: 'break-stream', afterChunks: 1 });
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        const stream = await client.images.generate({
          model: 'gpt-image-1',
          prompt: 'a cut fox',
          stream: true,
          partial_images: 2,
        });
        for await (const event of stream) seen.push(event.type);
      })(),
      (error: unknown) => error instanceof OpenAI.APIError,
    );
    assert.deepEqual(seen, ['image_generation.partial_image']);
  });

  it("meters in the provider-adapter, whose usage events name each call's operation", async () => {
    await client.audio.transcriptions.create({
      file: await toFile(wav(1), 'op.wav', { type: 'audio/wav' }),
      model: 'stt',
    });
    await (
      await client.audio.speech.create({ model: 'voice', voice: 'alloy', input: 'op' })
    ).arrayBuffer();
    // Without Kafka the adapter logs its events to SQLite in its data directory.
    const operations = async () => {
      const db = new DatabaseSync(join(dir, 'adapter', 'provider-adapter-events.db'), {
        readOnly: true,
      });
      try {
        const rows = db
          .prepare('SELECT value FROM events WHERE topic = ?')
          .all(Topic.UsageRecorded) as { value: string }[];
        return rows.map((row) => (JSON.parse(row.value) as { operation?: string }).operation);
      } finally {
        db.close();
      }
    };
    const seen = await eventually('both usage events are logged', async () => {
      const logged = await operations();
      return logged.includes('transcriptions') && logged.includes('speech') ? logged : undefined;
    });
    assert.ok(seen.includes('transcriptions') && seen.includes('speech'), JSON.stringify(seen));
    assert.ok(
      seen.every((operation) => typeof operation === 'string'),
      'every event names one',
    );
  });
});
