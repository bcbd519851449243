// One span per upstream attempt, as the router sees it. The OpenTelemetry side
// (otel-attempt-tracing.ts) is loaded only by `attemptTracing`, when the service traces;
// with tracing off the router holds no AttemptTracing and builds nothing.
import type { GatewayAnswer, GatewayRequest, UpstreamTarget } from '@aigw/contracts/data-plane';
import type { Tracing } from '@aigw/observability';

/** Why a failed attempt's span ended: the router gave up, tried another, or the client left. */
export type AttemptEnd = 'final' | 'failover' | 'clientGone';

/** The span of one call to one backend, ended by exactly one of its methods. */
export interface AttemptSpan {
  /**
   * The request to send this attempt: when it carries a `traceparent` (the route does not
   * strip it), that header names this span, so the provider's spans hang under it.
   */
  readonly request: GatewayRequest;
  /** The backend answered: a JSON answer ends the span now, a stream when it ends. */
  answered(answer: GatewayAnswer): GatewayAnswer;
  failed(error: unknown, end: AttemptEnd): void;
}

export interface AttemptTracing {
  /**
   * Starts the CLIENT span of attempt `attempt` (from 1), a child of the request's span;
   * `signal` is the client's, whose abort ends a stream's span as the client's doing.
   */
  start(
    request: GatewayRequest,
    target: UpstreamTarget,
    attempt: number,
    signal: AbortSignal,
  ): AttemptSpan;
}

/** The attempts' tracing on a running tracer; loads the OpenTelemetry side. */
export async function attemptTracing(tracing: Tracing): Promise<AttemptTracing> {
  const { OtelAttemptTracing } = await import('./otel-attempt-tracing');
  return new OtelAttemptTracing(tracing.tracer);
}
