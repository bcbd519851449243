import type { GatewayEndpoint } from '@aigw/contracts';
import type {
  DataPlaneError,
  GatewayRequest,
  ServedBy,
  TokenUsage,
} from '@aigw/contracts/data-plane';
import type { MediaUrlPart } from './domain/media-urls';
import type { KeyFetchResult } from './identity/remote-key-set';
import type { LoggedPayload } from './payloads/payload-capture';
import type { AnswerBlock, AnswerRedactions } from './redaction/answer-guard';

/** `performance.now()` readings for one request. */
export interface RequestTimings {
  readonly startedAt: number;
  /** When the first byte of the answer went to the client. */
  readonly firstByteAt?: number;
}

/**
 * What the edge reports about each request: metrics and events hang off this. Each call
 * names the public endpoint the request came in on (a Messages API call is a `chat`
 * operation, but operators count it apart from the chat completions).
 */
export interface IngressObserver {
  /** A request reached the edge; `finished` follows once it is answered in full or abandoned. */
  started(endpoint: GatewayEndpoint): void;
  finished(endpoint: GatewayEndpoint): void;
  accepted(endpoint: GatewayEndpoint, request: GatewayRequest): void;
  completed(
    endpoint: GatewayEndpoint,
    request: GatewayRequest,
    servedBy: ServedBy,
    usage: TokenUsage,
    timings: RequestTimings,
    outcome?: CompletionOutcome,
  ): void;
  failed(failure: RequestFailure): void;
  /**
   * The identity step refused a caller (401, 403, or 503 for a JWT provider's keys it could
   * not fetch), on whichever endpoint: `failed` follows only for the model calls.
   */
  identityRefused?(error: DataPlaneError): void;
  /**
   * How one fetch of a JWT provider's key set (JWKS) ended, background refreshes included;
   * `jwksHost` is its key server's host and port.
   */
  identityKeysFetched?(result: KeyFetchResult, jwksHost: string): void;
  /** Prompt redaction masked `tally` matches per detector on the route named; never the text. */
  redacted?(route: string, tally: ReadonlyMap<string, number>): void;
  /**
   * `security.responseValidation` masked these matches in one part (content or reasoning)
   * of one answer; never the text.
   */
  answerRedacted?(route: string, redactions: AnswerRedactions): void;
  /** `security.responseValidation` withheld an answer's choice by a rule matching in a part. */
  answerBlocked?(route: string, block: AnswerBlock): void;
  /**
   * `security.mediaUrls` refused a prompt's media URL on the route named (`part`: image,
   * file or other); never the URL.
   */
  mediaUrlRefused?(route: string, part: MediaUrlPart): void;
  /** A request's prompt and answer, on a route with payloadLogging on. */
  payloadLogged?(payload: LoggedPayload): void;
  /** A request on such a route whose payload is not logged (sampleRate). */
  payloadDropped?(route: string, reason: 'sampled_out'): void;
}

export interface CompletionOutcome {
  /** Answered from the response cache or a deduplicated call: no provider call of its own. */
  readonly cached: boolean;
}

export interface RequestFailure {
  readonly requestId: string;
  readonly endpoint: GatewayEndpoint;
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

/** Reports to each observer in turn (request telemetry, then tracing). */
export function bothObservers(first: IngressObserver, second: IngressObserver): IngressObserver {
  return {
    started: (endpoint) => {
      first.started(endpoint);
      second.started(endpoint);
    },
    finished: (endpoint) => {
      first.finished(endpoint);
      second.finished(endpoint);
    },
    accepted: (endpoint, request) => {
      first.accepted(endpoint, request);
      second.accepted(endpoint, request);
    },
    completed: (...args) => {
      first.completed(...args);
      second.completed(...args);
    },
    failed: (failure) => {
      first.failed(failure);
      second.failed(failure);
    },
    identityRefused: (error) => {
      first.identityRefused?.(error);
      second.identityRefused?.(error);
    },
    identityKeysFetched: (result, jwksHost) => {
      first.identityKeysFetched?.(result, jwksHost);
      second.identityKeysFetched?.(result, jwksHost);
    },
    redacted: (route, tally) => {
      first.redacted?.(route, tally);
      second.redacted?.(route, tally);
    },
    answerRedacted: (route, redactions) => {
      first.answerRedacted?.(route, redactions);
      second.answerRedacted?.(route, redactions);
    },
    answerBlocked: (route, block) => {
      first.answerBlocked?.(route, block);
      second.answerBlocked?.(route, block);
    },
    mediaUrlRefused: (route, part) => {
      first.mediaUrlRefused?.(route, part);
      second.mediaUrlRefused?.(route, part);
    },
    payloadLogged: (payload) => {
      first.payloadLogged?.(payload);
      second.payloadLogged?.(payload);
    },
    payloadDropped: (route, reason) => {
      first.payloadDropped?.(route, reason);
      second.payloadDropped?.(route, reason);
    },
  };
}
