// One error type for the request path; codes map to HTTP statuses and OpenAI-style
// bodies at the edge, and to failover triggers in the router.

import type { OpenAiErrorBody, OpenAiErrorType } from '../openai/openai-error';
import type { InnerErrorField, ProviderInnerError } from './provider-inner-error';

export enum DataPlaneErrorCode {
  InvalidRequest = 'REQUEST.INVALID',
  BodyTooLarge = 'REQUEST.TOO_LARGE',
  PromptBlocked = 'REQUEST.PROMPT_BLOCKED',
  UnknownUrl = 'REQUEST.UNKNOWN_URL',
  /** A stored object the request names (a stored response) is not there for this caller. */
  NotFound = 'REQUEST.NOT_FOUND',
  /** A known path asked with a method it does not answer (`headers` carries `Allow`). */
  MethodNotAllowed = 'REQUEST.METHOD_NOT_ALLOWED',
  /** An `Expect` the gateway cannot meet (any but 100-continue): RFC 9110's 417. */
  ExpectationFailed = 'REQUEST.EXPECTATION_FAILED',
  /** A transfer coding the gateway does not implement (any but chunked): RFC 9112's 501. */
  NotImplemented = 'REQUEST.NOT_IMPLEMENTED',
  /** `Cache-Control: only-if-cached` and no stored answer: RFC 9111's 504, no call made. */
  NotCached = 'REQUEST.NOT_CACHED',
  ModelNotFound = 'ROUTE.MODEL_NOT_FOUND',
  ModelNotAllowed = 'ROUTE.MODEL_NOT_ALLOWED',
  NoBackendAvailable = 'ROUTE.NO_BACKEND',
  UpstreamRateLimited = 'UPSTREAM.RATE_LIMITED',
  UpstreamTimeout = 'UPSTREAM.TIMEOUT',
  UpstreamError = 'UPSTREAM.ERROR',
  UpstreamRejected = 'UPSTREAM.REJECTED',
  UpstreamBadResponse = 'UPSTREAM.BAD_RESPONSE',
  StreamInterrupted = 'UPSTREAM.STREAM_INTERRUPTED',
  BudgetExceeded = 'BUDGET.EXCEEDED',
  /** The budget store cannot be reached, so no spend can be admitted (fails closed). */
  BudgetUnavailable = 'BUDGET.UNAVAILABLE',
  Unauthenticated = 'AUTH.UNAUTHENTICATED',
  Forbidden = 'AUTH.FORBIDDEN',
  Internal = 'GATEWAY.INTERNAL',
}

/** The failover triggers of `failover.on` that an error may set off. */
export type FailoverTrigger = 'rateLimit' | 'timeout' | 'error' | 'budgetExceeded';

const HTTP_STATUS: Record<DataPlaneErrorCode, number> = {
  [DataPlaneErrorCode.InvalidRequest]: 400,
  [DataPlaneErrorCode.BodyTooLarge]: 413,
  [DataPlaneErrorCode.PromptBlocked]: 400,
  [DataPlaneErrorCode.UnknownUrl]: 404,
  [DataPlaneErrorCode.NotFound]: 404,
  [DataPlaneErrorCode.MethodNotAllowed]: 405,
  [DataPlaneErrorCode.ExpectationFailed]: 417,
  [DataPlaneErrorCode.NotImplemented]: 501,
  [DataPlaneErrorCode.NotCached]: 504,
  [DataPlaneErrorCode.ModelNotFound]: 404,
  [DataPlaneErrorCode.ModelNotAllowed]: 403,
  [DataPlaneErrorCode.NoBackendAvailable]: 503,
  [DataPlaneErrorCode.UpstreamRateLimited]: 429,
  [DataPlaneErrorCode.UpstreamTimeout]: 504,
  [DataPlaneErrorCode.UpstreamError]: 502,
  [DataPlaneErrorCode.UpstreamRejected]: 400,
  [DataPlaneErrorCode.UpstreamBadResponse]: 502,
  [DataPlaneErrorCode.StreamInterrupted]: 502,
  [DataPlaneErrorCode.BudgetExceeded]: 429,
  [DataPlaneErrorCode.BudgetUnavailable]: 503,
  [DataPlaneErrorCode.Unauthenticated]: 401,
  [DataPlaneErrorCode.Forbidden]: 403,
  [DataPlaneErrorCode.Internal]: 500,
};

/** OpenAI's `error.type` vocabulary, so SDKs raise the exception class users expect. */
const OPENAI_TYPE: Record<DataPlaneErrorCode, OpenAiErrorType> = {
  [DataPlaneErrorCode.InvalidRequest]: 'invalid_request_error',
  [DataPlaneErrorCode.BodyTooLarge]: 'invalid_request_error',
  [DataPlaneErrorCode.PromptBlocked]: 'invalid_request_error',
  [DataPlaneErrorCode.UnknownUrl]: 'invalid_request_error',
  [DataPlaneErrorCode.NotFound]: 'invalid_request_error',
  [DataPlaneErrorCode.MethodNotAllowed]: 'invalid_request_error',
  [DataPlaneErrorCode.ExpectationFailed]: 'invalid_request_error',
  [DataPlaneErrorCode.NotImplemented]: 'invalid_request_error',
  [DataPlaneErrorCode.NotCached]: 'invalid_request_error',
  [DataPlaneErrorCode.ModelNotFound]: 'invalid_request_error',
  [DataPlaneErrorCode.ModelNotAllowed]: 'permission_error',
  [DataPlaneErrorCode.NoBackendAvailable]: 'service_unavailable',
  [DataPlaneErrorCode.UpstreamRateLimited]: 'rate_limit_error',
  [DataPlaneErrorCode.UpstreamTimeout]: 'timeout_error',
  [DataPlaneErrorCode.UpstreamError]: 'upstream_error',
  [DataPlaneErrorCode.UpstreamRejected]: 'invalid_request_error',
  [DataPlaneErrorCode.UpstreamBadResponse]: 'upstream_error',
  [DataPlaneErrorCode.StreamInterrupted]: 'upstream_error',
  [DataPlaneErrorCode.BudgetExceeded]: 'rate_limit_error',
  [DataPlaneErrorCode.BudgetUnavailable]: 'service_unavailable',
  [DataPlaneErrorCode.Unauthenticated]: 'authentication_error',
  [DataPlaneErrorCode.Forbidden]: 'permission_error',
  [DataPlaneErrorCode.Internal]: 'internal_error',
};

const OPENAI_CODE: Partial<Record<DataPlaneErrorCode, string>> = {
  [DataPlaneErrorCode.ModelNotFound]: 'model_not_found',
  [DataPlaneErrorCode.BodyTooLarge]: 'request_too_large',
  [DataPlaneErrorCode.PromptBlocked]: 'prompt_blocked',
  [DataPlaneErrorCode.UnknownUrl]: 'unknown_url',
  [DataPlaneErrorCode.NotFound]: 'not_found',
  [DataPlaneErrorCode.MethodNotAllowed]: 'method_not_allowed',
  [DataPlaneErrorCode.ExpectationFailed]: 'expectation_failed',
  [DataPlaneErrorCode.NotImplemented]: 'not_implemented',
  [DataPlaneErrorCode.NotCached]: 'not_cached',
  [DataPlaneErrorCode.InvalidRequest]: 'invalid_request',
  [DataPlaneErrorCode.BudgetExceeded]: 'budget_exceeded',
  [DataPlaneErrorCode.BudgetUnavailable]: 'budget_store_unavailable',
  [DataPlaneErrorCode.UpstreamRateLimited]: 'rate_limit_exceeded',
};

export interface DataPlaneErrorOptions {
  /** The upstream's HTTP status, when an upstream answered. */
  upstreamStatus?: number;
  /** How long the upstream asked us to wait (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  /** The request field at fault, for OpenAI's `error.param`. */
  param?: string;
  /**
   * The provider's own `error.code` (`context_length_exceeded`, say), passed on as the
   * client's `error.code` so code written against the provider's API still recognises it.
   * Only a short code-like string (`isProviderErrorCode`).
   */
  upstreamCode?: string;
  /** Response headers that explain the error (rate-limit state, say). */
  headers?: Readonly<Record<string, string>>;
  /**
   * The provider's `innererror` (Azure's content-filter verdict), already made fit for a
   * client (`providerInnerError`): OpenAI-shaped error bodies carry it as the provider did,
   * under `innerErrorField` (`innererror` when not given).
   */
  innerError?: ProviderInnerError;
  innerErrorField?: InnerErrorField;
  cause?: unknown;
}

export class DataPlaneError extends Error {
  readonly upstreamStatus?: number;
  readonly retryAfterMs?: number;
  readonly param?: string;
  readonly upstreamCode?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly innerError?: ProviderInnerError;
  readonly innerErrorField?: InnerErrorField;

  constructor(
    readonly code: DataPlaneErrorCode,
    message: string,
    options: DataPlaneErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DataPlaneError';
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterMs = options.retryAfterMs;
    this.param = options.param;
    if (isProviderErrorCode(options.upstreamCode)) this.upstreamCode = options.upstreamCode;
    this.headers = options.headers;
    if (options.innerError !== undefined) this.innerError = options.innerError;
    if (options.innerErrorField !== undefined) this.innerErrorField = options.innerErrorField;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  /**
   * Whether the backend refused this request for its size alone: Groq answers one larger
   * than its plan's tokens per minute with 413 and the code rate_limit_exceeded (a rate
   * limit that fails over), OpenAI with a 429 that says so (`tooLargeForPlanAlone`).
   * Another backend may serve it, but it says nothing of this backend's load: no cooldown,
   * or one client's oversized requests would close the backend to everyone.
   */
  get refusedForSize(): boolean {
    return this.upstreamStatus === 413 || tooLargeForPlanAlone(this);
  }

  /** The failover trigger this error sets off, if any. */
  get trigger(): FailoverTrigger | undefined {
    switch (this.code) {
      case DataPlaneErrorCode.UpstreamRateLimited:
        return 'rateLimit';
      case DataPlaneErrorCode.UpstreamTimeout:
        return 'timeout';
      case DataPlaneErrorCode.UpstreamError:
      case DataPlaneErrorCode.UpstreamBadResponse:
        return 'error';
      case DataPlaneErrorCode.BudgetExceeded:
        return 'budgetExceeded';
      default:
        return undefined;
    }
  }

  /** The OpenAI-style error body; messages never carry secrets or matched prompt text. */
  toOpenAiBody(): OpenAiErrorBody & {
    error: { code: string } & Partial<Record<InnerErrorField, ProviderInnerError>>;
  } {
    return {
      error: {
        message: this.message,
        type: OPENAI_TYPE[this.code],
        code: this.upstreamCode ?? OPENAI_CODE[this.code] ?? this.code,
        param: this.param ?? null,
        ...(this.innerError === undefined
          ? {}
          : { [this.innerErrorField ?? 'innererror']: this.innerError }),
      },
    };
  }

  /** Rebuilds an error that crossed a process boundary as an OpenAI-style body. */
  static fromWire(body: unknown, fallbackStatus: number): DataPlaneError {
    const error = (body as { error?: { message?: unknown; code?: unknown; param?: unknown } })
      ?.error;
    const code = Object.values(DataPlaneErrorCode).find((c) => c === error?.code);
    const message = typeof error?.message === 'string' ? error.message : 'upstream error';
    const param = typeof error?.param === 'string' ? error.param : undefined;
    return new DataPlaneError(code ?? codeForStatus(fallbackStatus), message, { param });
  }
}

/** An upstream's refusal as its error words it: the backend, its status, the provider's text. */
export function upstreamAnsweredText(backendName: string, status: number, text: string): string {
  return `backend "${backendName}" answered ${status}: ${text}`;
}

/**
 * OpenAI's 429 (or an OpenAI-compatible API's in its words) for a request that alone exceeds
 * the plan's tokens per minute, as `upstreamAnsweredText` words it: "Request too large for
 * gpt-4o in organization org-... on tokens per min (TPM): Limit 30000, Requested 50000. The
 * input or output tokens must be reduced...", with the code rate_limit_exceeded that a
 * backend at its limit ("Rate limit reached for ...") sends too. Only the words tell them apart.
 */
const TOO_LARGE_FOR_PLAN = /^backend "[^"]*" answered 429: Request too large\b/;

/** Whether a 429 is the refusal of a request too large for the backend's plan on its own. */
function tooLargeForPlanAlone(error: DataPlaneError): boolean {
  return (
    error.upstreamStatus === 429 &&
    error.upstreamCode === 'rate_limit_exceeded' &&
    TOO_LARGE_FOR_PLAN.test(error.message)
  );
}

/** A provider error code fit to pass on: short, letters, digits, `_`, `.` and `-` only. */
export function isProviderErrorCode(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z][\w.-]{0,63}$/.test(value);
}

/** Classifies an upstream HTTP status the way failover needs it. */
export function codeForStatus(status: number): DataPlaneErrorCode {
  // Groq's 498: its flex tier is at capacity, to be tried again later (its flex docs).
  if (status === 429 || status === 498) return DataPlaneErrorCode.UpstreamRateLimited;
  if (status === 408 || status === 504) return DataPlaneErrorCode.UpstreamTimeout;
  // A refused credential or account (402: its balance is spent) is the gateway's trouble
  // with that backend, not the client's request: a 502 that fails over (and cools the
  // backend down), never a 400. So is 499, a request the provider cancelled on its side
  // (Groq's, Cohere's, Google's CANCELLED), which their docs say to retry.
  if (status >= 500 || status === 401 || status === 402 || status === 403 || status === 499) {
    return DataPlaneErrorCode.UpstreamError;
  }
  return DataPlaneErrorCode.UpstreamRejected;
}

/** The most of a client's model name an error repeats (a name can be any length). */
const MODEL_NAME_IN_ERRORS = 256;

/** A model no route serves: one wording wherever the gateway looks a model up. */
export function modelNotServed(model: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.ModelNotFound,
    `The model "${model.slice(0, MODEL_NAME_IN_ERRORS)}" does not exist or is not served by this gateway`,
    { param: 'model' },
  );
}

/** A model the caller's tier may not use: one wording wherever the gateway checks it. */
export function modelNotAllowed(model: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.ModelNotAllowed,
    `your plan does not allow the model "${model.slice(0, MODEL_NAME_IN_ERRORS)}"`,
    { param: 'model' },
  );
}
