import type {
  DataPlaneError,
  GatewayRequest,
  Operation,
  ServedBy,
  TokenUsage,
} from '@aigw/contracts/data-plane';

/** `performance.now()` readings for one request. */
export interface RequestTimings {
  readonly startedAt: number;
  /** When the first byte of the answer went to the client. */
  readonly firstByteAt?: number;
}

/** What the edge reports about each request: metrics and events hang off this. */
export interface IngressObserver {
  /** A request reached the edge; `finished` follows once it is answered in full or abandoned. */
  started(operation: Operation): void;
  finished(operation: Operation): void;
  accepted(request: GatewayRequest): void;
  completed(
    request: GatewayRequest,
    servedBy: ServedBy,
    usage: TokenUsage,
    timings: RequestTimings,
    outcome?: CompletionOutcome,
  ): void;
  failed(failure: RequestFailure): void;
}

export interface CompletionOutcome {
  /** Answered from the response cache or a deduplicated call: no provider call of its own. */
  readonly cached: boolean;
}

export interface RequestFailure {
  readonly requestId: string;
  readonly operation: Operation;
  /** Undefined when the body was rejected before it became a request. */
  readonly request?: GatewayRequest;
  readonly error: DataPlaneError;
  readonly timings: RequestTimings;
  /** Whether it had been admitted: then it completes (badly) rather than being rejected. */
  readonly accepted: boolean;
  /** Whether the client had hung up: then the failure is the client's doing, not ours. */
  readonly clientGone?: boolean;
  /** The status already on the wire when it failed (a stream's 200), if any. */
  readonly statusSent?: number;
}

export const INGRESS_OBSERVER = Symbol('INGRESS_OBSERVER');

export const NOOP_INGRESS_OBSERVER: IngressObserver = {
  started: () => undefined,
  finished: () => undefined,
  accepted: () => undefined,
  completed: () => undefined,
  failed: () => undefined,
};
