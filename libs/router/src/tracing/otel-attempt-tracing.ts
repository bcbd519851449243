// The attempts' spans on the OpenTelemetry API, loaded only when the service traces.
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import {
  DataPlaneError,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonObject,
  type StreamAnswer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { spanAttributes as attr, spanTime } from '@aigw/observability';
import type { AttemptEnd, AttemptSpan, AttemptTracing } from './attempt-tracing';

const propagator = new W3CTraceContextPropagator();

/** The conventions' fallback `error.type` for a failure of no known class. */
const OTHER_ERROR = '_OTHER';

/**
 * One CLIENT span per call to a backend, named and described by the GenAI semantic
 * conventions (`chat gpt-4o`, gen_ai.*, server.*) plus the gateway's own (ai_gateway.*).
 * Its parent is the edge's span (the request's trace context, else its forwarded
 * `traceparent`). It carries
 * counts, names and codes only: never prompt or answer text, an error's message, or a header.
 */
export class OtelAttemptTracing implements AttemptTracing {
  constructor(private readonly tracer: Tracer) {}

  start(
    request: GatewayRequest,
    target: UpstreamTarget,
    attempt: number,
    signal: AbortSignal,
  ): AttemptSpan {
    const parent = propagator.extract(
      ROOT_CONTEXT,
      request.traceContext ?? request.forwardHeaders,
      defaultTextMapGetter,
    );
    const operation = attr.GEN_AI_OPERATION[request.operation];
    const span = this.tracer.startSpan(
      `${operation} ${target.model}`,
      { kind: SpanKind.CLIENT, startTime: spanTime() },
      parent,
    );
    // A trace the sampler dropped still hands its context on, but records nothing.
    if (span.isRecording()) span.setAttributes(startAttributes(request, target, attempt));
    return new OtelAttemptSpan(span, withSpanHeaders(request, span), signal);
  }
}

class OtelAttemptSpan implements AttemptSpan {
  private readonly startedAt = performance.now();
  private ended = false;

  constructor(
    private readonly span: Span,
    readonly request: GatewayRequest,
    private readonly signal: AbortSignal,
  ) {}

  answered(answer: GatewayAnswer): GatewayAnswer {
    if (answer.kind === 'stream') return this.streaming(answer);
    if (this.span.isRecording()) {
      this.span.setAttributes({
        ...servedAttributes(answer),
        ...answerAttributes(answer.body),
        ...attr.usageAttributes(answer.usage),
      });
    }
    this.end();
    return answer;
  }

  failed(error: unknown, end: AttemptEnd): void {
    if (end === 'clientGone') {
      // The client's doing, not a failure of the backend.
      this.span.setAttribute(attr.GATEWAY_CLIENT_GONE, true);
      this.end();
      return;
    }
    const type = error instanceof DataPlaneError ? error.code : OTHER_ERROR;
    this.span.setAttribute(ATTR_ERROR_TYPE, type);
    if (error instanceof DataPlaneError) {
      if (error.upstreamStatus !== undefined) {
        this.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, error.upstreamStatus);
      }
      const trigger = error.trigger;
      if (end === 'failover' && trigger !== undefined) {
        this.span.setAttribute(attr.GATEWAY_FAILOVER_TRIGGER, trigger);
      }
    }
    // The code only: an error's message may quote a provider, and so the prompt.
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: type });
    this.end();
  }

  /** The stream's events, relayed; the span ends when they end, fail or are left. */
  private streaming(answer: StreamAnswer): StreamAnswer {
    // The router hands a stream on once its first event arrived.
    if (this.span.isRecording()) {
      this.span.setAttributes({
        ...servedAttributes(answer),
        [attr.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]: (performance.now() - this.startedAt) / 1000,
      });
    }
    const events = answer.events;
    const finishReasons: string[] = [];
    let responseId: string | undefined;
    let closed = false;
    /** Ends the span once: awaited, so it has ended when the stream's consumer hears of it. */
    const close = async (outcome: { error?: unknown; clientGone?: boolean }): Promise<void> => {
      if (closed) return;
      closed = true;
      if (outcome.error !== undefined) {
        return this.failed(outcome.error, this.signal.aborted ? 'clientGone' : 'final');
      }
      // Every adapter settles the usage as its stream ends (or is left), so it is known by
      // now; the race takes it if so, and ends the span without it otherwise.
      const usage = await Promise.race([answer.usage, Promise.resolve(undefined)]).catch(
        () => undefined,
      );
      if (this.span.isRecording()) {
        this.span.setAttributes({
          ...(outcome.clientGone ? { [attr.GATEWAY_CLIENT_GONE]: true } : {}),
          ...(responseId === undefined ? {} : { [attr.GEN_AI_RESPONSE_ID]: responseId }),
          ...(finishReasons.length > 0
            ? { [attr.GEN_AI_RESPONSE_FINISH_REASONS]: finishReasons }
            : {}),
          ...(usage ? attr.usageAttributes(usage) : {}),
        });
      }
      this.end();
    };
    const traced: AsyncIterable<JsonObject> = {
      [Symbol.asyncIterator]: () => {
        const inner = events[Symbol.asyncIterator]();
        return {
          next: async () => {
            let result: IteratorResult<JsonObject>;
            try {
              result = await inner.next();
            } catch (error) {
              await close({ error });
              throw error;
            }
            if (result.done) await close({});
            else {
              responseId ??= typeof result.value.id === 'string' ? result.value.id : undefined;
              collectFinishReasons(result.value, finishReasons);
            }
            return result;
          },
          return: async (value?: unknown) => {
            // Asked to stop before the end: the client left (or the edge gave up on it).
            try {
              return (await inner.return?.(value)) ?? { done: true, value: undefined };
            } finally {
              await close({ clientGone: true });
            }
          },
        };
      },
    };
    return { ...answer, events: traced };
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end(spanTime());
  }
}

/** What is known as the call starts: the operation, the backend and the request's settings. */
function startAttributes(
  request: GatewayRequest,
  target: UpstreamTarget,
  attempt: number,
): Attributes {
  const { body } = request;
  const maxTokens = body.max_tokens ?? body.max_completion_tokens;
  return {
    [attr.GEN_AI_OPERATION_NAME]: attr.GEN_AI_OPERATION[request.operation],
    [attr.GEN_AI_PROVIDER_NAME]: attr.GEN_AI_PROVIDER[target.provider] ?? target.provider,
    [attr.GEN_AI_REQUEST_MODEL]: target.model,
    [attr.GEN_AI_REQUEST_STREAM]: request.stream,
    ...(typeof maxTokens === 'number' ? { [attr.GEN_AI_REQUEST_MAX_TOKENS]: maxTokens } : {}),
    ...(typeof body.temperature === 'number'
      ? { [attr.GEN_AI_REQUEST_TEMPERATURE]: body.temperature }
      : {}),
    ...serverAttributes(target.baseUrl),
    [attr.GATEWAY_BACKEND]: target.backendName,
    [attr.GATEWAY_ATTEMPT]: attempt,
    [attr.GATEWAY_REQUEST_ID]: request.requestId,
  };
}

/** The backend's host and port; its path and any credentials in the URL stay out. */
function serverAttributes(baseUrl: string | undefined): Attributes {
  if (baseUrl === undefined || !URL.canParse(baseUrl)) return {};
  const url = new URL(baseUrl);
  const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  return { [ATTR_SERVER_ADDRESS]: url.hostname, [ATTR_SERVER_PORT]: port };
}

function servedAttributes(answer: GatewayAnswer): Attributes {
  return { [attr.GEN_AI_RESPONSE_MODEL]: answer.servedBy.model };
}

/** The answer's id and why each choice stopped; never its text. */
function answerAttributes(body: JsonObject): Attributes {
  const reasons: string[] = [];
  collectFinishReasons(body, reasons);
  return {
    ...(typeof body.id === 'string' ? { [attr.GEN_AI_RESPONSE_ID]: body.id } : {}),
    ...(reasons.length > 0 ? { [attr.GEN_AI_RESPONSE_FINISH_REASONS]: reasons } : {}),
  };
}

function collectFinishReasons(object: JsonObject, into: string[]): void {
  const choices = object.choices;
  if (!Array.isArray(choices)) return;
  for (const choice of choices as JsonObject[]) {
    const reason = choice?.finish_reason;
    if (typeof reason === 'string') into.push(reason);
  }
}

/**
 * The request with its `traceparent` naming the attempt's span, so the provider's spans
 * are the attempt's children. One without (the route strips it) is sent as it was, and
 * one without a tracestate (stripped, or the client sent none) gets none.
 */
function withSpanHeaders(request: GatewayRequest, span: Span): GatewayRequest {
  if (request.forwardHeaders.traceparent === undefined) return request;
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  if (!carrier.traceparent) return request;
  const { tracestate: previous, ...headers } = request.forwardHeaders;
  return {
    ...request,
    forwardHeaders: {
      ...headers,
      traceparent: carrier.traceparent,
      // None where the route stripped it: the span's, from the request's trace context,
      // would carry the client's on.
      ...(carrier.tracestate && previous !== undefined ? { tracestate: carrier.tracestate } : {}),
    },
  };
}
