// Distributed tracing at the edge, as the rest of the edge sees it. The OpenTelemetry side
// (otel-edge-tracing.ts) is loaded only by `edgeTracing`, when the service traces.
import type { Operation } from '@aigw/contracts/data-plane';
import type { Tracing } from '@aigw/observability';
import type { IngressObserver } from '../ingress-observer';

type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** The W3C Trace Context headers that name one span. */
export interface TraceHeaders {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/**
 * One span per model call. `open` starts it as the request is prepared (its parent is the
 * client's `traceparent`, when valid) and returns the headers naming it, which the provider
 * is sent instead of the client's, so the provider call is its child in every deployment
 * shape (the headers travel with the request). The observer half ends it: answered in full,
 * or failed.
 */
export interface EdgeTracing extends IngressObserver {
  open(
    requestId: string,
    operation: Operation,
    headers: IncomingHeaders,
    /** `performance.now()` when the request reached the edge; now if not given. */
    startedAt?: number,
  ): TraceHeaders | undefined;
}

/** The edge's tracing on a running tracer; loads the OpenTelemetry side. */
export async function edgeTracing(tracing: Tracing): Promise<EdgeTracing> {
  const { OtelEdgeTracing } = await import('./otel-edge-tracing');
  return new OtelEdgeTracing(tracing.tracer);
}
