// The edge's spans on the OpenTelemetry API, loaded only when the service traces.
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
} from '@opentelemetry/semantic-conventions';
import { GatewayEndpoint } from '@aigw/contracts';
import type {
  GatewayRequest,
  Operation,
  RequestOverrides,
  ServedBy,
  TokenUsage,
} from '@aigw/contracts/data-plane';
import type { CompletionOutcome, RequestFailure, RequestTimings } from '../ingress-observer';
import type { EdgeTracing, TraceHeaders } from './edge-tracing';
import { spanAttributes as attr, spanTime } from '@aigw/observability';

type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Spans open at once beyond which the oldest is ended unanswered. Every request that opens
 * one ends it (answered or failed); this only bounds the memory a missed end would hold.
 */
export const MAX_OPEN_SPANS = 50_000;

const ANONYMOUS = 'anonymous';

const propagator = new W3CTraceContextPropagator();

interface OpenSpan {
  readonly span: Span;
  readonly operation: Operation;
}

/**
 * One SERVER span per model call, named and described by the GenAI semantic conventions
 * (`chat gpt-4o`, gen_ai.* attributes) plus the gateway's own (ai_gateway.*). It carries
 * counts, names and codes only: never prompt or answer text, and no header.
 */
export class OtelEdgeTracing implements EdgeTracing {
  /** By request id: a client may reuse one, so an id can hold more than one span. */
  private readonly spans = new Map<string, OpenSpan[]>();
  private openCount = 0;

  constructor(private readonly tracer: Tracer) {}

  open(
    requestId: string,
    operation: Operation,
    headers: IncomingHeaders,
    startedAt?: number,
  ): TraceHeaders | undefined {
    const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const span = this.startSpan(operation, requestId, parent, startedAt);
    this.remember(requestId, { span, operation });
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
    if (!carrier.traceparent) return undefined;
    return carrier.tracestate
      ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
      : { traceparent: carrier.traceparent };
  }

  started(): void {}
  finished(): void {}
  accepted(): void {}

  completed(
    endpoint: GatewayEndpoint,
    request: GatewayRequest,
    servedBy: ServedBy,
    usage: TokenUsage,
    _timings: RequestTimings,
    outcome?: CompletionOutcome,
  ): void {
    const open = this.take(request.requestId, request);
    if (!open) return;
    const { span } = open;
    span.updateName(spanName(open.operation, request.requestedModel));
    span.setAttributes({
      [attr.GATEWAY_ENDPOINT]: endpoint,
      ...requestAttributes(request),
      ...servedAttributes(servedBy, usage, outcome),
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
    });
    span.end(spanTime());
  }

  failed(failure: RequestFailure): void {
    const { requestId, endpoint, request, error, clientGone, statusSent } = failure;
    // No span yet when the body failed before it was prepared (a dialect refused it).
    const open = this.take(requestId, request) ?? {
      span: this.startSpan(
        endpointOperation(endpoint),
        requestId,
        ROOT_CONTEXT,
        failure.timings.startedAt,
      ),
      operation: endpointOperation(endpoint),
    };
    const { span } = open;
    if (request) span.updateName(spanName(open.operation, request.requestedModel));
    const status = clientGone ? statusSent : (statusSent ?? error.httpStatus);
    span.setAttributes({
      [attr.GATEWAY_ENDPOINT]: endpoint,
      ...(request ? requestAttributes(request) : {}),
      ...(status === undefined ? {} : { [ATTR_HTTP_RESPONSE_STATUS_CODE]: status }),
    });
    if (clientGone) {
      // The client's doing, not a failure of the call.
      span.setAttribute(attr.GATEWAY_CLIENT_GONE, true);
    } else {
      span.setAttribute(ATTR_ERROR_TYPE, error.code);
      // The code only: an error's message may quote a provider, and so the prompt.
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
    }
    span.end(spanTime());
  }

  private startSpan(
    operation: Operation,
    requestId: string,
    parent: Context,
    startedAt: number | undefined,
  ): Span {
    return this.tracer.startSpan(
      attr.GEN_AI_OPERATION[operation],
      {
        kind: SpanKind.SERVER,
        startTime: spanTime(startedAt),
        attributes: {
          [attr.GEN_AI_OPERATION_NAME]: attr.GEN_AI_OPERATION[operation],
          [ATTR_HTTP_REQUEST_METHOD]: 'POST',
          [attr.GATEWAY_REQUEST_ID]: requestId,
        },
      },
      parent,
    );
  }

  private remember(requestId: string, open: OpenSpan): void {
    if (this.openCount >= MAX_OPEN_SPANS) this.dropOldest();
    const same = this.spans.get(requestId);
    if (same) same.push(open);
    else this.spans.set(requestId, [open]);
    this.openCount++;
  }

  /** The request's open span: the one its forwarded headers name, else the oldest. */
  private take(requestId: string, request: GatewayRequest | undefined): OpenSpan | undefined {
    const same = this.spans.get(requestId);
    if (!same) return undefined;
    const named = request?.traceContext?.traceparent ?? request?.forwardHeaders.traceparent;
    const index = Math.max(
      0,
      same.findIndex((open) => named?.includes(open.span.spanContext().spanId)),
    );
    const [open] = same.splice(index, 1);
    if (same.length === 0) this.spans.delete(requestId);
    this.openCount--;
    return open;
  }

  private dropOldest(): void {
    const [requestId] = this.spans.keys();
    if (requestId === undefined) return;
    this.take(requestId, undefined)?.span.end(spanTime());
  }
}

function spanName(operation: Operation, model: string): string {
  return `${attr.GEN_AI_OPERATION[operation]} ${model}`;
}

function endpointOperation(endpoint: GatewayEndpoint): Operation {
  switch (endpoint) {
    case GatewayEndpoint.Completions:
      return 'completions';
    case GatewayEndpoint.Embeddings:
    case GatewayEndpoint.GeminiEmbedContent:
    case GatewayEndpoint.GeminiBatchEmbedContents:
      return 'embeddings';
    case GatewayEndpoint.AudioTranscriptions:
      return 'transcriptions';
    case GatewayEndpoint.AudioTranslations:
      return 'translations';
    case GatewayEndpoint.AudioSpeech:
      return 'speech';
    case GatewayEndpoint.ImagesGenerations:
      return 'images';
    case GatewayEndpoint.ImagesEdits:
      return 'image-edits';
    case GatewayEndpoint.ImagesVariations:
      return 'image-variations';
    case GatewayEndpoint.Moderations:
      return 'moderations';
    case GatewayEndpoint.Rerank:
      return 'rerank';
    case GatewayEndpoint.Realtime:
      return 'realtime';
    default:
      return 'chat';
  }
}

/** What the client asked for: the model and the sampling settings, never the prompt. */
function requestAttributes(request: GatewayRequest): Attributes {
  const { body, caller } = request;
  const maxTokens = body.max_tokens ?? body.max_completion_tokens;
  return {
    [attr.GEN_AI_REQUEST_MODEL]: request.requestedModel,
    [attr.GATEWAY_STREAM]: request.stream,
    ...(typeof maxTokens === 'number' ? { [attr.GEN_AI_REQUEST_MAX_TOKENS]: maxTokens } : {}),
    ...(typeof body.temperature === 'number'
      ? { [attr.GEN_AI_REQUEST_TEMPERATURE]: body.temperature }
      : {}),
    ...(caller.userKey === ANONYMOUS ? {} : { [attr.GATEWAY_USER]: caller.userKey }),
    ...(caller.tier === undefined ? {} : { [attr.GATEWAY_TIER]: caller.tier }),
    ...(request.overrides ? { [attr.GATEWAY_OVERRIDES]: overrideNames(request.overrides) } : {}),
  };
}

/** Which overrides the client sent, as the metric names them. */
function overrideNames(overrides: RequestOverrides): string[] {
  const names: string[] = [];
  if (overrides.timeoutMs !== undefined) names.push('timeout');
  if (overrides.retries !== undefined) names.push('retries');
  if (overrides.fallback === false) names.push('fallback');
  return names;
}

/** Who answered and what it cost in tokens. */
function servedAttributes(
  servedBy: ServedBy,
  usage: TokenUsage,
  outcome: CompletionOutcome | undefined,
): Attributes {
  return {
    [attr.GEN_AI_RESPONSE_MODEL]: servedBy.model,
    [attr.GEN_AI_PROVIDER_NAME]: attr.GEN_AI_PROVIDER[servedBy.provider] ?? servedBy.provider,
    ...attr.usageAttributes(usage),
    [attr.GATEWAY_BACKEND]: servedBy.backend,
    [attr.GATEWAY_CACHED]: outcome?.cached ?? false,
    ...(servedBy.attempts === undefined ? {} : { [attr.GATEWAY_ATTEMPTS]: servedBy.attempts }),
  };
}
