import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type StreamAnswer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FAKE_SPEECH_USAGE,
  FakeOpenAiUpstream,
  fakeSpeechAudio,
  RawSseUpstream,
} from '@aigw/testing/fake-provider';
import { AzureOpenAiAdapter } from '../azure/azure.adapter';
import { azureDeploymentUrl } from '../azure/azure-urls';
import { OpenAiCompatibleAdapter } from '../openai-compatible/openai-compatible.adapter';
import { speechUsage } from './openai-speech';

const TEXT = 'Grüße aus dem Gateway';

function speechRequest(body: JsonObject = {}): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'speech',
    requestedModel: 'voice',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'voice', voice: 'alloy', input: TEXT, ...body },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: { 'x-trace-id': 't-1' },
  };
}

async function audioOf(answer: StreamAnswer): Promise<{ bytes: Buffer; types: Set<unknown> }> {
  const pieces: Buffer[] = [];
  const types = new Set<unknown>();
  for await (const event of answer.events) {
    assert.equal(event.type, 'speech.audio.chunk');
    types.add(event.content_type);
    pieces.push(Buffer.from(event.audio as string, 'base64'));
  }
  return { bytes: Buffer.concat(pieces), types };
}

describe('speechUsage', () => {
  it('counts characters (not UTF-16 units), the text and instructions tokens, and audio tokens', () => {
    const usage = speechUsage({ input: '😀 hi', instructions: 'Calm.' });
    assert.equal(usage.characters, 4);
    assert.equal(usage.outputTokens, Math.ceil(4 * 1.4));
    assert.ok(usage.inputTokens > speechUsage({ input: '😀 hi' }).inputTokens);
    assert.equal(usage.source, 'estimated');
  });
});

describe('speech on OpenAI-compatible and Azure backends', () => {
  const upstream = new FakeOpenAiUpstream();
  let target: UpstreamTarget;

  before(async () => {
    await upstream.start();
    target = {
      backendName: 'openai',
      provider: 'openai',
      model: 'tts-1',
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
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const invoke = (request: GatewayRequest, model = 'tts-1', baseUrl = upstream.baseUrl) =>
    new OpenAiCompatibleAdapter().invoke({
      request,
      target: { ...target, model, baseUrl },
      signal: new AbortController().signal,
    }) as Promise<StreamAnswer>;

  const eventsOf = async (answer: StreamAnswer): Promise<JsonObject[]> => {
    const events: JsonObject[] = [];
    for await (const event of answer.events) events.push(event);
    return events;
  };

  const audioIn = (events: JsonObject[]): Buffer =>
    Buffer.concat(
      events
        .filter((event) => event.type === 'speech.audio.delta')
        .map((event) => Buffer.from(event.audio as string, 'base64')),
    );

  it('relays the events of stream_format "sse", counted as the done event says', async () => {
    const request = speechRequest({ stream_format: 'sse' });
    const answer = await invoke(request, 'gpt-4o-mini-tts');
    const events = await eventsOf(answer);
    assert.deepEqual(
      events.map((event) => event.type),
      ['speech.audio.delta', 'speech.audio.delta', 'speech.audio.delta', 'speech.audio.done'],
    );
    assert.deepEqual(audioIn(events), Buffer.concat(fakeSpeechAudio(TEXT)));
    assert.deepEqual(events.at(-1)?.usage, FAKE_SPEECH_USAGE);
    assert.deepEqual(await answer.usage, {
      inputTokens: FAKE_SPEECH_USAGE.input_tokens,
      outputTokens: FAKE_SPEECH_USAGE.output_tokens,
      cachedInputTokens: 0,
      characters: [...TEXT].length,
      source: 'reported',
    });
    const [call] = upstream.calls;
    assert.equal(call.body.stream_format, 'sse');
    assert.match(String(call.headers.accept), /^text\/event-stream/);
  });

  it('turns the audio of a backend that ignores stream_format into the events, estimated', async () => {
    const request = speechRequest({ stream_format: 'sse' });
    const answer = await invoke(request, 'kokoro');
    const events = await eventsOf(answer);
    assert.deepEqual(events.at(-1), { type: 'speech.audio.done' });
    assert.deepEqual(audioIn(events), Buffer.concat(fakeSpeechAudio(TEXT)));
    assert.deepEqual(await answer.usage, speechUsage(request.body));
  });

  it('interrupts an event stream that errs or ends before its done event, estimated', async () => {
    const raw = await new RawSseUpstream().start();
    try {
      const delta = { type: 'speech.audio.delta', audio: 'AAAA' };
      for (const events of [[delta], [delta, '[DONE]'], [delta, { type: 'error' }]]) {
        raw.next(events);
        const answer = await invoke(
          speechRequest({ stream_format: 'sse' }),
          'gpt-4o-mini-tts',
          raw.baseUrl,
        );
        await assert.rejects(eventsOf(answer), (error: unknown) => {
          assert.ok(error instanceof DataPlaneError, String(error));
          assert.equal(error.code, DataPlaneErrorCode.StreamInterrupted);
          return true;
        });
        assert.equal((await answer.usage).source, 'estimated');
      }
    } finally {
      await raw.stop();
    }
  });

  it('posts the body with the served model and relays the audio as it comes', async () => {
    const answer = await invoke(speechRequest({ response_format: 'flac', speed: 2 }));
    assert.equal(answer.kind, 'stream');
    const { bytes, types } = await audioOf(answer);
    assert.deepEqual(bytes, Buffer.concat(fakeSpeechAudio(TEXT)));
    assert.deepEqual([...types], ['audio/flac']);
    assert.deepEqual(await answer.usage, speechUsage(speechRequest().body));
    const [call] = upstream.calls;
    assert.equal(call.path, '/v1/audio/speech');
    assert.equal(call.headers.authorization, 'Bearer sk-1');
    assert.equal(call.headers['x-trace-id'], 't-1');
    assert.deepEqual(call.body, {
      model: 'tts-1',
      voice: 'alloy',
      input: TEXT,
      response_format: 'flac',
      speed: 2,
    });
  });

  it('maps an upstream refusal before the audio, and a cut stream after it', async () => {
    upstream.next({ kind: 'status', status: 429 });
    await assert.rejects(invoke(speechRequest()), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited);
      return true;
    });
    upstream.next({ kind: 'break-stream', afterChunks: 1 });
    const answer = await invoke(speechRequest());
    await assert.rejects(audioOf(answer), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.StreamInterrupted);
      return true;
    });
  });

  it('refuses speech events on Azure OpenAI, whose speech API has none, calling nothing', async () => {
    await assert.rejects(
      new AzureOpenAiAdapter().invoke({
        request: speechRequest({ stream_format: 'sse' }),
        target: { ...target, provider: 'azure', model: 'tts' },
        signal: new AbortController().signal,
      }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'stream_format',
    );
    assert.equal(upstream.calls.length, 0);
  });

  it("sends Azure's call to the deployment's audio/speech URL", () => {
    assert.equal(
      azureDeploymentUrl('https://res.openai.azure.com', 'tts', 'speech', {}),
      'https://res.openai.azure.com/openai/deployments/tts/audio/speech?api-version=2024-10-21',
    );
  });
});
