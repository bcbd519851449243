import { DataPlaneErrorCode, type DataPlaneError } from '@aigw/contracts/data-plane';

/** Google's canonical error codes (google.rpc.Code), as the Gemini API names them. */
export type GoogleRpcStatus =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNIMPLEMENTED';

export interface GeminiErrorBody {
  error: { code: number; message: string; status: GoogleRpcStatus };
}

const RENDERING: Record<DataPlaneErrorCode, { status: number; rpc: GoogleRpcStatus }> = {
  [DataPlaneErrorCode.InvalidRequest]: { status: 400, rpc: 'INVALID_ARGUMENT' },
  [DataPlaneErrorCode.PromptBlocked]: { status: 400, rpc: 'INVALID_ARGUMENT' },
  [DataPlaneErrorCode.UpstreamRejected]: { status: 400, rpc: 'INVALID_ARGUMENT' },
  [DataPlaneErrorCode.BodyTooLarge]: { status: 413, rpc: 'INVALID_ARGUMENT' },
  // Google answers a method its API does not serve at a path (GET on :generateContent) as
  // an unknown method: 404 NOT_FOUND, no 405 (google.rpc has no such status).
  [DataPlaneErrorCode.MethodNotAllowed]: { status: 404, rpc: 'NOT_FOUND' },
  [DataPlaneErrorCode.UnknownUrl]: { status: 404, rpc: 'NOT_FOUND' },
  // An `Expect` the gateway cannot meet: HTTP's 417, in Google's terms a precondition.
  [DataPlaneErrorCode.ExpectationFailed]: { status: 417, rpc: 'FAILED_PRECONDITION' },
  [DataPlaneErrorCode.NotImplemented]: { status: 501, rpc: 'UNIMPLEMENTED' },
  [DataPlaneErrorCode.NotFound]: { status: 404, rpc: 'NOT_FOUND' },
  [DataPlaneErrorCode.ModelNotFound]: { status: 404, rpc: 'NOT_FOUND' },
  [DataPlaneErrorCode.ModelNotAllowed]: { status: 403, rpc: 'PERMISSION_DENIED' },
  [DataPlaneErrorCode.Forbidden]: { status: 403, rpc: 'PERMISSION_DENIED' },
  [DataPlaneErrorCode.Unauthenticated]: { status: 401, rpc: 'UNAUTHENTICATED' },
  [DataPlaneErrorCode.UpstreamRateLimited]: { status: 429, rpc: 'RESOURCE_EXHAUSTED' },
  [DataPlaneErrorCode.BudgetExceeded]: { status: 429, rpc: 'RESOURCE_EXHAUSTED' },
  [DataPlaneErrorCode.NoBackendAvailable]: { status: 503, rpc: 'UNAVAILABLE' },
  [DataPlaneErrorCode.BudgetUnavailable]: { status: 503, rpc: 'UNAVAILABLE' },
  [DataPlaneErrorCode.UpstreamTimeout]: { status: 504, rpc: 'DEADLINE_EXCEEDED' },
  [DataPlaneErrorCode.NotCached]: { status: 504, rpc: 'DEADLINE_EXCEEDED' },
  // The gateway's own statuses stay (502 for a backend that failed), named in Google's terms.
  [DataPlaneErrorCode.UpstreamError]: { status: 502, rpc: 'INTERNAL' },
  [DataPlaneErrorCode.UpstreamBadResponse]: { status: 502, rpc: 'INTERNAL' },
  [DataPlaneErrorCode.StreamInterrupted]: { status: 502, rpc: 'INTERNAL' },
  [DataPlaneErrorCode.Internal]: { status: 500, rpc: 'INTERNAL' },
};

/** The status and body Google's API would send for this error. */
export function geminiError(error: DataPlaneError): { status: number; body: GeminiErrorBody } {
  const { status, rpc } = RENDERING[error.code];
  return { status, body: { error: { code: status, message: error.message, status: rpc } } };
}
