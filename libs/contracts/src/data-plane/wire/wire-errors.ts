import { DataPlaneError, DataPlaneErrorCode, isProviderErrorCode } from '../data-plane.errors';
import { WIRE_VERSION, WIRE_VERSION_HEADER } from './wire-protocol';

/** An error as it crosses an internal hop: OpenAI's shape, with the internal code. */
export interface WireErrorBody {
  error: {
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
  if (
    retryAfterMs === undefined &&
    upstreamStatus === undefined &&
    headers === undefined &&
    upstreamCode === undefined
  ) {
    return plain;
  }
  return new DataPlaneError(plain.code, plain.message, {
    param: plain.param,
    retryAfterMs,
    upstreamStatus,
    upstreamCode,
    headers,
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
