import { isTimeoutError } from '@aigw/infra/http';
import {
  codeForStatus,
  DataPlaneError,
  DataPlaneErrorCode,
  filteredCategoriesText,
  innerErrorIn,
  isProviderErrorCode,
  providerInnerError,
  upstreamAnsweredText,
  type InnerErrorField,
  type ProviderInnerError,
} from '@aigw/contracts/data-plane';

// Provider error messages sometimes echo part of the key they rejected.
const KEY_LIKE = /\b(sk|pk|rk|key|AIza)[-_A-Za-z0-9]{8,}/g;

// AWS's signature refusals quote the canonical request, the session token among its
// signed headers, and the access key id; a bearer token is a credential wherever it shows.
// A token has a digit or inner punctuation (or is long): a plain word after "bearer"
// ("missing bearer authentication") is the provider's prose, kept as written.
const AWS_AND_BEARER: readonly RegExp[] = [
  /(x-amz-security-token\s*[:=]\s*)[^\s'"&,]+/gi,
  /(Credential=)[^\s'",/]+/g,
  /\b()(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /(\bBearer\s+)(?=[A-Za-z]*[0-9]|[A-Za-z]*[._~+/=-][A-Za-z0-9]|[A-Za-z]{24})[A-Za-z0-9._~+/=-]{6,}/gi,
];

/** What a provider's error text may quote of the key we sent: the key itself. */
export interface EchoedSecret {
  reveal(): string;
}

/** Keys shorter than this are not searched for: a 3-letter test key is in every word. */
const MIN_SCRUBBED_SECRET_CHARS = 8;

/** The most of a provider's own message an error passes on. */
const MAX_UPSTREAM_TEXT_CHARS = 500;

/**
 * A provider's error text made fit for an error a client sees: key-like strings
 * redacted, the rest cut short. Use it wherever a provider's words go into an error.
 */
export function scrubbedUpstreamText(text: string, secret?: EchoedSecret): string {
  let scrubbed = withoutSecret(text, secret).replace(KEY_LIKE, '[REDACTED]');
  for (const pattern of AWS_AND_BEARER) scrubbed = scrubbed.replace(pattern, '$1[REDACTED]');
  return scrubbed.slice(0, MAX_UPSTREAM_TEXT_CHARS);
}

/**
 * The text without the backend's own key, whatever it looks like (an Azure key is 32 hex
 * digits, a self-hosted server's any string): the patterns only catch the known shapes.
 */
function withoutSecret(text: string, secret: EchoedSecret | undefined): string {
  const value = secret?.reveal().trim();
  if (!value || value.length < MIN_SCRUBBED_SECRET_CHARS) return text;
  return text.split(value).join('[REDACTED]');
}

/**
 * The longest Retry-After passed on to a client: a day. A backend asking for years is
 * broken, and no client can act on such a wait.
 */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/** Milliseconds from a Retry-After header (seconds or an HTTP date), at most a day. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(raw) - now;
  return Number.isNaN(ms) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/**
 * How long a backend asked to be left alone: OpenAI's and Azure's `retry-after-ms` when
 * sent (finer than whole seconds), else the standard `Retry-After`.
 */
export function retryAfterOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  now = Date.now(),
): number | undefined {
  const header = headers['retry-after-ms'];
  const raw = (Array.isArray(header) ? header[0] : header)?.trim();
  const millis = raw ? Number(raw) : NaN;
  if (Number.isFinite(millis)) return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, millis));
  return parseRetryAfter(headers['retry-after'], now);
}

/**
 * A provider's parsed error body, unwrapped: Google sends a streamed call's refusal
 * (streamGenerateContent) as a list of one error, as its own clients unwrap it.
 */
function errorEnvelope(parsed: unknown): unknown {
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

/** A protobuf Duration as JSON writes it: seconds, with up to nine decimals, then `s`. */
const PROTO_DURATION = /^(\d{1,12}(?:\.\d{1,9})?)s$/;

/**
 * The wait a Google API error body gives (Gemini, Vertex): the `retryDelay` of its
 * `google.rpc.RetryInfo` detail, at most a day. Google sends it in place of Retry-After.
 */
function retryInfoDelayOf(bodyText: string): number | undefined {
  if (!bodyText.includes('google.rpc.RetryInfo')) return undefined;
  let details: unknown;
  try {
    const body = errorEnvelope(JSON.parse(bodyText)) as { error?: { details?: unknown } } | null;
    details = body?.error?.details;
  } catch {
    return undefined;
  }
  if (!Array.isArray(details)) return undefined;
  for (const detail of details as unknown[]) {
    const { '@type': type, retryDelay } = (detail ?? {}) as Record<string, unknown>;
    if (typeof type !== 'string' || !type.endsWith('google.rpc.RetryInfo')) continue;
    const seconds =
      typeof retryDelay === 'string' ? PROTO_DURATION.exec(retryDelay)?.[1] : undefined;
    if (seconds !== undefined) return Math.min(MAX_RETRY_AFTER_MS, Number(seconds) * 1000);
  }
  return undefined;
}

/** A request field as OpenAI names one in `error.param` (`messages[0].content`). */
const PARAM = /^[A-Za-z][\w.[\]-]{0,127}$/;

/** What a provider's error body says: its message, and its OpenAI-style code and param. */
interface UpstreamErrorBody {
  readonly message: string;
  readonly code?: string;
  readonly param?: string;
  /** Azure's `error.innererror` or `inner_error` (a content filter's verdict), as sent. */
  readonly inner?: { readonly field: InnerErrorField; readonly value: unknown };
}

/** Reads whatever error body a provider sent; only OpenAI's shape yields a code and param. */
function upstreamErrorBody(bodyText: string): UpstreamErrorBody {
  try {
    const parsed = errorEnvelope(JSON.parse(bodyText)) as {
      error?:
        | {
            message?: unknown;
            code?: unknown;
            param?: unknown;
            innererror?: unknown;
            inner_error?: unknown;
          }
        | string;
      message?: unknown;
    };
    const error = typeof parsed.error === 'object' && parsed.error !== null ? parsed.error : {};
    const candidate =
      typeof parsed.error === 'string' ? parsed.error : (error.message ?? parsed.message);
    if (typeof candidate === 'string') {
      return {
        message: candidate,
        code: isProviderErrorCode(error.code) ? error.code : undefined,
        param: typeof error.param === 'string' && PARAM.test(error.param) ? error.param : undefined,
        inner: innerErrorIn(error),
      };
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: bodyText.trim() || 'no error message' };
}

/**
 * AWS error types that are our account's rate or quota, whatever the status: Bedrock's
 * InvokeModel answers ServiceQuotaExceededException with 400, and ThrottlingException
 * comes as a 400 on some paths. Either is a rate limit to fail over on, not the client's.
 */
const AWS_RATE_LIMIT_TYPES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'ServiceQuotaExceededException',
]);

/**
 * An AWS error's type: the `x-amzn-errortype` header ("ThrottlingException:http://...")
 * or the body's `__type` ("com.amazon.coral.service#ThrottlingException").
 */
function awsErrorType(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  bodyText: string,
): string | undefined {
  const header = headers['x-amzn-errortype'];
  let raw = Array.isArray(header) ? header[0] : header;
  if (!raw && bodyText.includes('__type')) {
    try {
      const type = (JSON.parse(bodyText) as { __type?: unknown }).__type;
      if (typeof type === 'string') raw = type;
    } catch {
      // not JSON: no type
    }
  }
  return raw?.split(':')[0].split('#').pop()?.trim();
}

/**
 * The OpenAI-style error code of a rate limit, whatever the status it comes with: Groq
 * answers a request past its plan's tokens per minute with 413 and this code (OpenAI answers
 * the same case 429). Another backend can serve it, so it fails over; it is no 400.
 */
const RATE_LIMIT_CODE = 'rate_limit_exceeded';

/** A rate limit's provider code when it is the one its client is told (`upstreamCode`). */
function rateLimitCode(
  kind: DataPlaneErrorCode,
  code: string | undefined,
): { upstreamCode?: string } {
  return kind === DataPlaneErrorCode.UpstreamRateLimited && code === RATE_LIMIT_CODE
    ? { upstreamCode: code }
    : {};
}

/**
 * The failover class of an error status: an AWS throttling or quota type, or a refusal
 * coded as a rate limit, is a rate limit.
 */
function failureKind(
  status: number,
  bodyText: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  code: string | undefined,
): DataPlaneErrorCode {
  const awsType = awsErrorType(headers, bodyText);
  if (awsType !== undefined && AWS_RATE_LIMIT_TYPES.has(awsType)) {
    return DataPlaneErrorCode.UpstreamRateLimited;
  }
  const kind = codeForStatus(status);
  return kind === DataPlaneErrorCode.UpstreamRejected && code === RATE_LIMIT_CODE
    ? DataPlaneErrorCode.UpstreamRateLimited
    : kind;
}

/**
 * The error for an upstream that answered with an HTTP error status. For a request the
 * provider refused, its own error code and param (OpenAI's `context_length_exceeded` on
 * `messages`, say) reach the client, which may act on them as on the provider's answer.
 */
export function upstreamHttpError(
  backendName: string,
  status: number,
  bodyText: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  secret?: EchoedSecret,
): DataPlaneError {
  const { message, code, param, inner: sent } = upstreamErrorBody(bodyText);
  const kind = failureKind(status, bodyText, headers, code);
  // Only a request the provider refused has a code the client can act on; a refused
  // credential or an exhausted quota is the gateway's own trouble with that backend. The
  // rate-limit code, the one a client is told anyway, is kept so the router can tell a
  // request too large for the plan from a backend at its limit (`refusedForSize`).
  const rejected = kind === DataPlaneErrorCode.UpstreamRejected;
  // So is the detail of a refusal (Azure's content-filter verdict: which category fired).
  const inner = rejected
    ? providerInnerError(sent?.value, (text) => scrubbedUpstreamText(text, secret))
    : undefined;
  const detail = inner === undefined ? {} : { innerError: inner, innerErrorField: sent?.field };
  const kept = rejected ? { upstreamCode: code, param, ...detail } : rateLimitCode(kind, code);
  return new DataPlaneError(
    kind,
    upstreamAnsweredText(backendName, status, refusalText(message, inner, secret)),
    {
      upstreamStatus: status,
      retryAfterMs: retryAfterOf(headers) ?? retryInfoDelayOf(bodyText),
      ...kept,
    },
  );
}

/**
 * A provider's refusal in words fit for a client, with the content-filter categories that
 * fired after it: a client of an API with no `innererror` (Messages, Gemini) still learns them.
 */
function refusalText(
  message: string,
  inner: ProviderInnerError | undefined,
  secret: EchoedSecret | undefined,
): string {
  const text = scrubbedUpstreamText(message, secret);
  const fired = filteredCategoriesText(inner);
  return fired === undefined ? text : `${text} (filtered: ${fired})`;
}

/** Maps a transport failure (refused, reset, timed out) to a data-plane error. */
export function transportError(backendName: string, error: unknown, signal: AbortSignal): unknown {
  if (error instanceof DataPlaneError) return error;
  // A client that went away is not the backend's fault: let the abort propagate.
  if (signal.aborted) return signal.reason ?? error;
  if (isTimeoutError(error)) {
    return new DataPlaneError(
      DataPlaneErrorCode.UpstreamTimeout,
      `backend "${backendName}" timed out`,
      { cause: error },
    );
  }
  const code = (error as { code?: unknown }).code;
  const reason = typeof code === 'string' ? code : 'connection failed';
  return new DataPlaneError(
    DataPlaneErrorCode.UpstreamError,
    `backend "${backendName}" is unreachable (${reason})`,
    { cause: error },
  );
}
