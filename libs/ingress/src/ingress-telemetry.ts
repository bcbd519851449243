import { BudgetRefusal } from '@aigw/budget-core';
import {
  CompletionStatus,
  createRequestAccepted,
  createRequestCompleted,
  createRequestPayloadLogged,
  createRequestRejected,
  RejectReason,
  type GatewayEndpoint,
  type EventPublisher,
} from '@aigw/contracts';
import {
  DataPlaneErrorCode,
  type DataPlaneError,
  type GatewayRequest,
  type ServedBy,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import type { MetricsRegistry } from '@aigw/observability';
import { IdentityRejection, KeysUnavailable } from './identity/identity.errors';
import type { MediaUrlPart } from './domain/media-urls';
import type { KeyFetchResult } from './identity/remote-key-set';
import type {
  CompletionOutcome,
  IngressObserver,
  RequestFailure,
  RequestTimings,
} from './ingress-observer';
import type { LoggedPayload } from './payloads/payload-capture';
import type { AnswerBlock, AnswerRedactions } from './redaction/answer-guard';

/** Rejections decided at the edge, before any backend was tried. */
const REJECT_REASON: Partial<Record<DataPlaneErrorCode, RejectReason>> = {
  [DataPlaneErrorCode.InvalidRequest]: RejectReason.InvalidRequest,
  [DataPlaneErrorCode.NotFound]: RejectReason.InvalidRequest,
  [DataPlaneErrorCode.NotCached]: RejectReason.InvalidRequest,
  [DataPlaneErrorCode.BodyTooLarge]: RejectReason.PayloadTooLarge,
  [DataPlaneErrorCode.PromptBlocked]: RejectReason.BlockedContent,
  [DataPlaneErrorCode.ModelNotFound]: RejectReason.InvalidRequest,
  [DataPlaneErrorCode.ModelNotAllowed]: RejectReason.ModelNotAllowed,
  [DataPlaneErrorCode.NoBackendAvailable]: RejectReason.NoBackend,
  [DataPlaneErrorCode.BudgetExceeded]: RejectReason.BudgetExhausted,
  [DataPlaneErrorCode.BudgetUnavailable]: RejectReason.BudgetUnavailable,
  [DataPlaneErrorCode.Unauthenticated]: RejectReason.Unauthenticated,
  [DataPlaneErrorCode.Forbidden]: RejectReason.Forbidden,
};

function completionStatus(error: DataPlaneError): CompletionStatus {
  switch (error.code) {
    case DataPlaneErrorCode.UpstreamTimeout:
      return CompletionStatus.Timeout;
    case DataPlaneErrorCode.Internal:
      return CompletionStatus.GatewayError;
    default:
      return CompletionStatus.UpstreamError;
  }
}

const ms = (from: number, to: number) => Math.max(0, Math.round(to - from));

/** The metrics' status for a request whose client hung up first (nginx's 499). */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * Turns what the edge sees into request events and request metrics, and reports a request
 * that failed for a reason of our own (a bug, not bad input or a failing provider).
 */
export class IngressTelemetry implements IngressObserver {
  constructor(
    private readonly events: EventPublisher,
    private readonly metrics: MetricsRegistry,
    private readonly onUnexpected: (error: unknown, requestId: string) => void = () => undefined,
  ) {}

  started(endpoint: GatewayEndpoint): void {
    this.metrics.trackRequestInFlight(endpoint, 1);
  }

  finished(endpoint: GatewayEndpoint): void {
    this.metrics.trackRequestInFlight(endpoint, -1);
  }

  accepted(endpoint: GatewayEndpoint, request: GatewayRequest): void {
    this.events.publish(
      createRequestAccepted({
        requestId: request.requestId,
        partitionKey: request.caller.userKey,
        userId: request.caller.userKey,
        endpoint,
        modelRequested: request.requestedModel,
        stream: request.stream,
        tier: request.caller.tier,
      }),
    );
  }

  completed(
    endpoint: GatewayEndpoint,
    request: GatewayRequest,
    servedBy: ServedBy,
    usage: TokenUsage,
    timings: RequestTimings,
    outcome?: CompletionOutcome,
  ): void {
    const now = performance.now();
    this.events.publish(
      createRequestCompleted({
        requestId: request.requestId,
        partitionKey: request.caller.userKey,
        userId: request.caller.userKey,
        endpoint,
        status: CompletionStatus.Success,
        httpStatus: 200,
        latencyMs: ms(timings.startedAt, now),
        ttfbMs:
          timings.firstByteAt === undefined
            ? undefined
            : ms(timings.startedAt, timings.firstByteAt),
        provider: servedBy.provider,
        backend: servedBy.backend,
        route: servedBy.route,
        modelRequested: request.requestedModel,
        modelServed: servedBy.model,
        stream: request.stream,
        cached: outcome?.cached ?? false,
        attempts: outcome?.cached ? 0 : (servedBy.attempts ?? 1),
        tier: request.caller.tier,
      }),
    );
    this.metrics.recordRequest({ route: endpoint, status: 200 });
    // A reused answer's first chunk came from no provider: observed, it would drag the
    // provider's time to first token toward the cache's.
    if (request.stream && timings.firstByteAt !== undefined && !outcome?.cached) {
      const labels = {
        operation: request.operation,
        requestModel: request.requestedModel,
        responseModel: servedBy.model,
        provider: servedBy.provider,
      };
      this.metrics.observeTimeToFirstToken(
        labels,
        (timings.firstByteAt - timings.startedAt) / 1000,
      );
      // The tokens after the first, over the time after it: the wait for the first token
      // (a reasoning model's minute) is the time to first token's, no token's.
      if (usage.outputTokens > 1) {
        const seconds = (now - timings.firstByteAt) / 1000;
        this.metrics.observeTimePerOutputToken(labels, seconds / (usage.outputTokens - 1));
      }
    }
  }

  redacted(route: string, tally: ReadonlyMap<string, number>): void {
    for (const [detector, count] of tally) this.metrics.recordRedactions(detector, route, count);
  }

  answerRedacted(route: string, { part, counts }: AnswerRedactions): void {
    for (const [detector, count] of counts) {
      this.metrics.recordRedactions(detector, route, count, 'answer', part);
    }
  }

  answerBlocked(route: string, { rule, part }: AnswerBlock): void {
    this.metrics.recordAnswerBlocked(rule, route, part);
  }

  mediaUrlRefused(route: string, part: MediaUrlPart): void {
    this.metrics.recordMediaUrlRefused(route, part);
  }

  payloadLogged(payload: LoggedPayload): void {
    const { request, servedBy, requestBody, responseBody } = payload;
    this.events.publish(
      createRequestPayloadLogged({
        requestId: request.requestId,
        partitionKey: request.caller.userKey,
        userId: request.caller.userKey,
        endpoint: payload.endpoint,
        modelRequested: request.requestedModel,
        // Empty names are absent (events refuse an empty name).
        modelServed: servedBy?.model || undefined,
        provider: servedBy?.provider || undefined,
        backend: servedBy?.backend || undefined,
        stream: request.stream,
        httpStatus: payload.httpStatus,
        errorCode: payload.errorCode,
        startedAt: new Date(payload.startedAt).toISOString(),
        requestBody: requestBody.text,
        requestTruncated: requestBody.truncated,
        requestBytes: requestBody.bytes,
        responseBody: responseBody.text,
        responseTruncated: responseBody.truncated,
        responseBytes: responseBody.bytes,
        latencyMs: payload.latencyMs,
      }),
    );
    this.metrics.recordPayloadLogged(
      payload.route,
      requestBody.truncated || responseBody.truncated,
    );
  }

  payloadDropped(route: string, reason: 'sampled_out'): void {
    this.metrics.recordPayloadDropped(route, reason);
  }

  /** Counted apart from the requests' statuses, on every endpoint (see IngressObserver). */
  identityRefused(error: DataPlaneError): void {
    // Same statuses as others: a JWT provider's keys could not be fetched (not the token's fault).
    if (error.cause instanceof KeysUnavailable) {
      this.metrics.recordIdentityKeysUnavailable(error.cause.failure);
    } else if (error.cause instanceof IdentityRejection) {
      // The caller's credential or tier header was refused (401, 403): by its fixed reason.
      this.metrics.recordIdentityRefusal(error.cause.reason.replaceAll('-', '_'));
    }
  }

  identityKeysFetched(result: KeyFetchResult, jwksHost: string): void {
    this.metrics.recordIdentityKeyFetch(result, jwksHost);
  }

  failed(failure: RequestFailure): void {
    const { requestId, endpoint, request, error, timings, accepted, clientGone, statusSent } =
      failure;
    this.metrics.recordRequest({
      route: endpoint,
      status: clientGone ? CLIENT_CLOSED_REQUEST : error.httpStatus,
    });
    // Counted apart: the status (503, 529 on Anthropic's API) is also "no backend available".
    if (!clientGone && error.code === DataPlaneErrorCode.BudgetUnavailable) {
      this.metrics.recordBudgetStoreUnavailable(endpoint);
    }
    // The 429 is also a provider's rate limit: budget refusals are counted apart, by limit.
    if (!clientGone && error.code === DataPlaneErrorCode.BudgetExceeded) {
      const limit = error instanceof BudgetRefusal ? error.limitKind : 'unknown';
      this.metrics.recordBudgetRefusal(endpoint, limit);
    }
    // A hang-up is the client's doing: counted and recorded, never reported as ours.
    if (!clientGone && error.code === DataPlaneErrorCode.Internal) {
      this.onUnexpected(error.cause ?? error, requestId);
    }
    const user = request?.caller.userKey ?? 'anonymous';
    if (!accepted) {
      // Left before it was admitted or refused: nothing was rejected.
      if (clientGone) return;
      this.events.publish(
        createRequestRejected({
          requestId,
          partitionKey: user,
          userId: user,
          endpoint,
          reason: REJECT_REASON[error.code] ?? RejectReason.InvalidRequest,
          httpStatus: error.httpStatus,
          modelRequested: request?.requestedModel,
          tier: request?.caller.tier,
          limitKind: error instanceof BudgetRefusal ? error.limitKind : undefined,
          message: error.message.slice(0, 500),
        }),
      );
      return;
    }
    if (!request) return;
    this.events.publish(
      createRequestCompleted({
        requestId,
        partitionKey: user,
        userId: user,
        endpoint,
        status: clientGone ? CompletionStatus.ClientCancelled : completionStatus(error),
        // What the client got: 0 if it left before any status was sent (the events' rule).
        httpStatus: clientGone ? (statusSent ?? 0) : error.httpStatus,
        latencyMs: ms(timings.startedAt, performance.now()),
        modelRequested: request.requestedModel,
        stream: request.stream,
        cached: false,
        attempts: 0,
        tier: request.caller.tier,
        // A hang-up's abort surfaces as an error of unknown kind: not one of ours to record.
        errorCode:
          clientGone && error.code === DataPlaneErrorCode.Internal ? undefined : error.code,
      }),
    );
  }
}
