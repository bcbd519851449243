import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '../data-plane.errors';
import type { GatewayRequest, JsonObject } from '../data-plane.types';
import { lazyChunk, rawChunkLine } from './lazy-chunk';
import { chunkFrame, endFrame, errorFrame, frameLines, framePayload } from './stream-frames';
import { decodeWireError, encodeWireError, wireVersionError } from './wire-errors';
import {
  decodeInvokeRequest,
  decodeJsonAnswer,
  decodeRouteRequest,
  decodeServedBy,
  decodeUsage,
  encodeInvokeRequest,
  encodeRouteRequest,
} from './wire-messages';
import { FrameTag } from './wire-protocol';

/**
 * A JSON answer as a peer sends it, the answer's own fields (the runtime's
 * relayed-json-body writes them, the body last), with its `kind`, which decoding ignores.
 */
const sentAsJson = (answer: object): unknown => JSON.parse(JSON.stringify(answer));

const request: GatewayRequest = {
  requestId: 'req-1',
  operation: 'chat',
  requestedModel: 'gpt-4',
  stream: true,
  clientWantsStreamUsage: false,
  body: { model: 'gpt-4', messages: [{ role: 'user', content: 'héllo\nworld' }] },
  caller: { userKey: 'alice', tier: 'gold' },
  allowedModels: ['gpt-4'],
  forwardHeaders: { 'x-trace-id': 't' },
};

async function* pieces(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

async function lines(...parts: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of frameLines(pieces(...parts))) out.push(line.toString());
  return out;
}

describe('wire messages', () => {
  it('carries a request to the router and a call to the adapter unchanged', () => {
    assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(request))), request);
    const target = { backendName: 'primary', provider: 'vllm', model: 'm' };
    assert.deepEqual(decodeInvokeRequest(JSON.parse(encodeInvokeRequest(request, target))), {
      request,
      target,
    });
  });

  it('carries the budget hold admission took, which the usage event settles', () => {
    const held = { ...request, reservationId: 'hold-7' };
    assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(held))), held);
    const target = { backendName: 'primary', provider: 'vllm', model: 'm' };
    assert.equal(
      decodeInvokeRequest(JSON.parse(encodeInvokeRequest(held, target))).request.reservationId,
      'hold-7',
    );
    assert.throws(
      () => decodeRouteRequest({ request: { ...request, reservationId: 7 } }),
      /request\.reservationId/,
    );
  });

  it('carries the models admission passed over for the request, which the router turns away', () => {
    const passed = { ...request, reservationId: 'hold-8', passedOverModels: ['gpt-4-turbo'] };
    assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(passed))), passed);
    for (const bad of ['gpt-4-turbo', [7], null]) {
      assert.throws(
        () => decodeRouteRequest({ request: { ...request, passedOverModels: bad } }),
        /request.passedOverModels/,
      );
    }
  });

  it('carries the default output admission held, absent from an older peer, and refuses a bad one', () => {
    const held: GatewayRequest = { ...request, defaultMaxOutputTokens: 1000 };
    assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(held))), held);
    const target = { backendName: 'primary', provider: 'anthropic', model: 'claude-sonnet-4-5' };
    assert.equal(
      decodeInvokeRequest(JSON.parse(encodeInvokeRequest(held, target))).request
        .defaultMaxOutputTokens,
      1000,
    );
    // An older peer's request has no such field: none is made up (the adapter's own applies).
    const older = decodeRouteRequest(JSON.parse(encodeRouteRequest(request)));
    assert.equal(Object.hasOwn(older, 'defaultMaxOutputTokens'), false);
    for (const bad of [0, -5, 1.5, '1000', null]) {
      assert.throws(
        () => decodeRouteRequest({ request: { ...request, defaultMaxOutputTokens: bad } }),
        /request\.defaultMaxOutputTokens/,
      );
    }
  });

  it('carries the output admission held beside its default, absent from an older peer, and refuses a bad one', () => {
    const held: GatewayRequest = {
      ...request,
      defaultMaxOutputTokens: 1000,
      heldOutputTokens: 18_432,
    };
    assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(held))), held);
    const target = { backendName: 'primary', provider: 'anthropic', model: 'claude-sonnet-4-5' };
    assert.deepEqual(
      decodeInvokeRequest(JSON.parse(encodeInvokeRequest(held, target))).request,
      held,
    );
    // An older ingress or router sends the default alone: no held amount is made up.
    const older = decodeRouteRequest(
      JSON.parse(encodeRouteRequest({ ...request, defaultMaxOutputTokens: 1000 })),
    );
    assert.equal(older.defaultMaxOutputTokens, 1000);
    assert.equal(Object.hasOwn(older, 'heldOutputTokens'), false);
    for (const bad of [0, -5, 1.5, '1000', null]) {
      assert.throws(
        () => decodeRouteRequest({ request: { ...request, heldOutputTokens: bad } }),
        /request\.heldOutputTokens/,
      );
    }
  });

  it('reads past a field it does not know, as a peer of an older build reads a newer one', () => {
    // How an older router or adapter takes a newer ingress's request: the fields it knows,
    // the rest left out, never refused (so a field is added without a wire version).
    const newer = { ...JSON.parse(encodeRouteRequest(request)).request, fieldOfANewerBuild: 7 };
    const read = decodeRouteRequest({ request: newer });
    assert.deepEqual(read, request);
    const target = { backendName: 'primary', provider: 'vllm', model: 'm' };
    assert.deepEqual(decodeInvokeRequest({ request: newer, target }).request, request);
  });

  it("carries the edge span's trace context, and refuses one that is not strings", () => {
    const traced = {
      ...request,
      traceContext: {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        tracestate: 'congo=t61rcWkgMzE',
      },
    };
    assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(traced))), traced);
    const target = { backendName: 'primary', provider: 'vllm', model: 'm' };
    assert.deepEqual(
      decodeInvokeRequest(JSON.parse(encodeInvokeRequest(traced, target))).request,
      traced,
    );
    for (const traceContext of [{ traceparent: 7 }, { traceparent: 'x', tracestate: 1 }, 'x']) {
      assert.throws(
        () => decodeRouteRequest({ request: { ...request, traceContext } }),
        (error: unknown) =>
          error instanceof DataPlaneError && /request\.traceContext/.test(error.message),
      );
    }
  });

  it("carries the client's overrides to the router and the adapter, and refuses bad ones", () => {
    const narrowed: GatewayRequest = {
      ...request,
      overrides: { timeoutMs: 1500, retries: 0, fallback: false },
    };
    assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(narrowed))), narrowed);
    const target = { backendName: 'primary', provider: 'vllm', model: 'm' };
    assert.deepEqual(
      decodeInvokeRequest(JSON.parse(encodeInvokeRequest(narrowed, target))).request.overrides,
      narrowed.overrides,
    );
    const onlyRetries = { ...request, overrides: { retries: 2 } };
    assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(onlyRetries))), onlyRetries);
    for (const [overrides, field] of [
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ timeoutMs: '5' }, 'timeoutMs'],
      [{ retries: -1 }, 'retries'],
      [{ retries: 1.5 }, 'retries'],
      [{ fallback: true }, 'fallback'],
      ['none', 'overrides'],
    ] as const) {
      assert.throws(
        () => decodeRouteRequest({ request: { ...request, overrides } }),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.message.includes(`request.${field === 'overrides' ? '' : 'overrides.'}${field}`),
      );
    }
  });

  it('carries moderations and rerank requests', () => {
    for (const operation of ['moderations', 'rerank'] as const) {
      const scored = { ...request, operation, stream: false };
      assert.deepEqual(decodeRouteRequest(JSON.parse(encodeRouteRequest(scored))), scored);
    }
  });

  it('never carries a credential in the call to the adapter', () => {
    const text = encodeInvokeRequest(request, { backendName: 'b', provider: 'openai', model: 'm' });
    assert.doesNotMatch(text, /credential|apiKey|baseUrl/);
  });

  it('refuses a malformed message, naming the field', () => {
    const bad = { request: { ...request, stream: 'yes' } };
    assert.throws(
      () => decodeRouteRequest(bad),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        /request\.stream/.test(error.message),
    );
    assert.throws(() => decodeInvokeRequest({ request }), /target/);
  });

  it('round-trips a JSON answer and calls a broken one a bad response', () => {
    const answer = {
      kind: 'json' as const,
      status: 200,
      body: { id: 'x', model: 'gpt-4' },
      usage: { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, source: 'reported' as const },
      servedBy: { backend: 'b', provider: 'vllm', model: 'm', attempts: 2 },
    };
    assert.deepEqual(decodeJsonAnswer(sentAsJson(answer), 'peer'), answer);
    assert.throws(
      () => decodeJsonAnswer({ body: {} }, 'the router'),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamBadResponse,
    );
  });

  it('carries the settings a backend left out, keeping only names of the closed sets', () => {
    const droppedSettings = [
      { setting: 'temperature', reason: 'model' },
      { setting: 'safety_settings', reason: 'unsupported' },
      // Claude's budget thinking left out of a tool loop that lost its signed thinking.
      { setting: 'reasoning', reason: 'tool_loop' },
    ] as const;
    const servedBy = { backend: 'b', provider: 'anthropic', model: 'm', droppedSettings };
    assert.deepEqual(decodeServedBy(JSON.parse(JSON.stringify(servedBy))), servedBy);
    // A newer peer's names this build does not know are not taken up; none left is none.
    const newer = {
      ...servedBy,
      droppedSettings: [
        { setting: 'x-client-chosen', reason: 'unsupported' },
        { setting: 'top_k', reason: 'some-new-reason' },
      ],
    };
    assert.deepEqual(decodeServedBy(newer), { backend: 'b', provider: 'anthropic', model: 'm' });
    // Entries of another shape (a bare name, null, a list) are left out, the rest kept.
    const odd = {
      ...servedBy,
      droppedSettings: ['seed', null, 7, ['top_k'], { setting: 'temperature', reason: 'model' }],
    };
    assert.deepEqual(decodeServedBy(odd), {
      backend: 'b',
      provider: 'anthropic',
      model: 'm',
      droppedSettings: [{ setting: 'temperature', reason: 'model' }],
    });
    assert.throws(() => decodeServedBy({ ...servedBy, droppedSettings: 'temperature' }));
  });

  it("carries a cache write in the usage, reads an older peer's usage without one as none", () => {
    const usage = {
      inputTokens: 1200,
      outputTokens: 2,
      cachedInputTokens: 0,
      cacheWriteInputTokens: 1000,
      source: 'reported' as const,
    };
    const answer = {
      kind: 'json' as const,
      status: 200,
      body: { id: 'x' },
      usage,
      servedBy: { backend: 'b', provider: 'anthropic', model: 'm' },
    };
    const decoded = decodeJsonAnswer(sentAsJson(answer), 'peer');
    assert.equal(decoded.usage.cacheWriteInputTokens, 1000);
    assert.deepEqual(decodeUsage({ ...usage, cacheWriteInputTokens: undefined }), {
      inputTokens: 1200,
      outputTokens: 2,
      cachedInputTokens: 0,
      source: 'reported',
    });
    assert.throws(
      () => decodeUsage({ ...usage, cacheWriteInputTokens: -1 }),
      /usage\.cacheWriteInputTokens/,
    );
  });

  it('carries the model a provider answered as; none from an older peer is none', () => {
    const usage = { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, source: 'reported' };
    assert.equal(
      decodeUsage({ ...usage, answeredModel: 'gpt-4o-2024-08-06' }).answeredModel,
      'gpt-4o-2024-08-06',
    );
    assert.ok(!('answeredModel' in decodeUsage(usage)));
    assert.throws(() => decodeUsage({ ...usage, answeredModel: 7 }), /usage\.answeredModel/);
  });

  it('carries the service tier a backend served at (priced by it); none from an older peer is none', () => {
    const usage = { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, source: 'reported' };
    assert.equal(decodeUsage({ ...usage, serviceTier: 'priority' }).serviceTier, 'priority');
    assert.ok(!('serviceTier' in decodeUsage(usage)));
    assert.throws(() => decodeUsage({ ...usage, serviceTier: 2 }), /usage\.serviceTier/);
  });

  it('carries where Anthropic ran the call (billed dearer in the US); none from an older peer is none', () => {
    const usage = { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, source: 'reported' };
    assert.equal(decodeUsage({ ...usage, inferenceGeo: 'us' }).inferenceGeo, 'us');
    assert.ok(!('inferenceGeo' in decodeUsage(usage)));
    assert.throws(() => decodeUsage({ ...usage, inferenceGeo: 1 }), /usage\.inferenceGeo/);
  });

  it('carries the 1-hour part of a cache write; none from an older peer is none', () => {
    const usage = {
      inputTokens: 1200,
      outputTokens: 2,
      cachedInputTokens: 0,
      cacheWriteInputTokens: 1000,
      cacheWrite1hInputTokens: 400,
      source: 'reported' as const,
    };
    const answer = {
      kind: 'json' as const,
      status: 200,
      body: { id: 'x' },
      usage,
      servedBy: { backend: 'b', provider: 'anthropic', model: 'm' },
    };
    const decoded = decodeJsonAnswer(sentAsJson(answer), 'peer');
    assert.deepEqual(decoded.usage, usage);
    const { cacheWrite1hInputTokens: _, ...older } = usage;
    assert.ok(!('cacheWrite1hInputTokens' in decodeUsage(older)));
    assert.ok(
      !('cacheWrite1hInputTokens' in decodeUsage({ ...usage, cacheWrite1hInputTokens: 0 })),
    );
    assert.throws(
      () => decodeUsage({ ...usage, cacheWrite1hInputTokens: 'many' }),
      /usage\.cacheWrite1hInputTokens/,
    );
  });

  it('carries image input tokens; none from an older peer is none', () => {
    const usage = {
      inputTokens: 1300,
      outputTokens: 4160,
      cachedInputTokens: 0,
      imageInputTokens: 1200,
      images: 1,
      source: 'reported' as const,
    };
    const answer = {
      kind: 'json' as const,
      status: 200,
      body: { data: [] },
      usage,
      servedBy: { backend: 'b', provider: 'openai', model: 'gpt-image-1' },
    };
    const decoded = decodeJsonAnswer(sentAsJson(answer), 'peer');
    assert.deepEqual(decoded.usage, usage);
    const { imageInputTokens: _, ...older } = usage;
    assert.ok(!('imageInputTokens' in decodeUsage(older)));
    assert.ok(!('imageInputTokens' in decodeUsage({ ...usage, imageInputTokens: 0 })));
    assert.throws(
      () => decodeUsage({ ...usage, imageInputTokens: 'many' }),
      /usage\.imageInputTokens/,
    );
  });

  it('carries image output tokens; none from an older peer is none', () => {
    const usage = {
      inputTokens: 50,
      outputTokens: 4280,
      cachedInputTokens: 0,
      imageOutputTokens: 4160,
      images: 1,
      source: 'reported' as const,
    };
    const answer = {
      kind: 'json' as const,
      status: 200,
      body: { data: [] },
      usage,
      servedBy: { backend: 'b', provider: 'openai', model: 'gpt-image-1.5' },
    };
    const decoded = decodeJsonAnswer(sentAsJson(answer), 'peer');
    assert.deepEqual(decoded.usage, usage);
    const { imageOutputTokens: _, ...older } = usage;
    assert.ok(!('imageOutputTokens' in decodeUsage(older)));
    assert.ok(!('imageOutputTokens' in decodeUsage({ ...usage, imageOutputTokens: 0 })));
    assert.throws(
      () => decodeUsage({ ...usage, imageOutputTokens: -1 }),
      /usage\.imageOutputTokens/,
    );
  });
});

describe('wire messages for server tools', () => {
  const usage = {
    inputTokens: 40,
    outputTokens: 12,
    cachedInputTokens: 0,
    serverToolRequests: { web_search: 2, web_fetch: 1 },
    source: 'reported' as const,
  };

  it('carries the server tool runs, so the edge prices the searches; none from an older peer', () => {
    const answer = {
      kind: 'json' as const,
      status: 200,
      body: { id: 'msg' },
      usage,
      servedBy: { backend: 'b', provider: 'anthropic', model: 'claude-sonnet-4-5' },
    };
    assert.deepEqual(decodeJsonAnswer(sentAsJson(answer), 'peer').usage, usage);
    const { serverToolRequests: _, ...older } = usage;
    assert.ok(!('serverToolRequests' in decodeUsage(older)));
    assert.ok(
      !('serverToolRequests' in decodeUsage({ ...usage, serverToolRequests: { web_search: 0 } })),
    );
  });

  it("leaves out a newer peer's tool, and refuses a count that is not one", () => {
    const newer = { ...usage, serverToolRequests: { web_search: 1, tool_search: 3 } };
    assert.deepEqual(decodeUsage(newer).serverToolRequests, { web_search: 1 });
    for (const bad of [-1, 1.5, '2']) {
      assert.throws(
        () => decodeUsage({ ...usage, serverToolRequests: { web_search: bad } }),
        /usage\.serverToolRequests\.web_search/,
      );
    }
    assert.throws(
      () => decodeUsage({ ...usage, serverToolRequests: [2] }),
      /usage\.serverToolRequests/,
    );
  });
});

describe('wire messages for audio', () => {
  const audio: GatewayRequest = {
    ...request,
    operation: 'transcriptions',
    stream: false,
    body: { model: 'stt', 'timestamp_granularities[]': ['word', 'segment'] },
    uploads: [
      {
        field: 'file',
        filename: 'clip.wav',
        contentType: 'audio/wav',
        // A view into a larger buffer: only its own bytes may travel.
        data: Buffer.from('xxRIFF\u0000\u00ff\r\n--yy').subarray(2, 12),
      },
      { field: 'mask', filename: 'm.png', contentType: 'image/png', data: Buffer.from([1, 2]) },
    ],
  };

  it('carries the uploaded file as base64 and gives back the same bytes', () => {
    const wire = JSON.parse(encodeRouteRequest(audio)) as { request: { uploads: JsonObject[] } };
    const sent = audio.uploads ?? [];
    assert.equal(wire.request.uploads[0].base64, Buffer.from(sent[0].data).toString('base64'));
    const decoded = decodeRouteRequest(wire);
    assert.equal(decoded.uploads?.length, 2);
    (decoded.uploads ?? []).forEach((upload, index) => {
      assert.deepEqual(Buffer.from(upload.data), Buffer.from(sent[index].data));
      assert.equal(upload.field, sent[index].field);
    });
    assert.deepEqual({ ...decoded, uploads: undefined }, { ...audio, uploads: undefined });
    const invoked = decodeInvokeRequest(
      JSON.parse(encodeInvokeRequest(audio, { backendName: 'b', provider: 'openai', model: 'm' })),
    );
    assert.equal(invoked.request.uploads?.[0].filename, 'clip.wav');
    assert.throws(
      () => decodeRouteRequest({ request: { ...wire.request, uploads: [{ field: 'file' }] } }),
      /request\.uploads\[\]\.filename/,
    );
    assert.throws(
      () => decodeRouteRequest({ request: { ...wire.request, uploads: {} } }),
      /request\.uploads/,
    );
  });

  it("keeps a text answer's media type and a per-minute call's seconds", () => {
    const answer = {
      kind: 'json' as const,
      status: 200,
      body: { text: 'WEBVTT\n' },
      mediaType: 'text/vtt',
      usage: {
        inputTokens: 0,
        outputTokens: 2,
        cachedInputTokens: 0,
        audioSeconds: 12.5,
        source: 'reported' as const,
      },
      servedBy: { backend: 'b', provider: 'openai', model: 'whisper-1' },
    };
    const decoded = decodeJsonAnswer(sentAsJson(answer), 'peer');
    assert.equal(decoded.mediaType, 'text/vtt');
    assert.equal(decoded.usage.audioSeconds, 12.5);
    assert.equal(decodeUsage({ ...answer.usage, characters: 4096 }).characters, 4096);
    const drawn = decodeUsage({ ...answer.usage, images: 2, imageVariant: 'hd/1024x1024' });
    assert.equal(drawn.images, 2);
    assert.equal(drawn.imageVariant, 'hd/1024x1024');
    assert.throws(() => decodeUsage({ ...answer.usage, imageVariant: 3 }), /usage\.imageVariant/);
    assert.equal(decodeUsage({ ...answer.usage, searches: 2 }).searches, 2);
    assert.equal(decodeUsage(answer.usage).searches, undefined, 'an older peer sends none');
    assert.throws(() => decodeUsage({ ...answer.usage, searches: -1 }), /usage\.searches/);
    assert.throws(() => decodeUsage({ ...answer.usage, characters: 'many' }), /usage\.characters/);
    const tokens = {
      ...answer.usage,
      audioSeconds: undefined,
      inputTokens: 50,
      audioInputTokens: 40,
    };
    assert.equal(decodeUsage(JSON.parse(JSON.stringify(tokens))).audioInputTokens, 40);
    // What gpt-audio and gpt-realtime spoke, billed at their audio output rate: the ingress
    // prices the cost header from what the provider-adapter sent.
    const spoken = { ...tokens, outputTokens: 300, audioOutputTokens: 250 };
    assert.equal(decodeUsage(JSON.parse(JSON.stringify(spoken))).audioOutputTokens, 250);
    assert.ok(!('audioOutputTokens' in decodeUsage(tokens)), 'an older peer sends none');
    assert.throws(
      () => decodeUsage({ ...spoken, audioOutputTokens: -1 }),
      /usage\.audioOutputTokens/,
    );
    assert.throws(() => decodeUsage({ ...answer.usage, audioSeconds: -1 }), /usage\.audioSeconds/);
  });
});

describe('wire errors', () => {
  it('keep the internal code, Retry-After and upstream status across the hop', () => {
    for (const code of Object.values(DataPlaneErrorCode)) {
      const error = new DataPlaneError(code, 'm', { retryAfterMs: 1500, upstreamStatus: 429 });
      const body: unknown = JSON.parse(JSON.stringify(encodeWireError(error)));
      const rebuilt = decodeWireError(body, error.httpStatus);
      assert.equal(rebuilt.code, code);
      assert.equal(rebuilt.trigger, error.trigger);
      assert.equal(rebuilt.retryAfterMs, 1500);
      assert.equal(rebuilt.upstreamStatus, 429);
      assert.equal(DataPlaneError.fromWire(body, error.httpStatus).code, code);
    }
  });

  it("keep a provider's own error code across the hop, and drop one that is not code-like", () => {
    const refused = new DataPlaneError(DataPlaneErrorCode.UpstreamRejected, 'too long', {
      upstreamCode: 'context_length_exceeded',
      param: 'messages',
    });
    const body = JSON.parse(JSON.stringify(encodeWireError(refused))) as {
      error: { upstreamCode?: string };
    };
    const rebuilt = decodeWireError(body, 400);
    assert.equal(rebuilt.upstreamCode, 'context_length_exceeded');
    assert.equal(rebuilt.toOpenAiBody().error.code, 'context_length_exceeded');
    assert.equal(rebuilt.param, 'messages');
    body.error.upstreamCode = '<script>alert(1)</script>';
    const junk = decodeWireError(body, 400);
    assert.equal(junk.upstreamCode, undefined);
    assert.equal(junk.toOpenAiBody().error.code, DataPlaneErrorCode.UpstreamRejected);
  });

  it("keep a per-model 429's x-ratelimit-* headers across the hop", () => {
    const headers = {
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '12s',
    };
    const error = new DataPlaneError(DataPlaneErrorCode.BudgetExceeded, 'm', {
      retryAfterMs: 12_000,
      headers,
    });
    const body: unknown = JSON.parse(JSON.stringify(encodeWireError(error)));
    const rebuilt = decodeWireError(body, error.httpStatus);
    assert.deepEqual(rebuilt.headers, headers);
    assert.equal(rebuilt.retryAfterMs, 12_000);
  });

  it('drop header values that are not strings', () => {
    const body = {
      error: { message: 'm', type: 't', code: 'budget_exceeded', param: null, headers: { a: 1 } },
    };
    assert.equal(decodeWireError(body, 429).headers, undefined);
  });

  it('classify a body that is not ours by its status', () => {
    assert.equal(decodeWireError('<html>', 503).code, DataPlaneErrorCode.UpstreamError);
  });

  it('name both versions when a peer speaks another one', () => {
    assert.match(wireVersionError('2', 'the router').message, /"2".*speaks 1/);
    assert.match(wireVersionError(undefined, 'the router').message, /no x-aigw-wire header/);
  });
});

describe('stream frames', () => {
  it('split a byte stream into frames wherever the reads fall', async () => {
    const text =
      chunkFrame({ a: 'x\ny' }) +
      endFrame({
        inputTokens: 1,
        outputTokens: 1,
        cachedInputTokens: 0,
        source: 'reported',
      });
    for (let cut = 0; cut <= text.length; cut++) {
      const got = await lines(text.slice(0, cut), text.slice(cut));
      assert.equal(got.length, 2, `cut at ${cut}`);
      assert.deepEqual(framePayload(Buffer.from(got[0] ?? '')), { a: 'x\ny' });
    }
  });

  it('drop a trailing partial frame, so the stream reads as unfinished', async () => {
    assert.deepEqual(await lines('c{"a":1}\nu{"inp'), ['c{"a":1}\n']);
  });

  it('carry an error with its internal code', () => {
    const line = Buffer.from(
      errorFrame(new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'broke')),
    );
    assert.equal(line[0], FrameTag.Error);
    const error = decodeWireError(framePayload(line), 502);
    assert.equal(error.code, DataPlaneErrorCode.StreamInterrupted);
  });
});

describe('lazy chunks', () => {
  const line = () => Buffer.from(chunkFrame({ model: 'gpt-4', choices: [{ index: 0 }] }));

  it('stay raw when only renamed to the name they carry', () => {
    const chunk = lazyChunk(line(), 'gpt-4');
    chunk.model = 'gpt-4';
    assert.deepEqual(rawChunkLine(chunk), line());
  });

  it('pass through an async generator (which looks for `then`) unparsed', async () => {
    async function* relay(): AsyncGenerator<JsonObject> {
      yield lazyChunk(line(), 'gpt-4');
    }
    for await (const chunk of relay()) assert.ok(rawChunkLine(chunk));
    const withThen = lazyChunk(Buffer.from(chunkFrame({ then: 1 })), 'gpt-4');
    assert.equal(withThen.then, 1);
  });

  it('parse on first read and then behave as the object', () => {
    const chunk = lazyChunk(line(), 'gpt-4');
    assert.deepEqual(chunk.choices, [{ index: 0 }]);
    assert.equal(rawChunkLine(chunk), undefined);
    assert.deepEqual(JSON.parse(JSON.stringify(chunk)), {
      model: 'gpt-4',
      choices: [{ index: 0 }],
    });
  });

  it('parse when renamed to another name, so the change is never lost', () => {
    const chunk: JsonObject = lazyChunk(line(), 'gpt-4');
    chunk.model = 'other';
    assert.equal(rawChunkLine(chunk), undefined);
    assert.deepEqual({ ...chunk }, { model: 'other', choices: [{ index: 0 }] });
  });
});
