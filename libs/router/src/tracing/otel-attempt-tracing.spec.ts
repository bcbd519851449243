import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type ProviderCall,
  type ProviderPort,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { startTracing, type Tracing } from '@aigw/observability';
import { FailoverRouter } from '../failover-router';
import { attemptTracing } from './attempt-tracing';

// The edge span's context, as the ingress puts it in the forwarded headers.
const EDGE_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const EDGE_SPAN_ID = '00f067aa0ba902b7';
const EDGE_TRACEPARENT = `00-${EDGE_TRACE_ID}-${EDGE_SPAN_ID}-01`;

const PROMPT = 'the secret plan for the surprise party';
const API_KEY = 'sk-live-do-not-leak';

function configFrom(yaml: string): GatewayConfig {
  const result = parseGatewayConfig(yaml, {
    missingSecrets: 'warn',
    env: { AI_GATEWAY_SECRET_LLM_KEY_APIKEY: API_KEY },
  });
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

const TWO_BACKENDS = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, priority: 0, provider: openai, model: gpt-4o, baseUrl: "https://api.openai.com/v1", auth: {apiKeyRef: {name: llm-key}}}
  - {name: secondary, priority: 1, provider: anthropic, model: claude-sonnet-4-5, modelNameOverride: gpt-4o, baseUrl: "http://claude.internal:8080", auth: {apiKeyRef: {name: llm-key}}}
  failover:
    on: [rateLimit, timeout, error]
`);

function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'chat',
    requestedModel: 'gpt-4o',
    stream: false,
    clientWantsStreamUsage: false,
    body: {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 64,
      temperature: 0.5,
    },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: { traceparent: EDGE_TRACEPARENT, 'x-client': 'kept' },
    ...overrides,
  };
}

const USAGE: TokenUsage = {
  inputTokens: 12,
  outputTokens: 5,
  cachedInputTokens: 4,
  cacheWriteInputTokens: 3,
  source: 'reported',
};

type Script = (call: ProviderCall) => Promise<GatewayAnswer>;

class ScriptedProviders implements ProviderPort {
  readonly calls: ProviderCall[] = [];
  constructor(private readonly script: Record<string, Script>) {}
  invoke(call: ProviderCall): Promise<GatewayAnswer> {
    this.calls.push(call);
    return (this.script[call.target.backendName] ?? answer)(call);
  }
}

const servedBy = (call: ProviderCall) => ({
  backend: call.target.backendName,
  provider: call.target.provider,
  model: `${call.target.model}-2024-08-06`,
});

const answer: Script = async (call) => ({
  kind: 'json',
  status: 200,
  body: {
    id: 'chatcmpl-1',
    model: call.target.model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'cake' }, finish_reason: 'stop' }],
  },
  usage: USAGE,
  servedBy: servedBy(call),
});

const fail =
  (code: DataPlaneErrorCode, upstreamStatus?: number): Script =>
  async () => {
    throw new DataPlaneError(code, `provider said: ${PROMPT}`, { upstreamStatus });
  };

/** A stream of `count` chunks, the last with a finish reason; broken after `breakAfter`. */
function stream(count: number, breakAfter?: number): Script {
  return async (call) => {
    let settle!: (usage: TokenUsage) => void;
    const usage = new Promise<TokenUsage>((resolve) => (settle = resolve));
    return {
      kind: 'stream',
      status: 200,
      usage,
      servedBy: servedBy(call),
      events: (async function* () {
        try {
          for (let i = 0; i < count; i++) {
            if (breakAfter !== undefined && i >= breakAfter) {
              throw new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'cut');
            }
            yield {
              id: 'chatcmpl-s',
              choices: [
                {
                  index: 0,
                  delta: { content: 'x' },
                  finish_reason: i === count - 1 ? 'length' : null,
                },
              ],
            };
          }
        } finally {
          settle(USAGE); // as every adapter does, at the stream's end
        }
      })(),
    };
  };
}

const noSleep = async () => undefined;

function traceparentIds(header: string | undefined): { traceId: string; spanId: string } {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(header));
  assert.ok(match, `not a traceparent: ${header}`);
  return { traceId: match[1], spanId: match[2] };
}

describe('the span of each upstream attempt', () => {
  let tracing: Tracing;
  let exporter: InMemorySpanExporter;

  async function tracedRouter(providers: ProviderPort, config = TWO_BACKENDS) {
    exporter = new InMemorySpanExporter();
    tracing = await startTracing({ serviceName: 'ai-gateway-test', export: exporter });
    return new FailoverRouter({
      config: () => config,
      providers,
      sleep: noSleep,
      tracing: await attemptTracing(tracing),
    });
  }

  async function exported(): Promise<ReadableSpan[]> {
    await tracing.flush();
    return exporter.getFinishedSpans();
  }

  afterEach(() => tracing?.shutdown());

  it('is one CLIENT span under the edge span, named and described by the GenAI conventions', async () => {
    const providers = new ScriptedProviders({});
    const router = await tracedRouter(providers);
    const routed = await router.route(request(), new AbortController().signal);
    assert.equal(routed.servedBy.backend, 'primary');

    const spans = await exported();
    assert.equal(spans.length, 1);
    const [span] = spans;
    assert.equal(span.name, 'chat gpt-4o');
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.spanContext().traceId, EDGE_TRACE_ID);
    assert.equal(span.parentSpanContext?.spanId, EDGE_SPAN_ID);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(span.attributes, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.stream': false,
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.temperature': 0.5,
      'server.address': 'api.openai.com',
      'server.port': 443,
      'ai_gateway.backend': 'primary',
      'ai_gateway.attempt': 1,
      'ai_gateway.request_id': 'req-1',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.usage.cache_read.input_tokens': 4,
      'gen_ai.usage.cache_write.input_tokens': 3,
      'ai_gateway.usage.source': 'reported',
    });
    const text = JSON.stringify(spans.map((s) => [s.attributes, s.events, s.status]));
    assert.ok(!text.includes(PROMPT) && !text.includes(API_KEY), text);

    // The provider is sent a traceparent naming the attempt's span, the rest as it was.
    const sent = providers.calls[0].request.forwardHeaders;
    assert.deepEqual(traceparentIds(sent.traceparent), {
      traceId: EDGE_TRACE_ID,
      spanId: span.spanContext().spanId,
    });
    assert.equal(sent['x-client'], 'kept');
  });

  it('gives a failover two spans: the failed one in error with its type and trigger, then the answer', async () => {
    const providers = new ScriptedProviders({
      primary: fail(DataPlaneErrorCode.UpstreamRateLimited, 429),
    });
    const router = await tracedRouter(providers);
    const routed = await router.route(request(), new AbortController().signal);
    assert.equal(routed.servedBy.backend, 'secondary');

    const [first, second] = await exported();
    assert.equal(first.name, 'chat gpt-4o');
    assert.equal(first.status.code, SpanStatusCode.ERROR);
    assert.equal(first.status.message, 'UPSTREAM.RATE_LIMITED');
    assert.equal(first.attributes['error.type'], 'UPSTREAM.RATE_LIMITED');
    assert.equal(first.attributes['http.response.status_code'], 429);
    assert.equal(first.attributes['ai_gateway.failover.trigger'], 'rateLimit');
    assert.equal(first.attributes['ai_gateway.attempt'], 1);
    assert.equal(first.attributes['gen_ai.response.model'], undefined);

    assert.equal(second.name, 'chat claude-sonnet-4-5');
    assert.equal(second.status.code, SpanStatusCode.UNSET);
    assert.equal(second.attributes['error.type'], undefined);
    assert.equal(second.attributes['ai_gateway.attempt'], 2);
    assert.equal(second.attributes['ai_gateway.backend'], 'secondary');
    assert.equal(second.attributes['gen_ai.provider.name'], 'anthropic');
    assert.equal(second.attributes['server.address'], 'claude.internal');
    assert.equal(second.attributes['server.port'], 8080);
    // Siblings under the edge span, each attempt's own span named to its provider.
    assert.equal(second.parentSpanContext?.spanId, EDGE_SPAN_ID);
    assert.deepEqual(
      providers.calls.map((call) => traceparentIds(call.request.forwardHeaders.traceparent).spanId),
      [first.spanContext().spanId, second.spanContext().spanId],
    );
    assert.ok(!JSON.stringify(first.status).includes(PROMPT));
  });

  it('marks no failover on the last attempt, nor on an error the route does not fail over on', async () => {
    const exhausted = new ScriptedProviders({
      primary: fail(DataPlaneErrorCode.UpstreamError, 503),
      secondary: fail(DataPlaneErrorCode.UpstreamTimeout),
    });
    await assert.rejects(
      (await tracedRouter(exhausted)).route(request(), new AbortController().signal),
    );
    const [first, last] = await exported();
    assert.equal(first.attributes['ai_gateway.failover.trigger'], 'error');
    assert.equal(last.status.code, SpanStatusCode.ERROR);
    assert.equal(last.attributes['error.type'], 'UPSTREAM.TIMEOUT');
    assert.equal(last.attributes['http.response.status_code'], undefined);
    assert.equal(last.attributes['ai_gateway.failover.trigger'], undefined);
    await tracing.shutdown();

    const refused = new ScriptedProviders({
      primary: fail(DataPlaneErrorCode.UpstreamRejected, 400),
    });
    await assert.rejects(
      (await tracedRouter(refused)).route(request(), new AbortController().signal),
    );
    const [only] = await exported();
    assert.equal(only.attributes['error.type'], 'UPSTREAM.REJECTED');
    assert.equal(only.attributes['ai_gateway.failover.trigger'], undefined);
    assert.equal(refused.calls.length, 1);
  });

  it("ends a stream's span when the stream ends, with its usage and finish reason", async () => {
    const providers = new ScriptedProviders({ primary: stream(3) });
    const router = await tracedRouter(providers);
    const routed = await router.route(request({ stream: true }), new AbortController().signal);
    assert.equal(routed.kind, 'stream');
    // Handed on at its first chunk: still open.
    assert.equal((await exported()).length, 0);
    let chunks = 0;
    if (routed.kind === 'stream') for await (const _ of routed.events) chunks++;
    assert.equal(chunks, 3);

    const [span] = await exported();
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes['gen_ai.request.stream'], true);
    assert.equal(span.attributes['gen_ai.response.id'], 'chatcmpl-s');
    assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['length']);
    assert.equal(span.attributes['gen_ai.usage.output_tokens'], 5);
    assert.equal(typeof span.attributes['gen_ai.response.time_to_first_chunk'], 'number');
  });

  it('ends a broken stream in error, and one the client left without error', async () => {
    const broken = new ScriptedProviders({ primary: stream(3, 1) });
    const router = await tracedRouter(broken);
    const routed = await router.route(request({ stream: true }), new AbortController().signal);
    await assert.rejects(async () => {
      if (routed.kind === 'stream') for await (const _ of routed.events);
    });
    const [failed] = await exported();
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.equal(failed.attributes['error.type'], 'UPSTREAM.STREAM_INTERRUPTED');
    await tracing.shutdown();

    const left = await tracedRouter(new ScriptedProviders({ primary: stream(3) }));
    const leftRouted = await left.route(request({ stream: true }), new AbortController().signal);
    if (leftRouted.kind === 'stream') {
      for await (const _ of leftRouted.events) break; // the client hung up after one chunk
    }
    const [gone] = await exported();
    assert.equal(gone.status.code, SpanStatusCode.UNSET);
    assert.equal(gone.attributes['ai_gateway.client_gone'], true);
    assert.equal(gone.attributes['gen_ai.usage.input_tokens'], 12);
  });

  it("ends a stream the client's abort broke without error", async () => {
    const client = new AbortController();
    const providers = new ScriptedProviders({
      primary: async (call) => {
        const streamed = await stream(3)(call);
        if (streamed.kind !== 'stream') return streamed;
        const inner = streamed.events;
        return {
          ...streamed,
          events: (async function* () {
            for await (const event of inner) {
              yield event;
              client.abort(new Error('the client hung up'));
              throw client.signal.reason;
            }
          })(),
        };
      },
    });
    const router = await tracedRouter(providers);
    const routed = await router.route(request({ stream: true }), client.signal);
    await assert.rejects(async () => {
      if (routed.kind === 'stream') for await (const _ of routed.events);
    });
    const [span] = await exported();
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes['ai_gateway.client_gone'], true);
    assert.equal(span.attributes['error.type'], undefined);
  });

  it("adds no traceparent for the provider when the route strips it, yet joins the edge's trace", async () => {
    const providers = new ScriptedProviders({});
    const router = await tracedRouter(providers);
    const stripped = request({
      forwardHeaders: { 'x-client': 'kept' },
      traceContext: { traceparent: EDGE_TRACEPARENT },
    });
    await router.route(stripped, new AbortController().signal);
    assert.equal(providers.calls[0].request, stripped);
    const [span] = await exported();
    assert.equal(span.spanContext().traceId, EDGE_TRACE_ID);
    assert.equal(span.parentSpanContext?.spanId, EDGE_SPAN_ID);
  });

  it('sends the tracestate only where the route kept it', async () => {
    const providers = new ScriptedProviders({});
    const router = await tracedRouter(providers);
    const edge = { traceparent: EDGE_TRACEPARENT, tracestate: 'congo=t61rcWkgMzE' };
    // The route strips tracestate alone: the edge's context still carries it, for the spans.
    await router.route(
      request({ forwardHeaders: { traceparent: EDGE_TRACEPARENT }, traceContext: edge }),
      new AbortController().signal,
    );
    await router.route(
      request({ forwardHeaders: { ...edge }, traceContext: edge }),
      new AbortController().signal,
    );
    const [stripped, kept] = providers.calls.map((call) => call.request.forwardHeaders);
    assert.ok(stripped.traceparent !== EDGE_TRACEPARENT, 'the attempt span is named');
    assert.equal(stripped.tracestate, undefined);
    assert.equal(kept.tracestate, 'congo=t61rcWkgMzE');
  });
});

describe('an untraced router', () => {
  it('sends the request as it came and hands the stream on without a tracing wrapper', async () => {
    const providers = new ScriptedProviders({ primary: stream(2) });
    const router = new FailoverRouter({ config: () => TWO_BACKENDS, providers, sleep: noSleep });
    const sent = request({ stream: true });
    const routed = await router.route(sent, new AbortController().signal);
    assert.equal(providers.calls[0].request, sent);
    // The router's own renaming generator, not the traced relay around it.
    assert.equal(
      routed.kind === 'stream' && Object.prototype.toString.call(routed.events),
      '[object AsyncGenerator]',
    );
  });
});
