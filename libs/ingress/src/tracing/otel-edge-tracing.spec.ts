import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { GatewayEndpoint } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type ServedBy,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { startTracing, type Tracing } from '@aigw/observability';
import { edgeTracing, type EdgeTracing } from './edge-tracing';

// A client's W3C trace context (the specification's own example ids).
const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN_ID = '00f067aa0ba902b7';
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`;

const PROMPT = 'the secret plan for the surprise party';
const ANSWER = 'bring cake at noon';
const API_KEY = 'sk-live-do-not-leak';

function chatRequest(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'chat',
    requestedModel: 'gpt-4o',
    stream: false,
    clientWantsStreamUsage: false,
    body: {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 256,
      temperature: 0.2,
    },
    caller: { userKey: 'alice', tier: 'gold' },
    allowedModels: [],
    forwardHeaders: {},
    ...overrides,
  };
}

const SERVED: ServedBy = {
  backend: 'openai-primary',
  provider: 'openai',
  model: 'gpt-4o-2024-08-06',
  attempts: 2,
};
const USAGE: TokenUsage = {
  inputTokens: 12,
  outputTokens: 5,
  cachedInputTokens: 0,
  source: 'reported',
};

const hrMillis = ([seconds, nanos]: [number, number]) => seconds * 1e3 + nanos / 1e6;

describe('the edge span of a model call', () => {
  let tracing: Tracing;
  let exporter: InMemorySpanExporter;
  let edge: EdgeTracing;

  async function start(): Promise<void> {
    exporter = new InMemorySpanExporter();
    tracing = await startTracing({ serviceName: 'ai-gateway-test', export: exporter });
    edge = await edgeTracing(tracing);
  }

  async function exported(): Promise<ReadableSpan[]> {
    await tracing.flush();
    return exporter.getFinishedSpans();
  }

  afterEach(() => tracing?.shutdown());

  it('is a SERVER span named by the GenAI conventions, with the request, the backend and the tokens', async () => {
    await start();
    const startedAt = performance.now();
    edge.open('req-1', 'chat', {}, startedAt);
    edge.completed(
      GatewayEndpoint.ChatCompletions,
      chatRequest(),
      SERVED,
      { ...USAGE, cachedInputTokens: 4, cacheWriteInputTokens: 3 },
      { startedAt },
      { cached: false },
    );
    const [span] = await exported();
    assert.equal(span.name, 'chat gpt-4o');
    assert.equal(span.kind, SpanKind.SERVER);
    assert.deepEqual(span.attributes, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.max_tokens': 256,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.usage.cache_read.input_tokens': 4,
      'gen_ai.usage.cache_write.input_tokens': 3,
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'ai_gateway.endpoint': 'chat.completions',
      'ai_gateway.request_id': 'req-1',
      'ai_gateway.user': 'alice',
      'ai_gateway.tier': 'gold',
      'ai_gateway.stream': false,
      'ai_gateway.backend': 'openai-primary',
      'ai_gateway.attempts': 2,
      'ai_gateway.cached': false,
      'ai_gateway.usage.source': 'reported',
    });
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    // Started when the request reached the edge, not when the span was made.
    const startMs = hrMillis(span.startTime);
    assert.ok(Math.abs(startMs - (performance.timeOrigin + startedAt)) < 1, `${startMs}`);
    assert.equal(span.resource.attributes['service.name'], 'ai-gateway-test');
  });

  it("names the conventions' provider and operation: Bedrock embeddings, a completion from vLLM", async () => {
    await start();
    edge.open('e', 'embeddings', {});
    edge.completed(
      GatewayEndpoint.Embeddings,
      chatRequest({
        requestId: 'e',
        operation: 'embeddings',
        requestedModel: 'titan',
        body: { input: 'x' },
      }),
      { backend: 'b', provider: 'bedrock', model: 'amazon.titan-embed-text-v2:0' },
      USAGE,
      { startedAt: 0 },
    );
    edge.open('c', 'completions', {});
    edge.completed(
      GatewayEndpoint.Completions,
      chatRequest({
        requestId: 'c',
        operation: 'completions',
        requestedModel: 'llama',
        body: { prompt: 'x' },
      }),
      { backend: 'v', provider: 'vllm', model: 'llama-3' },
      { ...USAGE, source: 'estimated' },
      { startedAt: 0 },
      { cached: true },
    );
    const [embeddings, completion] = await exported();
    assert.equal(embeddings.name, 'embeddings titan');
    assert.equal(embeddings.attributes['gen_ai.operation.name'], 'embeddings');
    assert.equal(embeddings.attributes['gen_ai.provider.name'], 'aws.bedrock');
    assert.equal(embeddings.attributes['gen_ai.request.max_tokens'], undefined);
    assert.equal(completion.name, 'text_completion llama');
    assert.equal(completion.attributes['gen_ai.provider.name'], 'vllm');
    assert.equal(completion.attributes['ai_gateway.cached'], true);
    assert.equal(completion.attributes['ai_gateway.usage.source'], 'estimated');
  });

  it("continues the client's trace and names itself in the headers for the provider", async () => {
    await start();
    const headers = edge.open('req-1', 'chat', {
      traceparent: CLIENT_TRACEPARENT,
      tracestate: 'vendor=opaque',
    });
    edge.completed(GatewayEndpoint.ChatCompletions, chatRequest(), SERVED, USAGE, { startedAt: 0 });
    const [span] = await exported();
    const { traceId, spanId } = span.spanContext();
    assert.equal(traceId, CLIENT_TRACE_ID);
    assert.equal(span.parentSpanContext?.spanId, CLIENT_SPAN_ID);
    assert.equal(span.parentSpanContext?.isRemote, true);
    assert.deepEqual(headers, {
      traceparent: `00-${CLIENT_TRACE_ID}-${spanId}-01`,
      tracestate: 'vendor=opaque',
    });
  });

  it('starts a trace of its own when the client sent none, or an invalid one', async () => {
    await start();
    const none = edge.open('a', 'chat', {});
    const invalid = edge.open('b', 'chat', { traceparent: '00-not-a-trace-01' });
    edge.completed(
      GatewayEndpoint.ChatCompletions,
      chatRequest({ requestId: 'a' }),
      SERVED,
      USAGE,
      { startedAt: 0 },
    );
    edge.completed(
      GatewayEndpoint.ChatCompletions,
      chatRequest({ requestId: 'b' }),
      SERVED,
      USAGE,
      { startedAt: 0 },
    );
    const spans = await exported();
    assert.equal(spans.length, 2);
    for (const [span, headers] of [
      [spans[0], none],
      [spans[1], invalid],
    ] as const) {
      assert.equal(span.parentSpanContext, undefined);
      const { traceId, spanId } = span.spanContext();
      assert.notEqual(traceId, CLIENT_TRACE_ID);
      assert.deepEqual(headers, { traceparent: `00-${traceId}-${spanId}-01` });
    }
  });

  it('records a failure as an ERROR span with the error code, never its message', async () => {
    await start();
    edge.open('req-1', 'chat', {});
    const error = new DataPlaneError(
      DataPlaneErrorCode.UpstreamError,
      `backend "openai-primary" answered 500: cannot process "${PROMPT}"`,
    );
    edge.failed({
      requestId: 'req-1',
      endpoint: GatewayEndpoint.ChatCompletions,
      request: chatRequest(),
      error,
      timings: { startedAt: 0 },
      accepted: true,
    });
    const [span] = await exported();
    assert.equal(span.name, 'chat gpt-4o');
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: 'UPSTREAM.ERROR' });
    assert.equal(span.attributes['error.type'], 'UPSTREAM.ERROR');
    assert.equal(span.attributes['http.response.status_code'], error.httpStatus);
    assert.equal(span.attributes['gen_ai.request.model'], 'gpt-4o');
    assert.equal(span.attributes['gen_ai.response.model'], undefined);
  });

  it('leaves the status unset when the client hung up, with the status it had been sent', async () => {
    await start();
    edge.open('req-1', 'chat', {});
    edge.failed({
      requestId: 'req-1',
      endpoint: GatewayEndpoint.ChatCompletions,
      request: chatRequest({ stream: true }),
      error: new DataPlaneError(DataPlaneErrorCode.Internal, 'the client disconnected'),
      timings: { startedAt: 0 },
      accepted: true,
      clientGone: true,
      statusSent: 200,
    });
    const [span] = await exported();
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes['error.type'], undefined);
    assert.equal(span.attributes['ai_gateway.client_gone'], true);
    assert.equal(span.attributes['http.response.status_code'], 200);
  });

  it('still records a request refused before it was prepared, from when it arrived', async () => {
    await start();
    const startedAt = performance.now() - 50;
    edge.failed({
      requestId: 'bad-body',
      endpoint: GatewayEndpoint.Messages,
      error: new DataPlaneError(DataPlaneErrorCode.InvalidRequest, "'max_tokens' is required"),
      timings: { startedAt },
      accepted: false,
    });
    const [span] = await exported();
    assert.equal(span.name, 'chat');
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.attributes['ai_gateway.request_id'], 'bad-body');
    assert.equal(span.attributes['ai_gateway.endpoint'], 'messages');
    assert.equal(span.attributes['http.response.status_code'], 400);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.ok(hrMillis(span.duration) >= 49, `${hrMillis(span.duration)} ms`);
  });

  it('carries no prompt, no answer and no header in any attribute', async () => {
    await start();
    const headers = {
      authorization: `Bearer ${API_KEY}`,
      'x-custom-header': 'private-value',
      traceparent: CLIENT_TRACEPARENT,
    };
    edge.open('req-1', 'chat', headers);
    edge.completed(
      GatewayEndpoint.ChatCompletions,
      chatRequest({ forwardHeaders: { 'x-custom-header': 'private-value' } }),
      SERVED,
      USAGE,
      { startedAt: 0 },
    );
    edge.open('req-2', 'chat', headers);
    edge.failed({
      requestId: 'req-2',
      endpoint: GatewayEndpoint.ChatCompletions,
      request: chatRequest({ requestId: 'req-2' }),
      error: new DataPlaneError(DataPlaneErrorCode.UpstreamBadResponse, `said "${ANSWER}"`),
      timings: { startedAt: 0 },
      accepted: true,
    });
    const spans = await exported();
    assert.equal(spans.length, 2);
    const text = JSON.stringify(spans.map((span) => [span.name, span.attributes, span.status]));
    for (const secret of [
      PROMPT,
      ANSWER,
      API_KEY,
      'private-value',
      'authorization',
      'x-custom-header',
      CLIENT_SPAN_ID,
    ]) {
      assert.ok(!text.includes(secret), `a span carries "${secret}": ${text}`);
    }
  });

  it('keeps two calls that share a request id apart, by the span their headers name', async () => {
    await start();
    const first = edge.open('same', 'chat', {});
    const second = edge.open('same', 'chat', {});
    // The second is answered first: it gets its own span, found by its forwarded headers.
    edge.completed(
      GatewayEndpoint.ChatCompletions,
      chatRequest({ requestId: 'same', requestedModel: 'second', forwardHeaders: { ...second } }),
      SERVED,
      USAGE,
      { startedAt: 0 },
    );
    edge.completed(
      GatewayEndpoint.ChatCompletions,
      chatRequest({ requestId: 'same', requestedModel: 'first', forwardHeaders: { ...first } }),
      SERVED,
      USAGE,
      { startedAt: 0 },
    );
    const spans = await exported();
    const named = new Map(spans.map((span) => [span.name, span.spanContext().spanId]));
    assert.ok(first?.traceparent.includes(named.get('chat first')!));
    assert.ok(second?.traceparent.includes(named.get('chat second')!));
  });
});
