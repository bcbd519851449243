import { DataPlaneError, DataPlaneErrorCode, isProviderErrorCode } from '../data-plane.errors';
import {
  innerErrorIn,
  providerInnerError,
  type InnerErrorField,
  type ProviderInnerError,
} from '../provider-inner-error';
import { WIRE_VERSION, WIRE_VERSION_HEADER } from './wire-protocol';

/** An error as it crosses an internal hop: OpenAI's shape, with the internal code. */
export interface WireErrorBody {
  error: Partial<Record<InnerErrorField, ProviderInnerError>> & {
    message: string;
    type: string;
    code: string;
    param: string | null;
    retryAfterMs?: number;
    upstreamStatus?: number;
    /** The provider's own error code, passed on to the client. */
    upstreamCode?: string;
    /** Response headers the error carries (e.g. a per-model 429's x-ratelimit-*). */
    headers?: Record<string, string>;
  };
}

/** Keeps the internal code (not OpenAI's) so the receiver classifies it as we did. */
export function encodeWireError(error: DataPlaneError): WireErrorBody {
  const body: WireErrorBody = error.toOpenAiBody();
  body.error.code = error.code;
  if (error.retryAfterMs !== undefined) body.error.retryAfterMs = error.retryAfterMs;
  if (error.upstreamStatus !== undefined) body.error.upstreamStatus = error.upstreamStatus;
  if (error.upstreamCode !== undefined) body.error.upstreamCode = error.upstreamCode;
  if (error.headers !== undefined) body.error.headers = { ...error.headers };
  return body;
}

function nonNegative(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Only string-valued headers survive; a peer cannot smuggle anything else in. */
function stringHeaders(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const headers: Record<string, string> = {};
  let any = false;
  for (const [name, headerValue] of Object.entries(value)) {
    if (typeof headerValue !== 'string') continue;
    headers[name] = headerValue;
    any = true;
  }
  return any ? headers : undefined;
}

/** Rebuilds an error sent by `encodeWireError`; anything else is classified by status. */
export function decodeWireError(body: unknown, status: number): DataPlaneError {
  const plain = DataPlaneError.fromWire(body, status);
  const extra = (body as Partial<WireErrorBody> | undefined)?.error;
  const retryAfterMs = nonNegative(extra?.retryAfterMs);
  const upstreamStatus = nonNegative(extra?.upstreamStatus);
  const headers = stringHeaders(extra?.headers);
  const upstreamCode = isProviderErrorCode(extra?.upstreamCode) ? extra.upstreamCode : undefined;
  // The provider's innererror (Azure's content-filter verdict), passed on to the client.
  const inner = innerErrorIn(extra);
  const innerError = providerInnerError(inner?.value);
  if (
    retryAfterMs === undefined &&
    upstreamStatus === undefined &&
    headers === undefined &&
    upstreamCode === undefined &&
    innerError === undefined
  ) {
    return plain;
  }
  return new DataPlaneError(plain.code, plain.message, {
    param: plain.param,
    retryAfterMs,
    upstreamStatus,
    upstreamCode,
    headers,
    innerError,
    innerErrorField: inner?.field,
  });
}

/** The answer to a peer speaking another wire version (or none). */
export function wireVersionError(
  given: string | string[] | undefined,
  peer: string,
): DataPlaneError {
  const version = Array.isArray(given) ? given.join(',') : given;
  return new DataPlaneError(
    DataPlaneErrorCode.Internal,
    version === undefined
      ? `${peer} sent no ${WIRE_VERSION_HEADER} header; this service speaks wire version ${WIRE_VERSION}`
      : `${peer} speaks wire version "${version}"; this service speaks ${WIRE_VERSION}`,
  );
}

/** How every release names a wire message it cannot read (a 400 `REQUEST.INVALID`). */
export const MALFORMED_WIRE_MESSAGE = 'malformed wire message';

/** What the operator reads beside a refusal that only a peer of another release gives. */
const RELEASE_ADVICE =
  'the two run different releases (a rollout under way or a rollback): retry, or finish ' +
  'the rollout, upgrading the provider-adapter, then the router, then the ingress';

/**
 * A peer's refusal of a wire message it cannot read (an operation or field value added
 * after its release) as the caller should answer it: the gateway's own trouble, a 500 an
 * SDK retries (the next try may reach an upgraded replica), never a 400 that tells the
 * client its request is wrong. Any other error is returned as it was.
 */
export function unreadableByPeer(error: DataPlaneError, peer: string): DataPlaneError {
  if (
    error.code !== DataPlaneErrorCode.InvalidRequest ||
    !error.message.startsWith(MALFORMED_WIRE_MESSAGE)
  ) {
    return error;
  }
  return new DataPlaneError(
    DataPlaneErrorCode.Internal,
    `the ${peer} could not read this service's call (${error.message}): ${RELEASE_ADVICE}`,
  );
}

/**
 * A peer's 404 for a wire route it does not have (one added after its release), as the
 * caller should answer it: a 500 naming the route and the mismatch, never the client's
 * `unknown_url`. Callers that fall back to an older route check for the 404 before this.
 */
export function routeMissingAtPeer(error: DataPlaneError, peer: string): DataPlaneError {
  if (error.code !== DataPlaneErrorCode.UnknownUrl) return error;
  return new DataPlaneError(
    DataPlaneErrorCode.Internal,
    `the ${peer} answered "${error.message}": ${RELEASE_ADVICE}`,
  );
}
