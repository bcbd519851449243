import type { AnthropicErrorType } from '@aigw/contracts';
import { DataPlaneErrorCode, type DataPlaneError } from '@aigw/contracts/data-plane';

/** Anthropic's error types; `timeout_error` (504) is newer than the shared contract. */
export type MessagesErrorType = AnthropicErrorType | 'timeout_error';

export interface MessagesErrorBody {
  type: 'error';
  error: { type: MessagesErrorType; message: string };
  request_id?: string;
}

const RENDERING: Record<DataPlaneErrorCode, { status: number; type: MessagesErrorType }> = {
  [DataPlaneErrorCode.InvalidRequest]: { status: 400, type: 'invalid_request_error' },
  [DataPlaneErrorCode.PromptBlocked]: { status: 400, type: 'invalid_request_error' },
  [DataPlaneErrorCode.UpstreamRejected]: { status: 400, type: 'invalid_request_error' },
  [DataPlaneErrorCode.BodyTooLarge]: { status: 413, type: 'request_too_large' },
  [DataPlaneErrorCode.UnknownUrl]: { status: 404, type: 'not_found_error' },
  [DataPlaneErrorCode.NotFound]: { status: 404, type: 'not_found_error' },
  [DataPlaneErrorCode.MethodNotAllowed]: { status: 405, type: 'invalid_request_error' },
  [DataPlaneErrorCode.ExpectationFailed]: { status: 417, type: 'invalid_request_error' },
  [DataPlaneErrorCode.NotImplemented]: { status: 501, type: 'invalid_request_error' },
  [DataPlaneErrorCode.ModelNotFound]: { status: 404, type: 'not_found_error' },
  [DataPlaneErrorCode.ModelNotAllowed]: { status: 403, type: 'permission_error' },
  [DataPlaneErrorCode.Forbidden]: { status: 403, type: 'permission_error' },
  [DataPlaneErrorCode.Unauthenticated]: { status: 401, type: 'authentication_error' },
  [DataPlaneErrorCode.UpstreamRateLimited]: { status: 429, type: 'rate_limit_error' },
  [DataPlaneErrorCode.BudgetExceeded]: { status: 429, type: 'rate_limit_error' },
  // Every backend is down or cooling off: Anthropic's "try again shortly" status.
  [DataPlaneErrorCode.NoBackendAvailable]: { status: 529, type: 'overloaded_error' },
  [DataPlaneErrorCode.BudgetUnavailable]: { status: 529, type: 'overloaded_error' },
  [DataPlaneErrorCode.UpstreamTimeout]: { status: 504, type: 'timeout_error' },
  [DataPlaneErrorCode.NotCached]: { status: 504, type: 'invalid_request_error' },
  [DataPlaneErrorCode.UpstreamError]: { status: 502, type: 'api_error' },
  [DataPlaneErrorCode.UpstreamBadResponse]: { status: 502, type: 'api_error' },
  [DataPlaneErrorCode.StreamInterrupted]: { status: 502, type: 'api_error' },
  [DataPlaneErrorCode.Internal]: { status: 500, type: 'api_error' },
};

/** Anthropic's own "overloaded, try again" status. */
const OVERLOADED_STATUS = 529;

/**
 * A backend that said it is overloaded: a 529 (Anthropic's, passed through the router), or
 * a stream it broke off with overloaded_error. Anthropic's clients act on that type
 * (Claude Code retries it and, after several, switches to its fallback model), which a
 * plain api_error would hide from them.
 */
function isOverloaded(error: DataPlaneError): boolean {
  if (error.code === DataPlaneErrorCode.StreamInterrupted) {
    return error.upstreamCode === 'overloaded_error';
  }
  return (
    error.code === DataPlaneErrorCode.UpstreamError && error.upstreamStatus === OVERLOADED_STATUS
  );
}

/** The status and body Anthropic's API would send for this error. */
export function messagesError(
  error: DataPlaneError,
  requestId?: string,
): { status: number; body: MessagesErrorBody } {
  const { status, type } = isOverloaded(error)
    ? RENDERING[DataPlaneErrorCode.NoBackendAvailable]
    : RENDERING[error.code];
  const body: MessagesErrorBody = { type: 'error', error: { type, message: error.message } };
  if (requestId) body.request_id = requestId;
  return { status, body };
}
