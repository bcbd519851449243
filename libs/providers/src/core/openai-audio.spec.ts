import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  ESTIMATED_AUDIO_TOKENS_PER_SECOND,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type StreamAnswer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { FakeAzureOpenAiUpstream, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { AzureOpenAiAdapter } from '../azure/azure.adapter';
import { azureDeploymentUrl } from '../azure/azure-urls';
import { OpenAiCompatibleAdapter } from '../openai-compatible/openai-compatible.adapter';
import { reportedAudioUsage } from './openai-audio';
import { countTokens } from './tokenizer';
import { uploadForm } from './upload-form';

const AUDIO = Buffer.from('RIFF-not-really-a-wav\r\n--boundary-like--\r\n');

/** `seconds` of silent 8 kHz mono 8-bit PCM as a WAV file (8,000 bytes a second). */
function pcmWav(seconds: number): Buffer {
  const size = 8_000 * seconds;
  const file = Buffer.alloc(44 + size, 0x80);
  file.write('RIFF', 0, 'latin1');
  file.writeUInt32LE(36 + size, 4);
  file.write('WAVEfmt ', 8, 'latin1');
  file.writeUInt32LE(16, 16);
  file.writeUInt16LE(1, 20);
  file.writeUInt16LE(1, 22);
  file.writeUInt32LE(8_000, 24);
  file.writeUInt32LE(8_000, 28);
  file.writeUInt16LE(1, 32);
  file.writeUInt16LE(8, 34);
  file.write('data', 36, 'latin1');
  file.writeUInt32LE(size, 40);
  return file;
}

function audioRequest(
  body: Record<string, unknown> = {},
  operation: GatewayRequest['operation'] = 'transcriptions',
): GatewayRequest {
  return {
    requestId: 'req-1',
    operation,
    requestedModel: 'stt',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'stt', ...body },
    uploads: [{ field: 'file', filename: 'clip.wav', contentType: 'audio/wav', data: AUDIO }],
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: { 'x-trace-id': 't-1' },
  };
}

describe('uploadForm', () => {
  it('writes the fields back with the served model, lists as repeats, then the files', async () => {
    const { contentType, body } = uploadForm(
      { model: 'stt', prompt: 'a "b"', 'timestamp_granularities[]': ['word', 'segment'] },
      'whisper-1',
      [
        { field: 'file', filename: 'my "clip".wav', contentType: 'audio/wav', data: AUDIO },
        { field: 'file', filename: 'two.wav', contentType: 'audio/wav', data: Buffer.from('2') },
      ],
    );
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    assert.deepEqual(form.getAll('model'), ['whisper-1']);
    assert.equal(form.get('prompt'), 'a "b"');
    assert.deepEqual(form.getAll('timestamp_granularities[]'), ['word', 'segment']);
    assert.equal(form.getAll('file').length, 2);
    const file = form.get('file') as File;
    assert.equal(file.name, 'my "clip".wav');
    assert.equal(file.type, 'audio/wav');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), AUDIO);
  });
});

describe('reportedAudioUsage', () => {
  it('reads token usage, duration usage, and verbose_json duration', () => {
    assert.deepEqual(
      reportedAudioUsage({
        text: '',
        usage: { type: 'tokens', input_tokens: 40, output_tokens: 6, total_tokens: 46 },
      }),
      { inputTokens: 40, outputTokens: 6, cachedInputTokens: 0, source: 'reported' },
    );
    assert.equal(
      reportedAudioUsage({
        text: '',
        usage: {
          type: 'tokens',
          input_tokens: 40,
          output_tokens: 6,
          input_token_details: { text_tokens: 10, audio_tokens: 30 },
        },
      })?.audioInputTokens,
      30,
    );
    assert.deepEqual(reportedAudioUsage({ text: '', usage: { type: 'duration', seconds: 7.5 } }), {
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      audioSeconds: 7.5,
      source: 'reported',
    });
    assert.equal(reportedAudioUsage({ text: '', duration: 2 })?.audioSeconds, 2);
    assert.equal(
      reportedAudioUsage({ text: '', usage: { type: 'duration', seconds: -1 } }),
      undefined,
    );
    assert.equal(reportedAudioUsage({ text: '' }), undefined);
  });

  it("reads Mistral's seconds and tokens (usage.prompt_audio_seconds), not the file's estimate", () => {
    // Voxtral's answer, as api.mistral.ai sends it: no `type`, OpenAI's chat token names.
    assert.deepEqual(
      reportedAudioUsage({
        model: 'voxtral-mini-latest',
        text: 'Hello.',
        language: 'en',
        usage: {
          prompt_audio_seconds: 203,
          prompt_tokens: 4,
          completion_tokens: 635,
          total_tokens: 3264,
        },
      }),
      {
        inputTokens: 4,
        outputTokens: 635,
        cachedInputTokens: 0,
        audioSeconds: 203,
        source: 'reported',
      },
    );
  });
});

describe('audio on OpenAI-compatible and Azure backends', () => {
  const upstream = new FakeOpenAiUpstream();
  const azure = new FakeAzureOpenAiUpstream();
  let target: UpstreamTarget;

  before(async () => {
    await Promise.all([upstream.start(), azure.start()]);
    target = {
      backendName: 'groq',
      provider: 'groq',
      model: 'whisper-large-v3',
      baseUrl: upstream.baseUrl,
      credential: {
        headerName: 'Authorization',
        headerPrefix: 'Bearer ',
        apiKey: { reveal: () => 'sk-1' },
      },
      requestTimeoutMs: 2_000,
      firstByteTimeoutMs: 500,
    };
  });

  after(async () => Promise.all([upstream.stop(), azure.stop()]));
  beforeEach(() => upstream.reset());

  const invoke = (request: GatewayRequest, at = target) =>
    new OpenAiCompatibleAdapter().invoke({
      request,
      target: at,
      signal: new AbortController().signal,
    }) as Promise<JsonAnswer>;

  it('posts the form to /audio/transcriptions with the key and forwarded headers', async () => {
    const answer = await invoke(audioRequest({ language: 'de' }));
    assert.equal(answer.body.text, 'Hello from the fake upstream.');
    assert.equal(answer.mediaType, undefined);
    assert.deepEqual(answer.usage, {
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      audioSeconds: 3,
      source: 'reported',
    });
    assert.deepEqual(answer.servedBy, {
      backend: 'groq',
      provider: 'groq',
      model: 'whisper-large-v3',
    });
    const [call] = upstream.calls;
    assert.equal(call.path, '/v1/audio/transcriptions');
    assert.equal(call.headers.authorization, 'Bearer sk-1');
    assert.equal(call.headers['x-trace-id'], 't-1');
    assert.equal(call.body.model, 'whisper-large-v3');
    assert.equal(call.body.language, 'de');
    assert.deepEqual(call.body.file, {
      filename: 'clip.wav',
      type: 'audio/wav',
      size: AUDIO.length,
      sha256: createHash('sha256').update(AUDIO).digest('hex'),
    });
  });

  it('posts translations to /audio/translations', async () => {
    await invoke(audioRequest({}, 'translations'));
    assert.equal(upstream.calls[0].path, '/v1/audio/translations');
  });

  it('passes a text answer through with its media type, estimating its usage', async () => {
    const answer = await invoke(audioRequest({ response_format: 'vtt' }));
    assert.match(answer.body.text as string, /^WEBVTT/);
    assert.match(answer.mediaType ?? '', /^text\/vtt/);
    assert.equal(answer.usage.source, 'estimated');
    assert.ok(answer.usage.outputTokens > 0);
  });

  it("estimates a token-billed model's audio input when its text answer reports no usage", async () => {
    // gpt-4o-transcribe answers response_format text with the transcript alone: billing only
    // the transcript's tokens left the audio (most of the price) and the prompt unbilled.
    const request = audioRequest({ response_format: 'text', prompt: 'Names: Ada, Grace.' });
    const answer = await invoke(
      { ...request, uploads: [{ ...request.uploads![0], data: pcmWav(2) }] },
      { ...target, model: 'gpt-4o-transcribe' },
    );
    assert.equal(answer.usage.source, 'estimated');
    assert.equal(answer.usage.audioSeconds, 2);
    assert.equal(answer.usage.audioInputTokens, 2 * ESTIMATED_AUDIO_TOKENS_PER_SECOND);
    assert.equal(
      answer.usage.inputTokens,
      2 * ESTIMATED_AUDIO_TOKENS_PER_SECOND + countTokens('Names: Ada, Grace.'),
    );
    assert.equal(answer.usage.outputTokens, countTokens('Hello from the fake upstream.\n'));
  });

  it("bills a Mistral transcription at the seconds Mistral reports, not the file's size", async () => {
    upstream.reportAudioUsage({ prompt_audio_seconds: 42, prompt_tokens: 3, completion_tokens: 9 });
    const answer = await invoke(audioRequest(), {
      ...target,
      backendName: 'mistral',
      provider: 'mistral',
      model: 'voxtral-mini-latest',
    });
    assert.equal(answer.usage.source, 'reported');
    assert.equal(answer.usage.audioSeconds, 42);
    assert.equal(answer.usage.outputTokens, 9);
  });

  it('fails over (bad response) on a JSON answer without its text, and maps upstream errors', async () => {
    upstream.next({ kind: 'garbage' });
    await assert.rejects(invoke(audioRequest()), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.UpstreamBadResponse);
      return true;
    });
    upstream.next({ kind: 'status', status: 429 });
    await assert.rejects(invoke(audioRequest()), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited);
      return true;
    });
  });

  it("relays a stream's events with the done event's usage, and a JSON answer as one event", async () => {
    const streamed = (await new OpenAiCompatibleAdapter().invoke({
      request: { ...audioRequest(), stream: true, body: { model: 'stt', stream: true } },
      target: { ...target, model: 'gpt-4o-transcribe' },
      signal: new AbortController().signal,
    })) as StreamAnswer;
    const events: JsonObject[] = [];
    for await (const event of streamed.events) events.push(event);
    assert.equal(events.length, 7);
    assert.equal(events.at(-1)?.type, 'transcript.text.done');
    assert.deepEqual(await streamed.usage, {
      inputTokens: 40,
      outputTokens: 6,
      cachedInputTokens: 0,
      audioInputTokens: 40,
      source: 'reported',
    });
    assert.equal(upstream.calls[0].body.stream, 'true');

    const whole = (await invoke({ ...audioRequest(), stream: true })) as unknown as StreamAnswer;
    const only: JsonObject[] = [];
    for await (const event of whole.events) only.push(event);
    assert.deepEqual(
      only.map((event) => event.type),
      ['transcript.text.done'],
    );
    assert.equal((await whole.usage).audioSeconds, 3);
  });

  it("relays Mistral's streamed transcript under OpenAI's event names, billed at its done usage", async () => {
    // Voxtral's stream, as api.mistral.ai sends it: its own event names, the text as `text`.
    const mistralEvents = [
      { type: 'transcription.language', audio_language: 'en' },
      { type: 'transcription.text.delta', text: 'Hello' },
      { type: 'transcription.text.delta', text: ' there.' },
      {
        type: 'transcription.done',
        model: 'voxtral-mini-latest',
        text: 'Hello there.',
        language: 'en',
        usage: { prompt_audio_seconds: 5, prompt_tokens: 2, completion_tokens: 4 },
      },
    ];
    const mistral = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const event of mistralEvents) {
        response.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
      response.end();
    });
    await new Promise<void>((resolve) => mistral.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = mistral.address() as AddressInfo;
      const streamed = (await new OpenAiCompatibleAdapter().invoke({
        request: { ...audioRequest(), stream: true, body: { model: 'stt', stream: true } },
        target: {
          ...target,
          backendName: 'mistral',
          provider: 'mistral',
          model: 'voxtral-mini-latest',
          baseUrl: `http://127.0.0.1:${port}/v1`,
        },
        signal: new AbortController().signal,
      })) as StreamAnswer;
      const events: JsonObject[] = [];
      for await (const event of streamed.events) events.push(event);
      assert.deepEqual(
        events.map((event) => [event.type, event.delta ?? event.text]),
        [
          ['transcription.language', undefined],
          ['transcript.text.delta', 'Hello'],
          ['transcript.text.delta', ' there.'],
          ['transcript.text.done', 'Hello there.'],
        ],
      );
      const usage = await streamed.usage;
      assert.equal(usage.source, 'reported');
      assert.equal(usage.audioSeconds, 5);
    } finally {
      await new Promise((resolve) => mistral.close(resolve));
    }
  });

  it('refuses a request without its file before any call', async () => {
    await assert.rejects(invoke({ ...audioRequest(), uploads: undefined }), /file is missing/);
    assert.equal(upstream.calls.length, 0);
  });

  it("builds Azure's deployment URL for audio with its api-version", () => {
    assert.equal(
      azureDeploymentUrl('https://res.openai.azure.com', 'whisper', 'transcriptions', {}),
      'https://res.openai.azure.com/openai/deployments/whisper/audio/transcriptions?api-version=2024-10-21',
    );
    assert.equal(
      azureDeploymentUrl(
        'https://res.openai.azure.com/?api-version=2025-03-01-preview',
        'w',
        'translations',
        {},
      ),
      'https://res.openai.azure.com/openai/deployments/w/audio/translations?api-version=2025-03-01-preview',
    );
  });

  it('sends an Azure call to the deployment with the api-key', async () => {
    const adapter = new AzureOpenAiAdapter();
    const answer = await adapter.invoke({
      request: audioRequest(),
      target: {
        ...target,
        backendName: 'azure',
        provider: 'azure',
        model: 'whisper-deploy',
        baseUrl: azure.baseUrl,
        credential: { headerName: 'api-key', headerPrefix: '', apiKey: { reveal: () => 'az-1' } },
      },
      signal: new AbortController().signal,
    });
    assert.equal((answer as JsonAnswer).body.text, 'Hello from Azure.');
    assert.equal((answer as JsonAnswer).usage.audioSeconds, 2);
    const call = azure.calls.at(-1)!;
    assert.match(call.path, /^\/openai\/deployments\/whisper-deploy\/audio\/transcriptions/);
    assert.equal(call.headers['api-key'], 'az-1');
  });
});
