import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonObject,
  type StreamAnswer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FAKE_IMAGE_B64,
  FAKE_INPUT_IMAGE_TOKENS,
  FAKE_PARTIAL_IMAGE_TOKENS,
  FakeOpenAiUpstream,
  RawSseUpstream,
} from '@aigw/testing/fake-provider';
import { OpenAiCompatibleAdapter } from '../openai-compatible/openai-compatible.adapter';
import { streamedImagesAnswer } from './openai-image-events';

function streamRequest(body: Record<string, unknown> = {}): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'images',
    requestedModel: 'gpt-image-1',
    stream: true,
    clientWantsStreamUsage: false,
    body: { model: 'gpt-image-1', prompt: 'a fox in the snow', stream: true, ...body },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

async function eventsOf(answer: GatewayAnswer): Promise<JsonObject[]> {
  assert.equal(answer.kind, 'stream');
  const events: JsonObject[] = [];
  for await (const event of answer.events) events.push(event);
  return events;
}

function interrupted(error: unknown): boolean {
  assert.ok(error instanceof DataPlaneError, String(error));
  assert.equal(error.code, DataPlaneErrorCode.StreamInterrupted);
  return true;
}

describe('streamedImagesAnswer', () => {
  it('reads completed events as a JSON answer: one image each, the last usage reported', () => {
    const usage = { input_tokens: 20, output_tokens: 1056 };
    assert.deepEqual(streamedImagesAnswer([{ type: 'image_generation.completed', usage }]), {
      data: [{}],
      usage,
    });
    assert.deepEqual(streamedImagesAnswer([]), { data: [] });
  });
});

describe('gpt-image streams on OpenAI-compatible backends', () => {
  const upstream = new FakeOpenAiUpstream();
  let target: UpstreamTarget;
  before(async () => {
    await upstream.start();
    target = {
      backendName: 'openai',
      provider: 'openai-compatible',
      model: 'gpt-image-1',
      baseUrl: upstream.baseUrl,
      requestTimeoutMs: 2_000,
      firstByteTimeoutMs: 500,
    };
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const invoke = (request: GatewayRequest, at: UpstreamTarget = target) =>
    new OpenAiCompatibleAdapter().invoke({
      request,
      target: at,
      signal: new AbortController().signal,
    });

  it('relays the partial and completed events, billed at the completed usage', async () => {
    const answer = await invoke(streamRequest({ partial_images: 2, quality: 'medium' }));
    const events = await eventsOf(answer);
    assert.deepEqual(
      events.map((event) => [event.type, event.partial_image_index]),
      [
        ['image_generation.partial_image', 0],
        ['image_generation.partial_image', 1],
        ['image_generation.completed', undefined],
      ],
    );
    assert.equal(events[2].b64_json, FAKE_IMAGE_B64);
    const [call] = upstream.calls;
    assert.equal(call.path, '/v1/images/generations');
    assert.equal(call.headers.accept, 'text/event-stream');
    assert.deepEqual(call.body, {
      model: 'gpt-image-1',
      prompt: 'a fox in the snow',
      stream: true,
      partial_images: 2,
      quality: 'medium',
    });
    const output = 1056 + 2 * FAKE_PARTIAL_IMAGE_TOKENS;
    assert.deepEqual(await (answer as StreamAnswer).usage, {
      inputTokens: 20,
      outputTokens: output,
      cachedInputTokens: 0,
      imageOutputTokens: output,
      images: 1,
      imageVariant: 'medium',
      source: 'reported',
    });
  });

  it("streams an edit's events from its form, its input images billed apart", async () => {
    const png = Buffer.from('\u0089PNG-not-really');
    const answer = await invoke({
      ...streamRequest({ partial_images: 1 }),
      operation: 'image-edits',
      uploads: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: png }],
    });
    const events = await eventsOf(answer);
    assert.deepEqual(
      events.map((event) => event.type),
      ['image_edit.partial_image', 'image_edit.completed'],
    );
    const [call] = upstream.calls;
    assert.equal(call.path, '/v1/images/edits');
    assert.equal(call.headers.accept, 'text/event-stream');
    assert.equal(call.body.stream, 'true');
    const usage = await (answer as StreamAnswer).usage;
    assert.equal(usage.imageInputTokens, FAKE_INPUT_IMAGE_TOKENS);
    assert.equal(usage.inputTokens, 20 + FAKE_INPUT_IMAGE_TOKENS);
  });

  it('interrupts a stream cut before its completed event, billed at the estimate', async () => {
    upstream.next({ kind: 'break-stream', afterChunks: 1 });
    const answer = await invoke(streamRequest({ partial_images: 2 }));
    await assert.rejects(eventsOf(answer), interrupted);
    const usage = await (answer as StreamAnswer).usage;
    assert.equal(usage.source, 'estimated');
    assert.equal(usage.images, 0);
    assert.ok(usage.inputTokens > 0);
    // The partial image it sent before the cut is billed as OpenAI bills it.
    assert.equal(usage.outputTokens, FAKE_PARTIAL_IMAGE_TOKENS);
    assert.equal(usage.imageOutputTokens, FAKE_PARTIAL_IMAGE_TOKENS);
  });

  it('bills the partial images a client read before it left the stream', async () => {
    const answer = await invoke(streamRequest({ partial_images: 2 }));
    assert.equal(answer.kind, 'stream');
    for await (const event of answer.events) {
      if (event.partial_image_index === 1) break; // the client hangs up after two
    }
    const usage = await answer.usage;
    assert.equal(usage.source, 'estimated');
    assert.equal(usage.imageOutputTokens, 2 * FAKE_PARTIAL_IMAGE_TOKENS);
  });

  it('passes on the refusal of a model that cannot stream, before any event', async () => {
    await assert.rejects(
      invoke(streamRequest({ model: 'dall-e-3' }), { ...target, model: 'dall-e-3' }),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 400,
    );
  });

  it('interrupts a stream that errs or ends without a completed event', async () => {
    const raw = await new RawSseUpstream({ nameEventsByType: true }).start();
    try {
      const partial = { type: 'image_generation.partial_image', b64_json: 'AAAA' };
      for (const events of [[partial], [partial, '[DONE]'], [partial, { type: 'error' }]]) {
        raw.next(events);
        const answer = await invoke(streamRequest(), { ...target, baseUrl: raw.baseUrl });
        await assert.rejects(eventsOf(answer), interrupted, JSON.stringify(events));
        assert.equal((await (answer as StreamAnswer).usage).source, 'estimated');
      }
    } finally {
      await raw.stop();
    }
  });

  it('fails a JSON answer to a stream request before any event, so the router fails over', async () => {
    upstream.next({ kind: 'garbage' });
    const answer = await invoke(streamRequest());
    await assert.rejects(eventsOf(answer), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError, String(error));
      assert.equal(error.code, DataPlaneErrorCode.UpstreamBadResponse);
      return true;
    });
  });
});
